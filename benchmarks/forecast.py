"""Forecast benchmark: flu (FluSight 2023-24, vintages) and census (HHS states) backtests, and forecast speed, in one run.

    MEDAI_DATA_DIR=../shared/data OMP_NUM_THREADS=1 python benchmarks/forecast.py

Flu: every 2023-24 reference date (2023-10-14 to 2024-05-04), each forecast from the vintage
published by then with the networks retrained on it; WIS, relative WIS against FluSight-baseline
(ratio of mean WIS on the same forecasts, 95% CI from a bootstrap over reference dates) and 50% /
95% coverage, for our ensemble, its members (two networks, the hub-style baseline, AutoETS) and the
CDC's FluSight-ensemble and FluSight-baseline. Also split into the alternate reference dates used
to choose the recipe ("tuning") and the others ("held-out").

Census: weekly origins on the HHS state series, our ensemble beside seasonal-naive (the anchor) and
AutoETS (statsforecast, season 7, raw scale), at 7 and 14 days.

Speed, measured in the same run: `medai forecast flu` on the latest target file in a fresh process
(imports, hash-checked package, forecast, CSV), a forecast that retrains the networks, and beside
them statsforecast AutoARIMA alone on the same 53 series (non-seasonal; weekly seasonality needs
more than the two seasons there are). Writes benchmarks/results/forecast.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from medai.datasets import flusight
from medai.datasets.registry import locate
from medai.forecast.backtests import cached, census_backtest, flu_backtest
from medai.forecast.evaluate import score_models
from medai.forecast.predict import FLU_MODEL, forecast_flu, load_trained
from medai.forecast.statistical import StatsForecaster
from medai.forecast.task import flu_panel

FLU_ORDER = ("flu-ensemble", "network-ili", "network-ili-adjusted", "autoets", "baseline", "FluSight-ensemble", "FluSight-baseline")
CENSUS_ORDER = ("census-ensemble", "autoets", "seasonal-naive")
TARGETS = {"flu_relative_wis_max": 0.65, "flu_coverage_95": (0.90, 0.97), "census_wis_reduction_min": 0.20, "flu_seconds_max": 30}


def table(title: str, rows: list[dict]) -> None:
    """Print one score table."""
    print(f"\n{title}")
    print(f"{'model':24} {'n':>6} {'WIS':>9} {'rel. WIS (95% CI)':>22} {'cov 50%':>8} {'cov 95%':>8}")
    for r in rows:
        ci = f"{r['relative_wis']:.3f} ({r['relative_wis_ci'][0]:.3f}-{r['relative_wis_ci'][1]:.3f})"
        print(f"{r['model']:24} {r['n']:6d} {r['wis']:9.1f} {ci:>22} {r['coverage_50']:8.3f} {r['coverage_95']:8.3f}")


def ordered(rows, order) -> list[dict]:
    by_name = {row.model: row.to_dict() for row in rows}
    return [by_name[name] for name in order if name in by_name]


def flu_section(root, cache: Path | None) -> dict:
    result = cached(cache and cache / "flu.pickle", lambda: flu_backtest(root, log=lambda line: print(f"  flu {line}", flush=True)))
    models = {name: result.forecasts[name] for name in FLU_ORDER}
    everything = ordered(score_models(models, result.truth, "FluSight-baseline"), FLU_ORDER)
    table("Flu, 2023-24, all reference dates, horizons 0-3 (relative WIS vs FluSight-baseline)", everything)
    references = sorted(models["FluSight-baseline"])
    split = {}
    for name, chosen in (("tuning", references[::2]), ("held-out", references[1::2])):
        subset = {model: {r: f for r, f in forecasts.items() if r in chosen} for model, forecasts in models.items()}
        split[name] = ordered(score_models(subset, result.truth, "FluSight-baseline"), FLU_ORDER)
        table(f"Flu, 2023-24, {name} reference dates", split[name])
    return {"all": everything, "by_split": split}


def census_section(root, cache: Path | None) -> dict:
    result = cached(cache and cache / "census.pickle",
                    lambda: census_backtest(root, log=lambda line: print(f"  census {line}", flush=True)))
    models = {name: result.forecasts[name] for name in CENSUS_ORDER}
    out = {}
    for horizon in (7, 14):
        out[str(horizon)] = ordered(score_models(models, result.truth, "seasonal-naive", horizons=[horizon]), CENSUS_ORDER)
        table(f"Census, HHS states, day {horizon} (relative WIS vs seasonal naive)", out[str(horizon)])
        for unit in ("inpatient", "icu_covid"):
            rows = score_models(models, result.truth, "seasonal-naive", horizons=[horizon], series=lambda s: s.endswith(unit))
            out[f"{horizon}/{unit}"] = ordered(rows, CENSUS_ORDER)
            table(f"Census, day {horizon}, {unit} series only", out[f"{horizon}/{unit}"])
    return out


def speed_section(root) -> dict:
    """Wall time of ``medai forecast flu`` on the latest target file (a fresh process: imports, package check,
    forecast, CSV), of a forecast that retrains the networks, and of AutoARIMA on the same series."""
    target = locate("flusight", root) / flusight.TARGET_FILE
    rows = flusight.read_target_csv(target)
    as_of = (max(r.date for r in rows) + timedelta(days=7)).isoformat()
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-c", "from medai.cli.forecast import forecast_app; forecast_app()",
                   "flu", "--data", str(target), "--as-of", as_of, "--out", f"{tmp}/out.csv"]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        cli = time.perf_counter() - start
    model = load_trained(FLU_MODEL)
    start = time.perf_counter()
    forecast = forecast_flu(rows, date.fromisoformat(as_of), model, refit=True)
    retrained = time.perf_counter() - start
    start = time.perf_counter()
    StatsForecaster("AutoARIMA").fit(flu_panel(rows)).predict(4)
    arima = time.perf_counter() - start
    speed = {"locations": len(forecast.ids), "cli_seconds": cli, "retrained_seconds": retrained, "autoarima_seconds": arima,
             "cli_vs_autoarima": cli / arima, "retrained_vs_autoarima": retrained / arima}
    print(f"\nFull {len(forecast.ids)}-location flu forecast: `medai forecast flu` (new process, shipped package) {cli:.1f} s; "
          f"with retraining {retrained:.1f} s; statsforecast AutoARIMA alone {arima:.1f} s "
          f"(ratios {speed['cli_vs_autoarima']:.2f} / {speed['retrained_vs_autoarima']:.2f})")
    return speed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--skip", choices=("flu", "census", "speed"), action="append", default=[])
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="keep the backtests here between runs (shared with `medai forecast train --cache`)")
    args = parser.parse_args()
    results = {}
    if "speed" not in args.skip:
        results["speed"] = speed_section(args.data)
    if "flu" not in args.skip:
        results["flu"] = flu_section(args.data, args.cache_dir)
    if "census" not in args.skip:
        results["census"] = census_section(args.data, args.cache_dir)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    out = Path(__file__).parent / "results" / "forecast.json"
    out.write_text(json.dumps({"commit": commit, "machine": platform.platform(), "cpus": os.cpu_count(),
                               "threads": os.environ.get("OMP_NUM_THREADS"), "targets": TARGETS, **results}, indent=1))
    print(f"written {out}")


if __name__ == "__main__":
    main()
