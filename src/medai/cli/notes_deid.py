"""``medai notes deid``: de-identify note files (the evaluation interface of medai.privacy).

For each input text file it writes ``<out>/<name>`` (the redacted text) and ``<out>/<name>.phi.json``
(a list of ``{start, end, type, text, source, score, replacement}`` with offsets in the original).
A file that cannot be read is named on stderr; the others are still processed and the exit code is 1.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

err_console = Console(stderr=True)


def _inputs(paths: list[Path]) -> list[Path]:
    """Files as given; folders expand to the ``*.txt`` files inside them (sorted)."""
    files = []
    for path in paths:
        files += sorted(p for p in path.rglob("*.txt") if p.is_file()) if path.is_dir() else [path]
    return files


def deid(inputs: list[Path] = typer.Argument(..., exists=True, help="Note text files, or folders of *.txt files."),
         out: Path = typer.Option(..., "--out", help="Output folder (created if missing)."),
         mode: str = typer.Option("mask", "--mode", help="mask: [NAME]-style tags; surrogate: consistent fake values."),
         key: str | None = typer.Option(None, "--key", "--seed", envvar="MEDAI_DEID_KEY",
                                        help="Secret for reproducible surrogates (required with --mode surrogate)."),
         patient_id: str | None = typer.Option(None, "--patient-id",
                                               help="Shift all files' dates by this patient's offset (default: per file)."),
         rules_only: bool = typer.Option(False, "--rules-only", help="Skip the learned tagger: rules alone, ambiguous patterns (8/23) then redact too."),
         ray: bool = typer.Option(False, "--ray", help="Score on Ray into a folder of partitions + _summary.json "
                                                  "(resumable); also reads Bulk NDJSON DocumentReferences."),
         ray_address: str | None = typer.Option(None, help="Ray cluster to join (implies --ray; default RAY_ADDRESS, "
                                                      "else a local Ray)."),
         ray_workers: int = typer.Option(2, min=1, help="Ray workers (one model copy each).")) -> None:
    """De-identify free-text notes: masks or consistent surrogates, and the PHI spans as JSON."""
    from medai.privacy.text import Deidentifier

    if mode not in ("mask", "surrogate"):
        raise typer.BadParameter("use 'mask' or 'surrogate'", param_hint="--mode")
    if mode == "surrogate" and not key:
        raise typer.BadParameter("surrogate mode needs --key (or MEDAI_DEID_KEY); keep it to reproduce the surrogates",
                                 param_hint="--key")
    if ray or ray_address:
        from medai.distributed.cli import run_on_ray
        from medai.distributed.notes import NotesJob

        job = NotesJob(tuple(map(str, inputs)), task="deid", use_tagger=not rules_only, mode=mode, key=key)
        run_on_ray(job, out, ray_address, ray_workers, err_console)
        return
    deidentifier = Deidentifier(mode=mode, key=key, use_tagger=not rules_only)
    files = _inputs(inputs)
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, disable=len(files) < 2) as progress:
        task = progress.add_task("De-identifying", total=len(files))
        for path in files:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                err_console.print(f"[red]error[/] {path}: cannot read as UTF-8 text ({exc})")
                failed += 1
                progress.advance(task)
                continue
            result = deidentifier.deidentify(text, patient_id or path.stem)
            (out / path.name).write_text(result.text, encoding="utf-8")
            spans = [r.to_dict() for r in result.replacements]
            (out / f"{path.name}.phi.json").write_text(json.dumps(spans, indent=1), encoding="utf-8")
            progress.advance(task)
    err_console.print(f"{len(files) - failed} of {len(files)} files de-identified into {os.fspath(out)}")
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``deid`` command to a Typer group (``medai notes``)."""
    app.command("deid")(deid)
