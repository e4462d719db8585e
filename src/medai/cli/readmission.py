"""``medai readmission``: train, evaluate and score the 30-day readmission model (Diabetes 130 layout)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

readmission_app = typer.Typer(help="30-day readmission risk (Diabetes 130-US hospitals layout).", no_args_is_help=True)
console = Console()


@readmission_app.command("train")
def train(data: Path | None = typer.Option(None, help="Data root holding diabetes130/ (default: MEDAI_DATA_DIR)."),
          out: Path = typer.Option(Path("readmission-diabetes-1.0.0"), help="Folder to create for the model package."),
          n_boot: int = typer.Option(200, help="Bootstrap resamples for the 95% CIs."),
          threads: int = typer.Option(1, help="CPU threads for LightGBM and torch.")) -> None:
    """Train on the shared encounters (patient-level split), validate, and write the model package with its card."""
    from medai.risk.readmission.train import train_and_package

    path = train_and_package(data, out, log=console.print, n_boot=n_boot, n_jobs=threads)
    console.print(f"[green]done[/]: {path} — add its parent folder to MEDAI_MODEL_DIRS to use it")


@readmission_app.command("evaluate")
def evaluate(data: Path | None = typer.Option(None, help="Data root holding diabetes130/ (default: MEDAI_DATA_DIR)."),
             out: Path = typer.Option(Path("readmission-report"), help="Folder for report.json and report.html."),
             n_boot: int = typer.Option(200, help="Bootstrap resamples for the 95% CIs.")) -> None:
    """Evaluate the installed model beside LACE and a logistic regression on the validation patients."""
    from medai.risk.readmission.evaluate import evaluation_report
    from medai.risk.readmission.predict import load_shipped_model

    with console.status("Scoring the validation patients (model, components, LACE, logistic regression)..."):
        rows, paths = evaluation_report(load_shipped_model(), data, out, n_boot=n_boot)
    table = Table("score", "AUROC (95% CI)", "AUPRC (95% CI)", "calibration slope", title="Validation patients")
    for row in rows:
        table.add_row(row["name"], f"{row['auroc']:.3f} ({row['auroc_low']:.3f}-{row['auroc_high']:.3f})",
                      f"{row['auprc']:.3f} ({row['auprc_low']:.3f}-{row['auprc_high']:.3f})", f"{row['calibration_slope']:.2f}")
    console.print(table)
    console.print(f"report: {paths['html']}")


@readmission_app.command("predict")
def predict(source: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV in the Diabetes 130 layout "
                                                                                 "(Parquet too with --ray)."),
            out: Path = typer.Option(..., "--out", help="CSV to write: encounter_id,probability."),
            explanations: Path | None = typer.Option(None, help="Also write one JSON line per encounter with its "
                                                                "explanation and model identity."),
            ray: bool = typer.Option(False, "--ray", help="Score on Ray into a folder of partitions + _summary.json "
                                                  "(resumable); --out is then that folder; partitions keep each patient whole."),
            ray_address: str | None = typer.Option(None, help="Ray cluster to join (implies --ray; default RAY_ADDRESS, "
                                                      "else a local Ray)."),
            ray_workers: int = typer.Option(2, min=1, help="Ray workers (one model copy each).")) -> None:
    """Probability of readmission within 30 days for every encounter (history features from the file's own earlier
    encounters of each patient)."""
    if ray or ray_address:
        from medai.distributed.cli import run_on_ray
        from medai.distributed.readmission import ReadmissionJob

        run_on_ray(ReadmissionJob(str(source)), out, ray_address, ray_workers, console)
        return
    from medai.errors import InvalidInput
    from medai.risk.readmission.predict import load_shipped_model, predict_csv

    try:
        count = predict_csv(load_shipped_model(), source, out, explanations)
    except InvalidInput as error:
        for problem in error.problems:
            console.print(f"[red]error[/] {problem.location}: {problem.message}")
        raise typer.Exit(code=2) from None
    console.print(f"{count} encounters scored into {out}")
