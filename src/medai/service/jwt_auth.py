"""CDS Hooks JWT authentication: EHRs sign a short-lived JWT with a key registered with medai.

Checks follow the CDS Hooks 2.0 security model: asymmetric signature (RS384/ES384 and
kin) by a registered issuer, ``aud`` equal to the invoked service's URL (or the
discovery endpoint), ``exp``, ``iat`` and a ``jti`` that is never accepted twice.
"""

from __future__ import annotations

import threading
import time

import jwt
from fastapi import HTTPException, Request, status

from medai.store.accounts import Principal, cds_client_key

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]
_seen_jti: dict[str, float] = {}
_jti_lock = threading.Lock()


def _reject(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, f"CDS Hooks JWT rejected: {message}", headers={"WWW-Authenticate": "Bearer"})


def _remember_jti(jti: str, expires: float) -> bool:
    now = time.time()
    with _jti_lock:
        for key in [k for k, exp in _seen_jti.items() if exp < now]:
            del _seen_jti[key]
        if jti in _seen_jti:
            return False
        _seen_jti[jti] = expires
        return True


def verify_cds_jwt(request: Request, token: str) -> Principal:
    """The EHR principal for a valid CDS Hooks JWT; 401 with the reason otherwise."""
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise _reject(f"malformed token ({error})") from None
    issuer = unverified.get("iss")
    if not issuer:
        raise _reject("no 'iss' claim")
    with request.app.state.engine.connect() as connection:
        key = cds_client_key(connection, issuer)
    if key is None:
        raise _reject(f"issuer {issuer!r} is not a registered CDS client")
    base = request.app.state.settings.base_url.rstrip("/")
    audiences = [base + request.url.path, base + "/cds-services", str(request.url).split("?")[0]]
    try:
        claims = jwt.decode(token, key, algorithms=ALGORITHMS, audience=audiences, issuer=issuer,
                            options={"require": ["exp", "iat", "jti", "aud", "iss"]})
    except jwt.PyJWTError as error:
        raise _reject(str(error)) from None
    if not _remember_jti(claims["jti"], float(claims["exp"])):
        raise _reject("token replayed (jti already used)")
    return Principal(username=issuer, role="service")
