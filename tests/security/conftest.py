"""The service with one user per role and two patients (see tests/service/conftest.py), plus bad tokens."""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from medai.store.accounts import add_cds_client, issue_token, revoke_token
from tests.service.conftest import service  # noqa: F401  (the fixture, shared)

EHR = "https://ehr.example.org"


def sign_jwt(key, audience: str, issuer: str = EHR, headers: dict | None = None, algorithm: str = "ES384", **claims) -> str:
    """A CDS Hooks JWT as an EHR would send it (claims override the defaults; None drops one)."""
    now = int(time.time())
    payload = {"iss": issuer, "sub": "ehr-client", "aud": audience, "exp": now + 300, "iat": now, "jti": str(uuid.uuid4())}
    payload = {k: v for k, v in (payload | claims).items() if v is not None}
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": "ehr-1"} if headers is None else headers)


@pytest.fixture
def ehr_key(service):
    """The private key of a registered EHR (its public key is registered with the service)."""
    key = ec.generate_private_key(ec.SECP384R1())
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with service.client.app.state.engine.begin() as connection:
        add_cds_client(connection, EHR, pem)
    return key


@pytest.fixture
def bad_tokens(service, ehr_key) -> dict[str, str]:
    """Tokens that must never get in: expired, revoked, forged (random, and a JWT signed by another key), expired JWT."""
    with service.client.app.state.engine.begin() as connection:
        _, expired = issue_token(connection, "clinician", kind="session", ttl=timedelta(seconds=-1))
        token_id, revoked = issue_token(connection, "admin")
        revoke_token(connection, token_id)
    attacker = ec.generate_private_key(ec.SECP384R1())
    audience = "http://testserver/cds-services"
    return {"expired": expired, "revoked": revoked, "forged": "mdk_" + secrets.token_urlsafe(32),
            "forged-jwt": sign_jwt(attacker, audience),
            "expired-jwt": sign_jwt(ehr_key, audience, exp=int(time.time()) - 60, iat=int(time.time()) - 400)}
