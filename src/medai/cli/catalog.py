"""``medai datasets`` and ``medai models``: what data and models are available."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

datasets_app = typer.Typer(help="Public datasets medai reads.", no_args_is_help=True)
models_app = typer.Typer(help="Model packages: shipped and user-installed.", no_args_is_help=True)
console = Console()


@datasets_app.command("list")
def datasets_list(root: Path | None = typer.Option(None, help="Data root (default: MEDAI_DATA_DIR).")) -> None:
    """List known datasets, whether they were found, and their licences."""
    from medai.datasets.registry import DATASETS, DatasetNotFound, locate

    table = Table("dataset", "found at", "licence")
    for name, dataset in DATASETS.items():
        try:
            where = str(locate(name, root))
        except DatasetNotFound:
            where = "[yellow]not found[/]"
        table.add_row(name, where, dataset.licence)
    console.print(table)


@datasets_app.command("verify")
def datasets_verify(name: str | None = typer.Argument(None, help="One dataset (default: every one found)."),
                    root: Path | None = typer.Option(None, help="Data root (default: MEDAI_DATA_DIR).")) -> None:
    """Check dataset files against their recorded sha256."""
    from medai.datasets.registry import DATASETS, DatasetNotFound, verify

    bad = False
    for dataset in [name] if name else list(DATASETS):
        try:
            results = verify(dataset, root)
        except DatasetNotFound as error:
            console.print(f"[yellow]{dataset}[/]: {error}")
            bad = bad or name is not None
            continue
        for file, ok in results.items():
            console.print(f"{dataset}/{file}: " + ("[green]ok[/]" if ok else "[red]sha256 mismatch[/]"))
            bad = bad or not ok
    if bad:
        raise typer.Exit(1)


@models_app.command("list")
def models_list() -> None:
    """List model packages with their status (a broken package shows its error)."""
    from medai.models import default_registry

    table = Table("name", "version", "task", "source", "status")
    for summary in default_registry().list():
        table.add_row(summary.name or "?", summary.version or "?", summary.task or "", summary.source,
                      "[green]ok[/]" if summary.ok else f"[red]{summary.error}[/]")
    console.print(table)


@models_app.command("show")
def models_show(name: str, html: Path | None = typer.Option(None, help="Also write the card as HTML here.")) -> None:
    """Show a model's card (Markdown) and its identity."""
    from medai.models import default_registry, render_html, render_markdown

    package = default_registry().get(name)
    console.print(render_markdown(package.card, package.path))
    console.print(package.identity())
    if html:
        html.write_text(render_html(package.card, package.path), encoding="utf-8")
        console.print(f"card written to {html}")


@models_app.command("build-news2")
def models_build_news2(out: Path = typer.Argument(..., help="Folder to create for the package."),
                       data: Path | None = typer.Option(None, help="Data root holding physionet2019/ (default: MEDAI_DATA_DIR)."),
                       n_boot: int = typer.Option(200, help="Bootstrap resamples for the 95% CIs.")) -> None:
    """Validate NEWS2 on PhysioNet 2019 hospital A and write its model package (card, plots, manifest)."""
    from medai.risk.news2_validation import build_package

    with console.status("Scoring NEWS2 hourly on every patient of hospital A and bootstrapping CIs..."):
        path = build_package(out, data, n_boot=n_boot)
    console.print(f"package written to {path}")


@models_app.command("install")
def models_install(path: Path = typer.Argument(..., exists=True, file_okay=False, help="A model package folder."),
                   models_dir: Path | None = typer.Option(None, "--dir",
                                                          help="Install here (default: first MEDAI_MODEL_DIRS, else <home>/models)."),
                   force: bool = typer.Option(False, help="Replace an installed package of the same name and version.")) -> None:
    """Verify a package's manifest hashes and install it atomically (an interrupted install leaves no half package)."""
    from medai.models import ModelPackageError
    from medai.models.install import install_package

    try:
        result = install_package(path, models_dir, force=force)
    except ModelPackageError as error:
        console.print(f"[red]install refused[/]: {error}")
        raise typer.Exit(1) from None
    package = result.package
    console.print(f"{package.name} {package.version} {result.action} at {package.path} (weights sha256 {package.weights_sha256[:12]}…)")
