"""CDS Hooks JWTs (security model of CDS Hooks 2.0): every malformed, forged or replayed token is 401 with a reason."""

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.security.conftest import EHR, sign_jwt

SERVICE = "news2-deterioration"
AUDIENCE = f"http://testserver/cds-services/{SERVICE}"


def _hook(patient: str) -> dict:
    return {"hook": "patient-view", "hookInstance": str(uuid.uuid4()), "context": {"userId": "Practitioner/1", "patientId": patient}}


def _call(service, token: str):
    return service.client.post(f"/cds-services/{SERVICE}", json=_hook(service.sick_patient), headers={"Authorization": f"Bearer {token}"})


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _unsigned(alg: str = "none") -> str:
    now = int(time.time())
    claims = {"iss": EHR, "aud": AUDIENCE, "exp": now + 300, "iat": now, "jti": str(uuid.uuid4())}
    return f"{_b64({'alg': alg, 'typ': 'JWT', 'kid': 'ehr-1'})}.{_b64(claims)}."


def test_valid_jwt_is_accepted(service, ehr_key):
    assert _call(service, sign_jwt(ehr_key, AUDIENCE)).status_code == 200


@pytest.mark.parametrize("case,fragment", [
    ("alg-none", "algorithm 'none' is not allowed"),
    ("alg-None", "algorithm 'None' is not allowed"),
    ("hs256-with-public-key", "algorithm 'HS256' is not allowed"),
    ("wrong-key", "signature verification failed"),
    ("wrong-key-rsa", "does not match the issuer's registered ec key"),
    ("expired", "expired"),
    ("wrong-audience", "audience"),
    ("no-audience", "aud"),
    ("unknown-issuer", "not a registered cds client"),
    ("no-issuer", "no 'iss' claim"),
    ("issuer-not-a-string", "'iss' claim must be"),
    ("no-jti", "jti"),
    ("jti-not-a-string", "jwt id must be a string"),
    ("no-exp", "exp"),
    ("long-lived", "short-lived"),
    ("iat-in-future", "not yet valid"),
    ("no-kid", "no 'kid'"),
    ("jku-to-attacker-key", "signature verification failed"),
    ("garbage", "malformed"),
    ("tampered-payload", "signature verification failed"),
])
def test_bad_jwts_are_401_with_a_reason(service, ehr_key, case, fragment):
    attacker = ec.generate_private_key(ec.SECP384R1())
    now = int(time.time())
    public_pem = ehr_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    token = {
        "alg-none": lambda: _unsigned("none"),
        "alg-None": lambda: _unsigned("None"),
        "hs256-with-public-key": lambda: _unsigned("HS256"),
        "wrong-key": lambda: sign_jwt(attacker, AUDIENCE),
        "wrong-key-rsa": lambda: sign_jwt(rsa.generate_private_key(65537, 2048), AUDIENCE, algorithm="RS384"),
        "expired": lambda: sign_jwt(ehr_key, AUDIENCE, exp=now - 120, iat=now - 420),
        "wrong-audience": lambda: sign_jwt(ehr_key, "http://elsewhere.example/cds-services/x"),
        "no-audience": lambda: sign_jwt(ehr_key, AUDIENCE, aud=None),
        "unknown-issuer": lambda: sign_jwt(ehr_key, AUDIENCE, issuer="https://unknown.example.org"),
        "no-issuer": lambda: sign_jwt(ehr_key, AUDIENCE, iss=None),
        "issuer-not-a-string": lambda: _raw(ehr_key, {"iss": [EHR], "aud": AUDIENCE, "exp": now + 300, "iat": now, "jti": "j"}),
        "no-jti": lambda: sign_jwt(ehr_key, AUDIENCE, jti=None),
        "jti-not-a-string": lambda: sign_jwt(ehr_key, AUDIENCE, jti={"a": 1}),
        "no-exp": lambda: sign_jwt(ehr_key, AUDIENCE, exp=None),
        "long-lived": lambda: sign_jwt(ehr_key, AUDIENCE, exp=now + 30 * 24 * 3600),
        "iat-in-future": lambda: sign_jwt(ehr_key, AUDIENCE, iat=now + 3600, exp=now + 3900),
        "no-kid": lambda: sign_jwt(ehr_key, AUDIENCE, headers={}),
        "jku-to-attacker-key": lambda: sign_jwt(attacker, AUDIENCE, headers={"kid": "evil", "jku": "https://attacker.example/jwks.json"}),
        "garbage": lambda: "abc.def.ghi",
        "tampered-payload": lambda: _tamper(sign_jwt(ehr_key, AUDIENCE)),
    }[case]()
    if case == "hs256-with-public-key":  # the classic algorithm-confusion attack: HMAC keyed with the public key
        signing_input = token.rsplit(".", 1)[0]
        mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    response = _call(service, token)
    assert response.status_code == 401, (case, response.status_code, response.text)
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    diagnostics = body["issue"][0]["diagnostics"]
    assert fragment.lower() in diagnostics.lower(), diagnostics


def _raw(key, claims: dict) -> str:
    """A token signed over claims PyJWT's encoder would refuse."""
    return jwt.api_jws.encode(json.dumps(claims).encode(), key, algorithm="ES384", headers={"kid": "ehr-1"})


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["iss"] = EHR
    claims["sub"] = "someone-else"
    return f"{header}.{_b64(claims)}.{signature}"


def test_replayed_jti_is_401(service, ehr_key):
    token = sign_jwt(ehr_key, AUDIENCE)
    assert _call(service, token).status_code == 200
    replay = _call(service, token)
    assert replay.status_code == 401 and "replayed" in replay.text


def test_jwt_for_another_service_url_is_401(service, ehr_key):
    token = sign_jwt(ehr_key, "http://testserver/cds-services/some-other-service")
    assert _call(service, token).status_code == 401


def test_jwt_principal_cannot_reach_admin_routes(service, ehr_key):
    token = sign_jwt(ehr_key, "http://testserver/cds-services")
    response = service.client.get("/api/audit", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
