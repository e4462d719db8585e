"""CDS Hooks JWT authentication: EHRs sign a short-lived JWT with a key registered with medai.

Checks follow the CDS Hooks 2.0 security model: asymmetric signature (RS384/ES384 and
kin) by a registered issuer, a ``kid`` in the header, ``aud`` equal to the invoked service's
URL (or the discovery endpoint), ``exp`` (at most ``cds_jwt_max_lifetime_seconds`` ahead),
``iat`` and a ``jti`` that is never accepted twice. Keys are only ever the ones registered with
``medai`` (``add_cds_client``): a ``jku`` or ``jwk`` in the header is never fetched nor trusted.
"""

from __future__ import annotations

import heapq
import threading
import time

import jwt
from fastapi import HTTPException, Request, status

from medai.store.accounts import Principal, cds_client_key

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]
_FAMILY = {"RSA": ["RS256", "RS384", "RS512"], "EC": ["ES256", "ES384", "ES512"]}
MAX_CLAIM_CHARS = 512
_seen_jti: dict[str, float] = {}
_jti_expiries: list[tuple[float, str]] = []  # a heap of (expiry, jti): forgetting expired ids costs O(log n) each
_jti_lock = threading.Lock()


def _reject(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, f"CDS Hooks JWT rejected: {message}", headers={"WWW-Authenticate": "Bearer"})


def _remember_jti(jti: str, expires: float) -> bool:
    """Remember a token id until it expires; False when it was already seen (a replay)."""
    now = time.time()
    with _jti_lock:
        while _jti_expiries and _jti_expiries[0][0] < now:
            _, old = heapq.heappop(_jti_expiries)
            _seen_jti.pop(old, None)
        if jti in _seen_jti:
            return False
        _seen_jti[jti] = expires
        heapq.heappush(_jti_expiries, (expires, jti))
        return True


def _check_header(token: str) -> None:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise _reject(f"malformed token ({error})") from None
    if header.get("alg") not in ALGORITHMS:
        raise _reject(f"algorithm {str(header.get('alg'))[:20]!r} is not allowed; use one of {', '.join(ALGORITHMS)}")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise _reject("the JWT header has no 'kid' (CDS Hooks requires one)")


def _issuer(token: str) -> str:
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise _reject(f"malformed token ({error})") from None
    issuer = unverified.get("iss")
    if not issuer:
        raise _reject("no 'iss' claim")
    if not isinstance(issuer, str) or len(issuer) > MAX_CLAIM_CHARS or "\x00" in issuer:
        raise _reject("the 'iss' claim must be a URL string")
    return issuer


def _key_family(public_key_pem: str) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(public_key_pem.encode())
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC"
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA"
    raise _reject(f"the issuer's registered {type(key).__name__} key is not supported; register an RSA or EC key")


def verify_cds_jwt(request: Request, token: str) -> Principal:
    """The EHR principal for a valid CDS Hooks JWT; 401 with the reason otherwise."""
    _check_header(token)
    issuer = _issuer(token)
    with request.app.state.engine.connect() as connection:
        key = cds_client_key(connection, issuer)
    if key is None:
        raise _reject(f"issuer {issuer[:200]!r} is not a registered CDS client")
    family = _key_family(key)
    algorithm = jwt.get_unverified_header(token)["alg"]
    if algorithm not in _FAMILY[family]:
        raise _reject(f"algorithm {algorithm!r} does not match the issuer's registered {family} key")
    base = request.app.state.settings.base_url.rstrip("/")
    audiences = [base + request.url.path, base + "/cds-services", str(request.url).split("?")[0]]
    try:
        claims = jwt.decode(token, key, algorithms=ALGORITHMS, audience=audiences, issuer=issuer,
                            options={"require": ["exp", "iat", "jti", "aud", "iss"]})
    except jwt.PyJWTError as error:
        raise _reject(str(error)) from None
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > MAX_CLAIM_CHARS:
        raise _reject("the 'jti' claim must be a non-empty string")
    max_lifetime = request.app.state.settings.cds_jwt_max_lifetime_seconds
    if float(claims["exp"]) > time.time() + max_lifetime:
        raise _reject(f"'exp' is more than {max_lifetime} seconds ahead; CDS Hooks JWTs must be short-lived")
    if not _remember_jti(jti, float(claims["exp"])):
        raise _reject("token replayed (jti already used)")
    return Principal(username=issuer, role="service")
