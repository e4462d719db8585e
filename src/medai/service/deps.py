"""Request dependencies: engine, settings, the authenticated principal, role checks and auditing."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import Engine

from medai.config import Settings
from medai.store import accounts
from medai.store.accounts import Principal
from medai.store.audit import AuditEvent, append

SESSION_COOKIE = "medai_session"


def get_engine(request: Request) -> Engine:
    """The database engine of this app."""
    return request.app.state.engine


def get_settings(request: Request) -> Settings:
    """The settings of this app."""
    return request.app.state.settings


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"})


def bearer_token(request: Request) -> str | None:
    """The bearer token from the Authorization header, else from the UI session cookie."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("Authorization must be 'Bearer <token>'")
        return token.strip()
    return request.cookies.get(SESSION_COOKIE)


def get_principal(request: Request) -> Principal:
    """The authenticated caller: a person's token, or an EHR's CDS Hooks JWT. 401 otherwise."""
    token = bearer_token(request)
    if not token:
        raise _unauthorized("authentication required: send 'Authorization: Bearer <token>'")
    if token.count(".") == 2 and not token.startswith(accounts.TOKEN_PREFIX):
        from medai.service.jwt_auth import verify_cds_jwt

        return verify_cds_jwt(request, token)
    with request.app.state.engine.connect() as connection:
        principal = accounts.principal_for_token(connection, token)
    if principal is None:
        raise _unauthorized("the token is invalid, expired or revoked")
    return principal


def require_roles(*roles: str) -> Callable[..., Principal]:
    """A dependency that lets only the given roles through (403 for others)."""

    def check(principal: Principal = Depends(get_principal)) -> Principal:
        if principal.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role!r} may not do this; allowed: {', '.join(roles)}")
        return principal

    check.allowed_roles = frozenset(roles)  # read by medai.service.security.access to build the authorisation matrix
    return check


def check_patient_access(principal: Principal, patient_id: str) -> None:
    """Patients see only their own record; 403 otherwise."""
    if principal.role == "patient" and principal.patient_id != patient_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "patients may only see their own record")


def audit(request: Request, principal: Principal, action: str, patient_id: str | None = None, outcome: str = "success",
          **fields) -> None:
    """Write one audit record for this request."""
    append(request.app.state.engine, AuditEvent(actor=principal.username, role=principal.role, action=action,
                                                patient_id=patient_id, outcome=outcome, **fields))


ANY_PERSON = ("clinician", "admin", "patient")
CLINICAL = ("clinician", "admin", "service")
