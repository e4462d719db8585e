"""``medai backup`` and ``medai restore``: a verified, portable snapshot of the database and its restore."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)


def backup(out: Path = typer.Option(..., help="The archive to write (a .tar.gz; written beside it, then renamed)."),
           database_url: str | None = typer.Option(None, help="Overrides MEDAI_DATABASE_URL.")) -> None:
    """Write a consistent snapshot of every medai table, the audit chain included, with row counts and sha256."""
    from medai.config import get_settings
    from medai.store.backup import BackupError
    from medai.store.backup import backup as write_backup

    url = database_url or get_settings().resolved_database_url()
    try:
        manifest = write_backup(url, out)
    except BackupError as error:
        err_console.print(f"[red]backup failed[/]: {error}")
        raise typer.Exit(1) from None
    rows = sum(t["rows"] for t in manifest["tables"].values())
    console.print(f"backup written to {out}: {len(manifest['tables'])} tables, {rows} rows, "
                  f"{manifest['tables']['audit_log']['rows']} audit records")


def restore(archive: Path = typer.Argument(..., exists=True, dir_okay=False, help="An archive written by `medai backup`."),
            database_url: str = typer.Option(..., help="The database to restore into (must be empty unless --force)."),
            force: bool = typer.Option(False, help="Replace the contents of a non-empty target database.")) -> None:
    """Restore a backup: check its hashes and row counts, load it in one transaction, verify the audit chain."""
    from medai.store.backup import BackupError
    from medai.store.backup import restore as load_backup

    try:
        report = load_backup(archive, database_url, force=force)
    except BackupError as error:
        err_console.print(f"[red]restore refused[/]: {error}")
        raise typer.Exit(1) from None
    table = Table("table", "rows", title="restored and verified")
    for name, rows in report.tables.items():
        if rows:
            table.add_row(name, str(rows))
    console.print(table)
    console.print(f"[green]audit log intact[/]: {report.audit_records} records verified")


def register(app: typer.Typer) -> None:
    """Add ``backup`` and ``restore`` to the ``medai`` command line."""
    app.command("backup")(backup)
    app.command("restore")(restore)
