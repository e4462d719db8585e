"""Users, roles, tokens and their revocation."""

from datetime import timedelta

import pytest

from medai.errors import InvalidInput
from medai.store import accounts


def test_password_and_token_authentication(engine):
    with engine.begin() as connection:
        accounts.add_user(connection, "drsmith", "clinician", password="s3cret")
        assert accounts.authenticate_password(connection, "drsmith", "s3cret").role == "clinician"
        assert accounts.authenticate_password(connection, "drsmith", "wrong") is None
        token_id, secret = accounts.issue_token(connection, "drsmith")
        assert accounts.principal_for_token(connection, secret).username == "drsmith"
        accounts.revoke_token(connection, token_id)
        assert accounts.principal_for_token(connection, secret) is None


def test_expired_tokens_are_refused(engine):
    with engine.begin() as connection:
        accounts.add_user(connection, "nurse", "clinician", password="x")
        _, secret = accounts.issue_token(connection, "nurse", ttl=timedelta(seconds=-1))
        assert accounts.principal_for_token(connection, secret) is None


def test_roles_are_checked(engine):
    with engine.begin() as connection:
        with pytest.raises(InvalidInput, match="role must be one of"):
            accounts.add_user(connection, "x", "superuser")
        with pytest.raises(InvalidInput, match="own Patient"):
            accounts.add_user(connection, "y", "patient")
