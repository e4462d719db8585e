"""``medai users``, ``tokens``, ``clients`` and ``audit``: accounts and the audit trail."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

users_app = typer.Typer(help="People who use medai and their roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="Bearer tokens (API keys) for people and scripts.", no_args_is_help=True)
clients_app = typer.Typer(help="EHRs allowed to call CDS Hooks with signed JWTs.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
console = Console()


def _engine():
    from medai.store.db import open_database

    return open_database()


@users_app.command("add")
def users_add(username: str, role: str = typer.Option(..., help="clinician, patient, admin or service"),
              password: str | None = typer.Option(None, help="Password for the web sign-in (prompted if omitted).", prompt=True,
                                                  hide_input=True, confirmation_prompt=True),
              patient_id: str | None = typer.Option(None, help="For role 'patient': their own Patient id.")) -> None:
    """Create a user."""
    from medai.store.accounts import add_user

    with _engine().begin() as connection:
        add_user(connection, username, role, password or None, patient_id)
    console.print(f"user {username} ({role}) created")


@users_app.command("list")
def users_list() -> None:
    """List users and roles."""
    from medai.store.accounts import list_users

    table = Table("username", "role", "patient id", "active")
    with _engine().connect() as connection:
        for user in list_users(connection):
            table.add_row(user["username"], user["role"], user["patient_id"] or "", str(user["active"]))
    console.print(table)


@tokens_app.command("issue")
def tokens_issue(username: str, label: str | None = None,
                 days: int | None = typer.Option(None, help="Expire after this many days (default: never).")) -> None:
    """Issue an API key for a user; the secret is shown once."""
    from medai.store.accounts import issue_token

    with _engine().begin() as connection:
        token_id, secret = issue_token(connection, username, label=label, ttl=timedelta(days=days) if days else None)
    console.print(f"token id: {token_id}")
    print(secret)


@tokens_app.command("revoke")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token by id."""
    from medai.store.accounts import revoke_token

    with _engine().begin() as connection:
        revoke_token(connection, token_id)
    console.print(f"token {token_id} revoked")


@tokens_app.command("list")
def tokens_list(username: str | None = None) -> None:
    """List tokens (never their secrets)."""
    from medai.store.accounts import list_tokens

    table = Table("id", "user", "kind", "label", "created", "expires", "revoked")
    with _engine().connect() as connection:
        for t in list_tokens(connection, username):
            table.add_row(t["id"], t["username"], t["kind"], t["label"] or "", str(t["created"])[:19],
                          str(t["expires"] or "")[:19], str(t["revoked"] or "")[:19])
    console.print(table)


@clients_app.command("add")
def clients_add(issuer: str = typer.Argument(..., help="The EHR's JWT 'iss' value."),
                public_key: Path = typer.Option(..., exists=True, help="PEM file of the EHR's public key.")) -> None:
    """Register an EHR whose signed JWTs may call the CDS services."""
    from medai.store.accounts import add_cds_client

    with _engine().begin() as connection:
        add_cds_client(connection, issuer, public_key.read_text())
    console.print(f"CDS client {issuer} registered")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the audit hash chain; exit 1 if any record was edited or deleted."""
    from medai.store.audit import verify

    with _engine().connect() as connection:
        report = verify(connection)
    if report.ok:
        console.print(f"[green]audit log intact[/]: {report.checked} records verified")
        return
    console.print(f"[red]audit log tampered[/] ({report.checked} records checked):")
    for problem in report.problems:
        console.print(f"  - {problem}")
    raise typer.Exit(1)


@audit_app.command("tail")
def audit_tail(limit: int = 20) -> None:
    """Show the latest audit records."""
    from medai.store.audit import recent

    table = Table("seq", "time", "actor", "role", "action", "patient", "model", "outcome")
    with _engine().connect() as connection:
        for row in recent(connection, limit):
            table.add_row(str(row["seq"]), str(row["time"])[:19], row["actor"], row["role"], row["action"],
                          row["patient_id"] or "", f"{row['model_id'] or ''} {row['model_version'] or ''}", row["outcome"])
    console.print(table)
