"""HTTP hardening: security headers, CORS, body-size limits, sign-in throttling, the route access map."""
