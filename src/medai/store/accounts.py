"""People, their roles and bearer tokens; EHR clients allowed to call CDS Hooks.

Passwords are hashed with scrypt (Python's standard library) and tokens are stored
only as SHA-256 digests, so a copy of the database reveals neither.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection, insert, select, update

from medai.errors import InvalidInput, NotFound, Problem
from medai.store.schema import cds_clients, tokens, users

ROLES = ("clinician", "patient", "admin", "service")
TOKEN_PREFIX = "mdk_"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    username: str
    role: str
    patient_id: str | None = None


def _hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def _check_password(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    _, salt, _ = stored.split("$")
    return hmac.compare_digest(_hash_password(password, bytes.fromhex(salt)), stored)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def add_user(connection: Connection, username: str, role: str, password: str | None = None, patient_id: str | None = None) -> None:
    """Create a user; patients must name the patient record they may see."""
    if role not in ROLES:
        raise InvalidInput(Problem("role", f"role must be one of {', '.join(ROLES)}", "value"))
    if role == "patient" and not patient_id:
        raise InvalidInput(Problem("patient_id", "a patient user needs the id of their own Patient record", "required"))
    if connection.execute(select(users.c.username).where(users.c.username == username)).first():
        raise InvalidInput(Problem("username", f"user {username!r} already exists", "duplicate"))
    connection.execute(insert(users), {"username": username, "role": role, "patient_id": patient_id, "active": True,
                                       "password_hash": _hash_password(password) if password else None, "created": _now()})


def list_users(connection: Connection) -> list[dict]:
    """All users without their password hashes."""
    return [dict(r) for r in connection.execute(select(users.c.username, users.c.role, users.c.patient_id, users.c.active)).mappings()]


def authenticate_password(connection: Connection, username: str, password: str) -> Principal | None:
    """The principal for a correct username and password, else None."""
    row = connection.execute(select(users).where(users.c.username == username, users.c.active.is_(True))).mappings().first()
    if row is None or not _check_password(password, row["password_hash"]):
        return None
    return Principal(row["username"], row["role"], row["patient_id"])


def issue_token(connection: Connection, username: str, kind: str = "api-key", label: str | None = None,
                ttl: timedelta | None = None) -> tuple[str, str]:
    """Issue a bearer token for a user; returns (token id, secret token shown once)."""
    if connection.execute(select(users.c.username).where(users.c.username == username)).first() is None:
        raise NotFound(f"user {username!r}")
    token_id = secrets.token_hex(8)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    connection.execute(insert(tokens), {"id": token_id, "username": username, "kind": kind, "label": label,
                                        "token_sha256": hashlib.sha256(secret.encode()).hexdigest(), "created": _now(),
                                        "expires": _now() + ttl if ttl else None})
    return token_id, secret


def revoke_token(connection: Connection, token_id: str) -> None:
    """Revoke a token by id (it stops working at once)."""
    result = connection.execute(update(tokens).where(tokens.c.id == token_id, tokens.c.revoked.is_(None)).values(revoked=_now()))
    if result.rowcount == 0:
        raise NotFound(f"active token {token_id!r}")


def list_tokens(connection: Connection, username: str | None = None) -> list[dict]:
    """Tokens (never their secrets), optionally of one user."""
    query = select(tokens.c.id, tokens.c.username, tokens.c.kind, tokens.c.label, tokens.c.created, tokens.c.expires, tokens.c.revoked)
    if username:
        query = query.where(tokens.c.username == username)
    return [dict(r) for r in connection.execute(query).mappings()]


def principal_for_token(connection: Connection, secret: str) -> Principal | None:
    """The principal a bearer token belongs to, if it is valid, unexpired and unrevoked."""
    digest = hashlib.sha256(secret.encode()).hexdigest()
    row = connection.execute(select(tokens.c.expires, tokens.c.revoked, users.c.username, users.c.role, users.c.patient_id)
                             .join(users, users.c.username == tokens.c.username)
                             .where(tokens.c.token_sha256 == digest, users.c.active.is_(True))).mappings().first()
    if row is None or row["revoked"] is not None:
        return None
    expires = _aware(row["expires"])
    if expires is not None and expires < _now():
        return None
    return Principal(row["username"], row["role"], row["patient_id"])


def add_cds_client(connection: Connection, issuer: str, public_key_pem: str) -> None:
    """Register an EHR (JWT issuer) and the public key its CDS Hooks JWTs are signed with."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        load_pem_public_key(public_key_pem.encode())
    except ValueError:
        raise InvalidInput(Problem("public_key", "not a PEM-encoded public key", "value")) from None
    connection.execute(insert(cds_clients), {"issuer": issuer, "public_key_pem": public_key_pem, "active": True, "created": _now()})


def cds_client_key(connection: Connection, issuer: str) -> str | None:
    """The registered public key of an active CDS Hooks client."""
    row = connection.execute(select(cds_clients.c.public_key_pem).where(cds_clients.c.issuer == issuer, cds_clients.c.active.is_(True))).first()
    return row[0] if row else None
