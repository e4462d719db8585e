"""``medai forecast``: flu admissions in the FluSight hub format, hospital census, scenarios, staffing, refresh, training."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from medai.errors import InvalidInput

forecast_app = typer.Typer(help="Outbreak (FluSight format) and hospital census / staffing forecasts.", no_args_is_help=True)
console = Console()


def _date(value: str, name: str = "--as-of") -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=name) from None


def _run(action: Callable[[], object]) -> object:
    """Run ``action``; bad input prints every problem and exits with status 2."""
    try:
        return action()
    except InvalidInput as error:
        for problem in error.problems:
            console.print(f"[red]error[/] {problem.location}: {problem.message}")
        raise typer.Exit(2) from None


def _model(name: str):
    from medai.forecast.predict import load_trained
    from medai.models import ModelNotFoundError

    try:
        return load_trained(name)
    except ModelNotFoundError as error:
        console.print(f"[red]error[/] {error}; train it with `medai forecast train` or add its folder to MEDAI_MODEL_DIRS")
        raise typer.Exit(1) from None


@forecast_app.command("flu")
def flu(data: Path = typer.Option(..., exists=True, dir_okay=False, help="Target CSV in the hub layout (date,location,value,...)."),
        as_of: str = typer.Option(..., help="Forecast date YYYY-MM-DD: rows dated after it are ignored; the reference date "
                                            "is the Saturday on or after it (horizon h ends h weeks later)."),
        out: Path = typer.Option(..., help="Output CSV in the hub's model-output layout."),
        refit: bool = typer.Option(False, help="Retrain the networks on this data (default: only for dates before the package's training end).")) -> None:
    """Quantile forecasts of weekly flu admissions, horizons 0-3, for every location in the data."""
    from medai.datasets.flusight import read_target_csv
    from medai.forecast.hub import write_hub_csv
    from medai.forecast.predict import FLU_MODEL, dropped_locations, forecast_flu

    when = _date(as_of)
    model = _model(FLU_MODEL)
    rows = _run(lambda: read_target_csv(data))
    forecast = _run(lambda: forecast_flu(rows, when, model, refit=True if refit else None))
    write_hub_csv(forecast, out)
    console.print(f"{len(forecast.ids)} locations, reference date {forecast.reference_date}, horizons 0-3 -> {out}")
    dropped = dropped_locations(rows, forecast)
    if dropped:
        console.print(f"[yellow]left out[/] (last report more than two weeks before the reference date): {', '.join(dropped)}")


def _census_data(data: Path | None, fhir: Path | None, when: date, history_days: int):
    """Census rows from a CSV, or the midnight census of FHIR Encounters over the ``history_days`` before ``when``."""
    from medai.forecast.census import census_from_encounters, read_census_csv, read_fhir_encounters

    if (data is None) == (fhir is None):
        raise typer.BadParameter("give exactly one of --data and --fhir", param_hint="--data")
    if data is not None:
        return _run(lambda: read_census_csv(data))
    encounters = _run(lambda: read_fhir_encounters(fhir))
    return _run(lambda: census_from_encounters(encounters, when - timedelta(days=history_days - 1), when, site=fhir.stem))


@forecast_app.command("census")
def census(data: Path | None = typer.Option(None, exists=True, dir_okay=False, help="date,location,unit,census[,capacity] CSV, or the HHS state timeseries."),
           fhir: Path | None = typer.Option(None, exists=True, help="FHIR Bundle JSON, folder or zip: census counted from its Encounters."),
           as_of: str = typer.Option(..., help="Forecast date YYYY-MM-DD: rows dated after it are ignored."),
           horizon: int = typer.Option(14, help="Days ahead (1-14)."),
           history_days: int = typer.Option(180, help="With --fhir: days of census to count before AS_OF."),
           out: Path = typer.Option(..., help="Output CSV: one row per series, day and quantile."),
           refit: bool = typer.Option(False, help="Retrain the network on this data.")) -> None:
    """Daily inpatient / ICU census quantiles 1..HORIZON days after AS_OF for every location and unit."""
    from medai.forecast.census import census_csv
    from medai.forecast.predict import CENSUS_MODEL, forecast_census

    when = _date(as_of)
    model = _model(CENSUS_MODEL)
    series = _census_data(data, fhir, when, history_days)
    forecast = _run(lambda: forecast_census(series, when, horizon, model, refit=True if refit else None))
    out.write_text(census_csv(forecast), encoding="utf-8")
    console.print(f"{len(forecast.ids)} series, days 1-{horizon} after {when} -> {out}")
    left_out = sorted(set(series.panel.ids) - set(forecast.ids))
    if left_out:
        console.print(f"[yellow]left out[/] (too short a history for the model, or no report in the last 2 days): {', '.join(left_out)}")


@forecast_app.command("staffing")
def staffing(data: Path = typer.Option(..., exists=True, dir_okay=False, help="Census CSV (as for `medai forecast census`)."),
             as_of: str = typer.Option(..., help="Forecast date YYYY-MM-DD."),
             horizon: int = typer.Option(7, help="Days ahead (1-14)."),
             ratios: Path | None = typer.Option(None, exists=True, help="Staffing-ratio YAML (default: the shipped table)."),
             planning_level: float = typer.Option(0.9, help="Census quantile to staff for."),
             out: Path = typer.Option(..., help="Output CSV: nurses per shift and capacity risk per series and day.")) -> None:
    """Nurses per shift (median and planning census) and the chance and size of a bed shortfall."""
    from dataclasses import asdict, fields

    from medai.forecast.census import read_census_csv
    from medai.forecast.knowledge import staffing_table
    from medai.forecast.predict import CENSUS_MODEL, forecast_census
    from medai.forecast.staffing import StaffingRow, staffing_plan

    when = _date(as_of)
    model = _model(CENSUS_MODEL)
    series = _run(lambda: read_census_csv(data))
    table = _run(lambda: staffing_table(ratios))
    forecast = _run(lambda: forecast_census(series, when, horizon, model))
    plan = _run(lambda: staffing_plan(forecast, series.capacity, table, planning_level))
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, [f.name for f in fields(StaffingRow)])
        writer.writeheader()
        writer.writerows(asdict(row) for row in plan)
    console.print(f"{len(plan)} rows ({len(forecast.ids)} series x {horizon} days) -> {out}")


@forecast_app.command("scenario")
def scenario(data: Path = typer.Option(..., exists=True, help="Census CSV with an admissions column, the HHS state timeseries, "
                                                              "or (with --fhir) FHIR Bundles with Encounters."),
             series: str = typer.Option(..., help="Series to project, e.g. 'CA' (HHS: COVID-19 inpatients) or 'Ward 7B/inpatient'."),
             as_of: str = typer.Option(..., help="Day to project from YYYY-MM-DD."),
             uplift: float = typer.Option(0.3, help="Admissions change, e.g. 0.3 for +30%."),
             horizon: int = typer.Option(14, help="Days ahead."),
             fhir: bool = typer.Option(False, help="DATA is FHIR: length of stay from the individual Encounters.")) -> None:
    """What if admissions change by UPLIFT: census projected through the length-of-stay distribution."""
    from medai.forecast.scenario import scenario_table

    when = _date(as_of)
    result = _run(lambda: scenario_table(data, series, when, uplift, horizon, fhir=fhir))
    table = Table("day", "median (no change)", f"median ({uplift:+.0%})", "80% interval", "95% interval",
                  title=f"{series}: census if admissions change by {uplift:+.0%} (mean LOS {result.mean_los_days:.1f} days)")
    for row in result.rows:
        table.add_row(row["date"], f"{row['base_median']:.0f}", f"{row['median']:.0f}", f"{row['lower_80']:.0f}-{row['upper_80']:.0f}",
                      f"{row['lower_95']:.0f}-{row['upper_95']:.0f}")
    console.print(table)


@forecast_app.command("refresh")
def refresh(flu_data: Path | None = typer.Option(None, help="Hub target CSV to forecast when it changes."),
            census_data: Path | None = typer.Option(None, help="Census CSV to forecast when it changes."),
            horizon: int = typer.Option(14, help="Census days ahead."),
            every: float = typer.Option(0, help="Poll every N seconds (0: run once, for cron or a systemd timer)."),
            as_of: str | None = typer.Option(None, help="Forecast date YYYY-MM-DD (default: today)."),
            database_url: str | None = typer.Option(None, help="Overrides MEDAI_DATABASE_URL.")) -> None:
    """Forecast again and store the run whenever a data file has changed (unchanged files are skipped)."""
    from medai.config import get_settings
    from medai.forecast.predict import CENSUS_MODEL, FLU_MODEL
    from medai.forecast.refresh import Source, watch
    from medai.store.db import open_database

    sources = ([Source("flu", flu_data)] if flu_data else []) + ([Source("census", census_data, horizon)] if census_data else [])
    if not sources:
        raise typer.BadParameter("give --flu-data and/or --census-data", param_hint="--flu-data")
    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    models = {source.kind: _model(FLU_MODEL if source.kind == "flu" else CENSUS_MODEL) for source in sources}
    failed = []

    def report(result) -> None:
        colour = {"stored": "green", "unchanged": "dim", "failed": "red"}[result.status]
        console.print(f"[{colour}]{result.status}[/] {result.kind} {result.source}: {result.run_id or ''} {result.message}")
        if result.status == "failed":
            failed.append(result)

    when = (lambda: _date(as_of)) if as_of else date.today
    watch(open_database(settings), sources, models, every, report, rounds=None if every > 0 else 1, as_of=when)
    if failed:
        raise typer.Exit(1)


@forecast_app.command("train")
def train(what: str = typer.Argument(..., help="flu or census"),
          data: Path | None = typer.Option(None, help="Data root (default: MEDAI_DATA_DIR)."),
          out: Path = typer.Option(..., help="Folder to create for the model package."),
          cache: Path | None = typer.Option(None, help="File keeping the backtest between runs (local pickle).")) -> None:
    """Backtest, train on all shared data and write the model package with its card."""
    from medai.forecast.train import train_census_package, train_flu_package

    if what not in ("flu", "census"):
        raise typer.BadParameter("must be 'flu' or 'census'", param_hint="WHAT")
    builder = train_flu_package if what == "flu" else train_census_package
    path = builder(data, out, log=console.print, cache=cache)
    console.print(f"[green]done[/]: {path}")
