"""Sign-in for people: OAuth2 password flow issuing revocable bearer tokens."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordRequestForm

from medai.service.deps import ANY_PERSON, audit, bearer_token, require_roles
from medai.store import accounts
from medai.store.accounts import Principal

router = APIRouter(prefix="/auth", tags=["auth"])


def _throttle_keys(request: Request, username: str) -> list[str]:
    client = request.client.host if request.client else "unknown"
    return [f"client:{client}", f"user:{username.strip().lower()[:128]}"]


def password_sign_in(request: Request, username: str, password: str) -> tuple[Principal, str]:
    """Check a password and issue a session token; 401 (and an audit record) when wrong, 429 with
    Retry-After once a username or client address has failed too often (no password is checked then)."""
    engine = request.app.state.engine
    failures = request.app.state.sign_in_failures
    keys = _throttle_keys(request, username)
    wait = max(failures.retry_after(key) for key in keys)
    if wait:
        audit(request, Principal(username[:128], "unknown"), "sign-in", outcome="throttled")
        raise HTTPException(429, f"too many failed sign-ins; try again in {wait} seconds", headers={"Retry-After": str(wait)})
    with engine.begin() as connection:
        principal = accounts.authenticate_password(connection, username, password)
        if principal is None:
            for key in keys:
                failures.fail(key)
            audit(request, Principal(username[:128], "unknown"), "sign-in", outcome="denied")
            raise HTTPException(401, "wrong username or password", headers={"WWW-Authenticate": "Bearer"})
        _, token = accounts.issue_token(connection, username, kind="session",
                                        ttl=timedelta(hours=request.app.state.settings.token_ttl_hours))
    failures.clear(keys[1])
    audit(request, principal, "sign-in")
    return principal, token


@router.post("/token")
def token(request: Request, form: OAuth2PasswordRequestForm = Depends()) -> dict:
    """OAuth2 password flow: exchange a username and password for a bearer token."""
    principal, secret = password_sign_in(request, form.username, form.password)
    return {"access_token": secret, "token_type": "bearer", "role": principal.role,
            "expires_in": request.app.state.settings.token_ttl_hours * 3600}


@router.post("/revoke")
def revoke_own(request: Request, principal: Principal = Depends(require_roles(*ANY_PERSON))) -> dict:
    """Revoke the token this request was made with (sign out)."""
    import hashlib

    from sqlalchemy import select

    from medai.store.schema import tokens

    digest = hashlib.sha256((bearer_token(request) or "").encode()).hexdigest()
    with request.app.state.engine.begin() as connection:
        token_id = connection.execute(select(tokens.c.id).where(tokens.c.token_sha256 == digest)).scalar_one()
        accounts.revoke_token(connection, token_id)
    audit(request, principal, "sign-out")
    return {"revoked": token_id}
