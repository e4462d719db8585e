"""The authorisation matrix, generated from the app's routes: every route x every role x every bad token.

Used by ``tests/security/test_authz_matrix.py`` and ``benchmarks/reliability.py``. Who may call a
route comes from the route itself (``medai.service.security.access.route_access``), never a hand list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from medai.service.security.access import RouteAccess, route_access
from medai.store.accounts import ROLES

BAD_TOKENS = ("none", "expired", "revoked", "forged", "forged-jwt", "expired-jwt")


@dataclass
class Finding:
    """One request whose answer broke a rule."""

    method: str
    path: str
    who: str
    status: int
    rule: str

    def __str__(self) -> str:
        return f"{self.method} {self.path} as {self.who} -> {self.status}: {self.rule}"


@dataclass
class MatrixResult:
    """How many requests were made and which broke a rule."""

    requests: int = 0
    routes: int = 0
    findings: list[Finding] = field(default_factory=list)


def path_values(service, patient_id: str) -> dict[str, str]:
    """Values for path parameters: real ids where the service has them, an unknown id otherwise."""
    app = service.client.app
    cds = sorted(app.state.cds_services) or ["none"]
    return {"patient_id": patient_id, "resource_type": "Patient", "resource_id": patient_id, "service_id": cds[0],
            "name": "warfarin-dose"}


def fill(route: RouteAccess, values: dict[str, str]) -> str:
    """The route's path with every ``{param}`` replaced."""
    return re.sub(r"\{([^}:]+)(:[^}]*)?\}", lambda m: values.get(m.group(1), "unknown-id"), route.path)


def _fresh_token(service, role: str) -> str:
    """A new token for the role's user (a route may revoke the token it was called with, e.g. sign-out)."""
    from medai.store.accounts import issue_token

    with service.client.app.state.engine.begin() as connection:
        return issue_token(connection, role)[1]


def _headers(service, who: str, bad: dict[str, str]) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    token = _fresh_token(service, who) if who in service.tokens else bad.get(who)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _leaks(text: str, service) -> bool:
    """Whether a response shows anything of the patient the patient user may not see."""
    sick = service.sick_patient
    return sick in text or f"MRN-{sick[:6]}" in text


def run_matrix(service, bad: dict[str, str], roles=ROLES, bad_tokens=BAD_TOKENS) -> MatrixResult:
    """Call every route as every role and with every bad token; collect rule violations."""
    client = service.client
    result = MatrixResult()
    routes = [r for r in route_access(client.app) if not r.path.startswith(("/ui/static",))]
    result.routes = len(routes)

    def call(route: RouteAccess, who: str, path: str):
        result.requests += 1
        client.cookies.clear()
        response = client.request(route.method, path, headers=_headers(service, who, bad), content=b"{}",
                                  follow_redirects=False)
        if response.status_code >= 500:
            result.findings.append(Finding(route.method, path, who, response.status_code, "server error"))
        return response

    for route in routes:
        path = fill(route, path_values(service, service.well_patient))
        for who in bad_tokens:
            response = call(route, who, path)
            if route.guard == "roles" and response.status_code != 401:
                result.findings.append(Finding(route.method, path, who, response.status_code, "expected 401"))
            if route.guard == "session" and response.status_code not in (303, 401):
                result.findings.append(Finding(route.method, path, who, response.status_code, "expected sign-in redirect"))
            if _leaks(response.text, service) or service.well_patient in response.text:
                result.findings.append(Finding(route.method, path, who, response.status_code, "patient data without sign-in"))
        for role in roles:
            response = call(route, role, path)
            code = response.status_code
            if route.guard == "roles" and not route.allows(role) and code != 403:
                result.findings.append(Finding(route.method, path, role, code, f"expected 403 (allowed: {sorted(route.roles)})"))
            if route.guard == "roles" and route.allows(role) and code == 401:
                result.findings.append(Finding(route.method, path, role, code, "allowed role refused with 401"))
            if role == "patient" and _leaks(response.text, service):
                result.findings.append(Finding(route.method, path, role, code, "patient sees another patient's data"))
        if "patient" in route.roles or route.guard == "session":
            _cross_patient(route, call, service, result)
    return result


def _cross_patient(route: RouteAccess, call, service, result: MatrixResult) -> None:
    """A patient asking for the other patient's record by path or query is refused (403/404), and sees nothing of it."""
    other = path_values(service, service.sick_patient)
    if {"patient_id", "resource_id"} & set(route.path_params):
        path = fill(route, other)
    elif "patient" in route.query_params:
        path = fill(route, path_values(service, service.well_patient)) + f"?patient={service.sick_patient}"
    else:
        return
    response = call(route, "patient", path)
    if (response.status_code < 400 and route.method == "GET") or _leaks(response.text, service):
        result.findings.append(Finding(route.method, path, "patient", response.status_code,
                                       "patient reached another patient's record"))
