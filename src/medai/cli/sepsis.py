"""``medai sepsis``: train, evaluate and batch-score the sepsis early-warning model."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

sepsis_app = typer.Typer(help="Sepsis early warning (PhysioNet/CinC 2019 format).", no_args_is_help=True)
console = Console()


@sepsis_app.command("train")
def train(data: Path | None = typer.Option(None, help="Data root holding physionet2019/ (default: MEDAI_DATA_DIR)."),
          out: Path = typer.Option(Path("sepsis-ews-1.0.0"), help="Folder to create for the model package."),
          n_boot: int = typer.Option(200, help="Bootstrap resamples for the 95% CIs."),
          ray: bool = typer.Option(False, "--ray", help="Train the GRU data-parallel on Ray Train (a local Ray unless "
                                                        "--ray-address); the rest of the recipe is unchanged."),
          ray_address: str | None = typer.Option(None, help="Ray cluster to join (implies --ray; default RAY_ADDRESS, "
                                                            "else a local Ray)."),
          workers: int = typer.Option(2, min=1, help="Ray Train workers for the GRU (one CPU each).")) -> None:
    """Train on hospital A (patient-level split), validate, and write the model package with its card."""
    if ray or ray_address:
        import os

        from medai.distributed.runtime import LOCAL
        from medai.distributed.train import train_sepsis_on_ray

        address = ray_address or os.environ.get("RAY_ADDRESS") or LOCAL
        with console.status(f"Training the sepsis model, GRU on Ray Train ({address}, {workers} workers)..."):
            path = train_sepsis_on_ray(data, out, workers=workers, address=address, n_boot=n_boot, log=console.print)
    else:
        from medai.risk.sepsis.train import train_and_package

        with console.status("Training the sepsis model (features, LightGBM, calibration, threshold, card)..."):
            path = train_and_package(data, out, log=console.print, n_boot=n_boot)
    console.print(f"[green]done[/]: {path} — add its parent folder to MEDAI_MODEL_DIRS to use it")


@sepsis_app.command("evaluate")
def evaluate(data: Path | None = typer.Option(None, help="Data root holding physionet2019/ (default: MEDAI_DATA_DIR)."),
             out: Path = typer.Option(Path("sepsis-report"), help="Folder for report.json and report.html."),
             n_boot: int = typer.Option(200, help="Bootstrap resamples for the 95% CIs.")) -> None:
    """Evaluate the installed model and the clinical baselines on hospital A's validation split."""
    from medai.risk.sepsis.report import evaluation_report

    with console.status("Scoring the validation patients with the model, qSOFA, SIRS and NEWS2..."):
        rows, paths = evaluation_report(data, out, n_boot=n_boot)
    table = Table("model", "utility", "AUROC", "AUPRC", "alerts/100 pt-days", "median lead (h)", title="Validation split")
    for row in rows:
        table.add_row(row["name"], f"{row['utility']:.3f}", f"{row['auroc']:.3f}", f"{row['auprc']:.3f}",
                      f"{row['alerts_per_100_patient_days']:.1f}", f"{row['median_lead_time_hours'] or float('nan'):.1f}")
    console.print(table)
    console.print(f"report: {paths['html']}")


@sepsis_app.command("predict")
def predict(source: Path = typer.Argument(..., exists=True, help="A folder or zip of challenge PSV files."),
            output: Path = typer.Argument(..., help="Folder for one prediction PSV per patient."),
            jobs: int = typer.Option(2, help="Worker processes."),
            ray: bool = typer.Option(False, "--ray", help="Score on Ray (Parquet partitions + _summary.json, resumable); "
                                                          "also reads FHIR Bulk NDJSON exports."),
            ray_address: str | None = typer.Option(None, help="Ray cluster to join (implies --ray; default "
                                                              "RAY_ADDRESS, else a local Ray).")) -> None:
    """Score every patient file; output follows the challenge's format (PredictedProbability|PredictedLabel)."""
    if ray or ray_address:
        from medai.distributed.cli import run_on_ray
        from medai.distributed.sepsis import sepsis_job

        run_on_ray(sepsis_job(source), output, ray_address, jobs, console)
        return
    from medai.datasets.physionet2019 import psv_sources
    from medai.risk.sepsis.predict import load_shipped_model, predict_folder

    total = len(psv_sources(source))
    columns = (TextColumn("Scoring patients"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("score", total=total)
        written, rows, problems = predict_folder(load_shipped_model, source, output, jobs,
                                                 progress=lambda done: progress.update(task, completed=done))
    console.print(f"{written} patients ({rows} hours) scored into {output}")
    for problem in problems:
        console.print(f"[red]skipped[/] {problem.location}: {problem.message}")
    if problems:
        (output / "errors.json").write_text(json.dumps([p.__dict__ for p in problems], indent=1))
