"""``medai notes extract`` and ``medai notes train-ner``: condition extraction (the evaluation interface).

``extract`` writes one JSON object per input file, one per line::

    {"path": "...", "entities": [{"start", "end", "text", "label", "negated", "uncertain",
                                  "historical", "family", "hypothetical", "codes": [...]}]}

``text == file_text[start:end]`` (offsets in characters of the UTF-8-decoded file); ``label`` is
``condition`` for diseases, disorders, signs and symptoms; each code is ``{code, description,
score, billable, system, version, matched, evidence: {start, end, text}}``. A file that cannot be
read is named on stderr; the others are still processed and the exit code is 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

err_console = Console(stderr=True)
BATCH = 8


def _files(paths: list[Path]) -> list[Path]:
    """Each path as given, except folders, which stand for their ``*.txt`` files (recursively, sorted)."""
    out: list[Path] = []
    for path in paths:
        out.extend(sorted(f for f in path.rglob("*.txt") if f.is_file()) if path.is_dir() else [path])
    return out


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err_console.print(f"[red]error[/] {path}: cannot read as UTF-8 text ({exc})")
        return None


def extract(inputs: list[Path] = typer.Argument(..., exists=True, help="Note text files, or folders of *.txt files."),
            out: Path = typer.Option(..., "--out", help="Output JSON Lines file (one object per input file)."),
            no_tagger: bool = typer.Option(False, "--no-tagger", help="Lexicons only (skip the learned tagger)."),
            no_assertions: bool = typer.Option(False, "--no-assertions", help="Leave the assertion flags False."),
            ray: bool = typer.Option(False, "--ray", help="Score on Ray into a folder of partitions + _summary.json "
                                                  "(resumable); --out is then that folder; also reads Bulk NDJSON DocumentReferences."),
            ray_address: str | None = typer.Option(None, help="Ray cluster to join (implies --ray; default RAY_ADDRESS, "
                                                      "else a local Ray)."),
            ray_workers: int = typer.Option(2, min=1, help="Ray workers (one model copy each)."),
            ) -> None:
    """Extract condition mentions with assertion flags and ICD-10-CM codes from note files."""
    if ray or ray_address:
        from medai.distributed.cli import run_on_ray
        from medai.distributed.notes import NotesJob

        job = NotesJob(tuple(map(str, inputs)), task="extract", use_tagger=not no_tagger, assertions=not no_assertions)
        run_on_ray(job, out, ray_address, ray_workers, err_console)
        return
    from medai.notes.extract import ConditionExtractor

    extractor = ConditionExtractor(use_tagger=not no_tagger, assertions=not no_assertions)
    files = _files(inputs)
    failed = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for begin in range(0, len(files), BATCH):
            batch = [(path, _read(path)) for path in files[begin:begin + BATCH]]
            readable = [(path, text) for path, text in batch if text is not None]
            failed += len(batch) - len(readable)
            results = extractor.extract_many([text for _, text in readable])
            for (path, _), mentions in zip(readable, results, strict=True):
                record = {"path": str(path), "entities": [m.as_dict() for m in mentions]}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    err_console.print(f"{len(files) - failed} of {len(files)} files written to {out}")
    if failed:
        raise typer.Exit(1)


def train_ner(out: Path = typer.Option(..., "--out", help="Folder of the new model package (must not exist)."),
              data: Path | None = typer.Option(None, "--data", help="Data root (default: MEDAI_DATA_DIR)."),
              epochs: int = typer.Option(3, help="Passes over the pooled training sentences (upper bound)."),
              max_minutes: float | None = typer.Option(None, "--max-minutes", help="Wall-clock budget of training."),
              lr: float = typer.Option(1e-4, help="Peak learning rate."),
              threads: int = typer.Option(2, help="Torch threads.")) -> None:
    """Fine-tune the condition tagger on NCBI Disease + BC5CDR and write a model package with its card."""
    from medai.notes.ner_train import train

    train(out, data, epochs=epochs, lr=lr, threads=threads, max_minutes=max_minutes,
          log=lambda message: err_console.print(message))


def register(app: typer.Typer) -> None:
    """Add ``extract`` and ``train-ner`` to a Typer group (``medai notes``)."""
    app.command("extract")(extract)
    app.command("train-ner")(train_ner)
