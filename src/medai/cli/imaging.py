"""``medai imaging``: train, evaluate and run the imaging models (fundus, chest X-ray, CT nodule, fracture).

``predict`` is the evaluation interface: files or folders (PNG, JPEG, DICOM, NIfTI) in,
``path,prediction,prob_<class>...`` CSV out, optional Grad-CAM overlays as PNG. A file that cannot
be read is named on stderr with the problem; the others are still scored, and the exit code is 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

imaging_app = typer.Typer(help="Imaging models: DR grade, lung nodule, fracture, pneumonia.", no_args_is_help=True)
console = Console()
DATA_HELP = "Data root holding the task's dataset (default: MEDAI_DATA_DIR)."
err_console = Console(stderr=True)


def _task(name: str, param: str):
    """The imaging task ``name``, or a usage error listing the known ones."""
    from medai.imaging.tasks import get_task

    try:
        return get_task(name)
    except KeyError as exc:
        raise typer.BadParameter(exc.args[0], param_hint=param) from None


def _load(name: str, param: str):
    """The installed imaging package ``name``, or a usage error saying what is installed."""
    from medai.imaging.predict import load_model
    from medai.imaging.tasks import TASKS
    from medai.models import ModelNotFoundError, ModelPackageError, default_registry

    _task(name, param)
    try:
        return load_model(name)
    except ModelNotFoundError:
        installed = sorted({s.name for s in default_registry().list() if s.name in TASKS and s.ok})
        raise typer.BadParameter(f"imaging model {name!r} is not installed (installed: "
                                 f"{', '.join(installed) or 'none'}); train it with `medai imaging train {name}` "
                                 "and add the output folder to MEDAI_MODEL_DIRS", param_hint=param) from None
    except ModelPackageError as exc:
        raise typer.BadParameter(str(exc), param_hint=param) from None


def _cache_dir() -> Path:
    """Where prepared model inputs are cached between runs (``$MEDAI_HOME/cache/imaging``)."""
    from medai.config import get_settings

    return get_settings().home / "cache" / "imaging"


def _cohort(task_name: str, data: Path | None):
    """The task's train/validation cases, or exit 1 with the loader's message naming where it looked."""
    from medai.datasets.registry import DatasetNotFound
    from medai.imaging.cohorts import load_cohort

    try:
        return load_cohort(task_name, data)
    except DatasetNotFound as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


@imaging_app.command("models")
def models() -> None:
    """List the installed imaging model packages (shipped and in MEDAI_MODEL_DIRS)."""
    from medai.imaging.tasks import TASKS
    from medai.models import default_registry

    table = Table(Column("name", no_wrap=True), "version", Column("input", no_wrap=True), "classes",
                  "source", "status", title="Imaging models")
    found = 0
    for summary in default_registry().list():
        if summary.name not in TASKS:
            continue
        found += 1
        task = TASKS[summary.name]
        shape = "x".join(map(str, (task.channels, *task.size)))
        table.add_row(summary.name, summary.version or "?", shape, str(len(task.classes)), summary.source,
                      "[green]ok[/]" if summary.ok else f"[red]{summary.error}[/]")
    console.print(table)
    if not found:
        console.print("no imaging packages installed; train one with `medai imaging train MODEL`")


@imaging_app.command("train")
def train(model: str = typer.Argument(..., help="Task to train: dr-grade, retinamnist, lung-nodule-malignancy, "
                                                 "fracture or pneumonia-cxr."),
          data: Path | None = typer.Option(None, help=DATA_HELP),
          out: Path | None = typer.Option(None, help="Folder to write <model>-<version>/ into (default: the first "
                                                      "MEDAI_MODEL_DIRS entry, else $MEDAI_HOME/models)."),
          epochs: int | None = typer.Option(None, min=1, help="Override the recipe's number of epochs."),
          n_boot: int = typer.Option(500, min=10, help="Bootstrap resamples for the 95% CIs.")) -> None:
    """Train on the dataset's train split, validate, and write a model package with its card."""
    from medai.config import get_settings
    from medai.imaging.train import VERSION, train_and_package

    task = _task(model, "MODEL")
    settings = get_settings()
    parent = out or (settings.model_dirs[0] if settings.model_dirs else settings.home / "models")
    target = Path(parent) / f"{task.name}-{VERSION}"
    if target.exists():
        typer.echo(f"error: {target} already exists; remove it or pass another --out", err=True)
        raise typer.Exit(1)
    _cohort(task.name, data)  # fail fast, with the data message, before any heavy work
    path = train_and_package(task.name, data, target, log=console.print, epochs=epochs, n_boot=n_boot,
                             cache_dir=_cache_dir())
    console.print(f"[green]done[/]: {path}")
    if Path(parent).resolve() not in [Path(d).resolve() for d in settings.model_dirs]:
        console.print(f"add {Path(parent).resolve()} to MEDAI_MODEL_DIRS to use it")


@imaging_app.command("evaluate")
def evaluate(model: str = typer.Argument(..., help="Installed imaging model to evaluate."),
             data: Path | None = typer.Option(None, help=DATA_HELP),
             out: Path = typer.Option(Path("imaging-report"), help="Folder for report.json and report.html."),
             n_boot: int = typer.Option(500, min=10, help="Bootstrap resamples for the 95% CIs.")) -> None:
    """Re-evaluate the installed package on its dataset's validation split; write report.json and report.html."""
    from medai.imaging.cohorts import prepare_cases
    from medai.imaging.evaluate import evaluate_imaging, write_imaging_report
    from medai.imaging.train import saliency_examples, validation_groups

    imaging = _load(model, "MODEL")
    cohort = _cohort(imaging.task.name, data)
    with console.status(f"Preparing {len(cohort.validation)} validation images and scoring them..."):
        X, y = prepare_cases(imaging.task, cohort.validation, _cache_dir())
        proba = imaging.predict_proba(X)
    evaluation = evaluate_imaging(imaging.task, y, proba, imaging.threshold, validation_groups(cohort), n_boot=n_boot)
    examples = saliency_examples(imaging, X, imaging.positive_probability(proba))
    paths = write_imaging_report(out, evaluation, y, proba, examples)
    try:
        packaged = json.loads(imaging.package.file("validation_report.json").read_text())["summary"]
    except Exception:  # an older or hand-made package without the report: show the new numbers only
        packaged = {}
    table = Table("metric", "value (95% CI)", "at packaging",
                  title=f"{imaging.task.name} {imaging.package.version}: validation split, {len(y)} images")
    for name, m in evaluation.summary.items():
        before = packaged.get(name, {}).get("value")
        table.add_row(name, f"{m['value']:.3f} ({m['ci_low']:.3f}-{m['ci_high']:.3f})",
                      "" if before is None else f"{before:.3f}")
    console.print(table)
    console.print(f"report: {paths['html']}")


def _parse_centre(value: str | None) -> tuple[float, float, float] | None:
    """``"x,y,z"`` as three numbers, or a usage error."""
    if value is None:
        return None
    try:
        numbers = tuple(float(part) for part in value.split(","))
    except ValueError:
        numbers = ()
    if len(numbers) != 3:
        raise typer.BadParameter(f"{value!r}: give three numbers, column,row,slice (e.g. 120,88,40)",
                                 param_hint="--centre")
    return numbers


def _problem(exc: Exception) -> str:
    """What went wrong, without the file name (the caller prints it)."""
    from medai.imaging.image import ImageReadError

    return exc.problem if isinstance(exc, ImageReadError) else str(exc)


def _score_chunk(imaging, chunk: list[Path], centre, explain: bool, errors: dict[Path, str]) -> list:
    """Predict ``chunk`` in one batch; files that cannot be read or prepared go to ``errors``."""
    from medai.imaging.predict import predict_paths

    def record(path: Path, exc: Exception) -> None:
        errors[path] = _problem(exc)

    return predict_paths(imaging, chunk, centre=centre, explain=explain, batch_size=len(chunk), on_error=record)


@imaging_app.command("predict")
def predict(inputs: list[Path] = typer.Argument(..., help="Image files or folders: PNG, JPEG, DICOM, NIfTI "
                                                          "(for the nodule model a folder is one CT series)."),
            model: str = typer.Option(..., "--model", "-m", help="Imaging model name (see `medai imaging models`)."),
            out: Path = typer.Option(Path("preds.csv"), "--out", "-o", help="CSV to write."),
            overlays: Path | None = typer.Option(None, help="Folder for Grad-CAM overlay PNGs, one per image."),
            centre: str | None = typer.Option(None, help="Nodule centre as column,row,slice (voxels) for the "
                                                         "nodule model on a whole CT series."),
            batch_size: int = typer.Option(32, min=1, help="Images per ONNX Runtime call."),
            ray: bool = typer.Option(False, "--ray", help="Score on Ray into a folder of partitions + _summary.json "
                                                  "(resumable); --out is then that folder."),
            ray_address: str | None = typer.Option(None, help="Ray cluster to join (implies --ray; default RAY_ADDRESS, "
                                                      "else a local Ray)."),
            ray_workers: int = typer.Option(2, min=1, help="Ray workers (one model copy each).")) -> None:
    """Score images; write path,prediction,prob_<class>... (prob_1 = positive for binary models)."""
    if ray or ray_address:
        from medai.distributed.cli import run_on_ray
        from medai.distributed.imaging import ImagingJob

        _load(model, "--model")
        run_on_ray(ImagingJob(tuple(map(str, inputs)), model), out, ray_address, ray_workers, console)
        return
    from medai.imaging.image import ImageReadError
    from medai.imaging.predict import collect_inputs, overlay_name, write_predictions_csv

    point = _parse_centre(centre)
    imaging = _load(model, "--model")
    task = imaging.task
    if point is not None and task.spatial_dims != 3:
        raise typer.BadParameter(f"{task.name} is a 2D model; --centre applies to 3D CT models only",
                                 param_hint="--centre")
    errors: dict[Path, str] = {}
    paths: list[Path] = []
    for item in inputs:
        try:
            paths += collect_inputs([item], task)
        except ImageReadError as exc:
            errors[item] = exc.problem
    results = []
    columns = (TextColumn(f"Scoring with {task.name}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console) as progress:
        bar = progress.add_task("score", total=len(paths))
        for start in range(0, len(paths), batch_size):
            chunk = paths[start:start + batch_size]
            results += _score_chunk(imaging, chunk, point, overlays is not None, errors)
            progress.advance(bar, len(chunk))
    write_predictions_csv(results, out, task)
    if overlays is not None:
        overlays.mkdir(parents=True, exist_ok=True)
        for result in results:
            (overlays / overlay_name(result.source)).write_bytes(result.overlay_png)
    for path, problem in errors.items():
        typer.echo(f"error: {path}: {problem}", err=True)
    summary = f"{len(results)} of {len(results) + len(errors)} inputs scored into {out}"
    if overlays is not None:
        summary += f"; overlays in {overlays}"
    typer.echo(summary)
    if errors:
        typer.echo(f"{len(errors)} input(s) could not be scored (listed above)", err=True)
        raise typer.Exit(1)
