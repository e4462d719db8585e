"""Security headers on every response, and the CORS policy for browsers on other origins."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medai.config import Settings

DOCS_PATHS = ("/docs", "/redoc")
# FastAPI's interactive docs load Swagger UI / ReDoc from a CDN and start them with an inline script.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
            "worker-src 'self' blob:; object-src 'none'; frame-ancestors 'none'")
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(settings: Settings, path: str, https: bool) -> dict[str, str]:
    """The headers added to a response for ``path`` (HSTS only over HTTPS)."""
    headers = {
        "Content-Security-Policy": DOCS_CSP if path.startswith(DOCS_PATHS) else settings.content_security_policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",  # UI paths carry patient ids
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if not path.startswith("/ui/static"):
        headers["Cache-Control"] = "no-store"  # responses may hold patient data
    if https:
        headers["Strict-Transport-Security"] = HSTS
    return headers


class SecurityHeaders:
    """ASGI middleware adding :func:`security_headers` to every HTTP response (never overriding the app's own)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https" or self.settings.base_url.startswith("https://")
        extra = security_headers(self.settings, scope.get("path", ""), https)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)


def install_http_hardening(app: FastAPI, settings: Settings) -> None:
    """Security headers and (only when origins are configured) CORS; call after the other middleware (outermost)."""
    app.add_middleware(SecurityHeaders, settings=settings)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_credentials=False,
                           allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"], max_age=600)
