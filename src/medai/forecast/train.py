"""Build the ``flu-forecast`` and ``census-forecast`` packages (behind ``medai forecast train``).

Each recipe is first backtested on the shared data (:mod:`~medai.forecast.backtests`; the card's
metrics come from there), then fitted on all of it, and written with its card: the ensemble's
configuration, the networks' weights (safetensors), ``training.json`` (training end, backtest
table) and, for flu, the ILINet weeks the networks learn from.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import medai
from medai.datasets import flusight, ilinet
from medai.forecast.auxiliary import KINDS, ili_panels, to_json
from medai.forecast.backtests import CENSUS_ORIGINS, FLU_SEASON, cached, census_backtest, census_panel, flu_backtest
from medai.forecast.evaluate import ScoreRow, score_models
from medai.forecast.predict import ILI_FILE, TRAINING_FILE
from medai.forecast.recipes import census_ensemble, flu_ensemble
from medai.forecast.task import flu_panel
from medai.models import ModelCard, save_package

FLUSIGHT = {"name": "CDC FluSight target data and 2023-24 vintages", "licence": "U.S. public domain (CDC/NHSN)",
            "citation": "CDC FluSight forecast hub (github.com/cdcepi/FluSight-forecast-hub), NHSN weekly confirmed influenza "
                        "hospital admissions", "url": "https://github.com/cdcepi/FluSight-forecast-hub"}
ILINET = {"name": "CDC ILINet national", "licence": "U.S. public domain (CDC FluView)",
          "citation": "CDC U.S. Outpatient Influenza-like Illness Surveillance Network (ILINet), FluView Interactive",
          "url": "https://gis.cdc.gov/grasp/fluview/fluportaldashboard.html"}
HHS = {"name": "HHS COVID-19 Reported Patient Impact and Hospital Capacity by State Timeseries", "licence": "ODbL 1.0",
       "citation": "U.S. HHS, healthdata.gov dataset g62h-syeh (reduced 13-column copy)",
       "url": "https://healthdata.gov/Hospital/COVID-19-Reported-Patient-Impact-and-Hospital-Capa/g62h-syeh"}


def _metrics(row: ScoreRow, dataset: str, split: str, anchor: str) -> list[dict]:
    """Relative WIS and 95% coverage with bootstrap CIs, mean WIS and 50% coverage as point estimates."""
    point = f"{split}; point estimate"
    return [{"name": f"Relative WIS vs {anchor}", "value": row.relative_wis, "ci_low": row.relative_wis_ci[0],
             "ci_high": row.relative_wis_ci[1], "dataset": dataset, "split": split},
            {"name": "95% interval coverage", "value": row.coverage_95, "ci_low": row.coverage_95_ci[0],
             "ci_high": row.coverage_95_ci[1], "dataset": dataset, "split": split},
            {"name": "Mean WIS", "value": row.wis, "ci_low": row.wis, "ci_high": row.wis, "dataset": dataset, "split": point},
            {"name": "50% interval coverage", "value": row.coverage_50, "ci_low": row.coverage_50, "ci_high": row.coverage_50,
             "dataset": dataset, "split": point}]


def _card(name: str, task: str, summary: str, intended: str, out_of_scope: list[str], training: list[dict],
          evaluation: dict, metrics: list[dict], calibration: dict, limitations: list[str], plots: list[dict]) -> ModelCard:
    return ModelCard.model_validate({
        "name": name, "version": "1.0.0", "task": task, "summary": summary, "intended_use": intended,
        "out_of_scope_use": out_of_scope, "training_data": training, "evaluation_data": [evaluation], "metrics": metrics,
        "calibration": calibration, "limitations": limitations,
        "ethical_considerations": "Population-level forecasts, no patient data. Intervals are reported with their measured "
                                  "coverage so planners can see how often the truth fell outside them; forecasts inform, "
                                  "they do not replace, surge and staffing decisions.",
        "authors": ["medai contributors"], "licence": "Apache-2.0 (model); training data licences as listed",
        "created": datetime.now(timezone.utc).isoformat(), "medai_version": medai.__version__, "plots": plots})


def _fan_png(forecasts: dict, truth, series: str, horizon: int, title: str) -> bytes:
    """Observed series beside each origin's median and 50/95% bands at one horizon (backtest figure)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    origins = sorted(forecasts)
    h = forecasts[origins[0]].horizons.index(horizon)
    targets = [forecasts[o].target_date(horizon) for o in origins]
    rows = [forecasts[o].values[forecasts[o].ids.index(series), h] for o in origins]
    level = list(forecasts[origins[0]].levels)
    band = lambda a, b: ([r[level.index(a)] for r in rows], [r[level.index(b)] for r in rows])  # noqa: E731
    figure, axis = plt.subplots(figsize=(7, 3.2), dpi=110)
    axis.fill_between(targets, *band(0.025, 0.975), alpha=0.2, color="#1f77b4", label="95%")
    axis.fill_between(targets, *band(0.25, 0.75), alpha=0.4, color="#1f77b4", label="50%")
    axis.plot(targets, [r[level.index(0.5)] for r in rows], color="#1f77b4", label="median")
    window = truth.until(max(targets)).since(min(targets))
    axis.plot(window.dates, window.row(series), "k.", markersize=4, label="observed")
    axis.set_title(title, fontsize=10)
    axis.legend(fontsize=7, loc="upper right")
    figure.autofmt_xdate()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def train_flu_package(root: str | Path | None, out: Path, log: Callable[[str], None] = print,
                      cache: Path | None = None) -> Path:
    """Backtest 2023-24, fit on all shared data (to 2024-06-29) and write ``flu-forecast`` 1.0.0 to ``out``.

    ``cache``: a file keeping the backtest between runs (``benchmarks/forecast.py --cache-dir`` shares it).
    """
    log("backtest: every 2023-24 reference date from its vintage ...")
    result = cached(cache, lambda: flu_backtest(root, log=log))
    models = {k: result.forecasts[k] for k in ("flu-ensemble", "FluSight-ensemble", "FluSight-baseline")}
    rows = {row.model: row for row in score_models(models, result.truth, "FluSight-baseline")}
    ours = rows["flu-ensemble"]
    log(f"backtest: relative WIS {ours.relative_wis:.3f}, 95% coverage {ours.coverage_95:.3f}")
    truth_rows = flusight.load(root)
    weeks = ilinet.load(root)
    panel = flu_panel(truth_rows)
    forecaster = flu_ensemble(with_anchors=False).fit(panel, {kind: ili_panels(weeks, panel.end, kind) for kind in KINDS})
    evaluation = {**FLUSIGHT, "name": "FluSight 2023-24 backtest (vintages)", "n": ours.n}
    metrics = _metrics(ours, evaluation["name"], f"{FLU_SEASON[0]} to {FLU_SEASON[1]}, horizons 0-3, all locations",
                       "FluSight-baseline")
    metrics += [{"name": "Relative WIS of the CDC FluSight-ensemble (same forecasts)", "value": rows["FluSight-ensemble"].relative_wis,
                 "ci_low": rows["FluSight-ensemble"].relative_wis_ci[0], "ci_high": rows["FluSight-ensemble"].relative_wis_ci[1],
                 "dataset": evaluation["name"], "split": "comparison"}]
    card = _card(
        "flu-forecast", "Weekly confirmed influenza hospital admissions, 0-3 weeks ahead, US / states / DC / PR (FluSight format)",
        "Mean of two global multi-horizon quantile networks trained across all locations on log-scale windows, one learning "
        "epidemic shapes from national ILINet since 1997, the other from ILINet with its non-influenza floor removed; the US "
        "made coherent with the sum of the states. 23 hub quantiles per location and horizon.",
        "Public-health and hospital planning weeks ahead of an influenza season's surge; submission to forecast hubs.",
        ["Individual patient decisions", "Pathogens other than influenza", "Locations outside the US hub set",
         "Data not in NHSN's weekly confirmed-admissions definition"],
        [{**FLUSIGHT, "n": len(truth_rows)}, {**ILINET, "n": len(weeks)}], evaluation, metrics,
        {"coverage_50": ours.coverage_50, "coverage_95": ours.coverage_95,
         "wis_by_horizon": {str(h): v for h, v in ours.wis_by_horizon.items()}},
        ["Chosen on alternate 2023-24 reference dates and scored on all of them: the backtest figures are optimistic; the "
         "2024-25 and 2025-26 seasons were held back and will be scored independently.",
         "Trained on two seasons of admissions (2022-24); a season unlike them (timing, subtype, reporting changes such as "
         "NHSN's voluntary reporting from May 2024) will be forecast worse.",
         "Vintages under-report the newest weeks (backfill of about 3%); no backfill correction is made.",
         "The ILINet training series are CDC's final values, not the versions published at the time (ILINet revisions "
         "are small; the admissions themselves come from the as-of vintages).",
         "Locations whose last report is more than two weeks before the reference date are not forecast."],
        [{"title": "Backtest, US, horizon 1", "file": "plots/backtest_us_h1.png"}])
    extra = {ILI_FILE: json.dumps(to_json(weeks)).encode(),
             "plots/backtest_us_h1.png": _fan_png(result.forecasts["flu-ensemble"], result.truth, "US", 1,
                                                  "US weekly flu admissions: backtest forecasts 1 week past the reference date")}
    return _write_package(out, card, forecaster, panel.end, [r.to_dict() for r in rows.values()], extra, log)


def train_census_package(root: str | Path | None, out: Path, log: Callable[[str], None] = print,
                         cache: Path | None = None) -> Path:
    """Backtest on the HHS state series, fit on all of it (to 2021-06-30) and write ``census-forecast`` 1.0.0."""
    log("backtest: weekly origins on the HHS state series ...")
    result = cached(cache, lambda: census_backtest(root, log=log))
    models = {k: result.forecasts[k] for k in ("census-ensemble", "seasonal-naive", "autoets")}
    panel = census_panel(root)
    evaluation = {**HHS, "name": "HHS state census backtest", "n": 1}
    metrics, table = [], {}
    for horizon in (7, 14):
        rows = {row.model: row for row in score_models(models, result.truth, "seasonal-naive", horizons=[horizon])}
        table[horizon] = [r.to_dict() for r in rows.values()]
        evaluation["n"] = rows["census-ensemble"].n
        metrics += _metrics(rows["census-ensemble"], evaluation["name"],
                            f"{CENSUS_ORIGINS[0]} to {CENSUS_ORIGINS[1]}, day {horizon}", "seasonal naive")
    forecaster = census_ensemble(with_anchors=False).fit(panel)
    ours = {h: next(r for r in table[h] if r["model"] == "census-ensemble") for h in table}
    card = _card(
        "census-forecast", "Daily hospital census (inpatient beds in use, ICU patients), 1-14 days ahead, per state or ward",
        "A global multi-horizon quantile network over 28-day windows of log census (day-of-week features), trained across "
        "every state's inpatient and COVID-19 ICU census; it forecasts the change from the same weekday of the last week "
        "(the seasonal-naive value) in units of each series' own day-to-day volatility. 23 quantiles per series and day.",
        "Bed and ICU capacity and nurse staffing planning 1-14 days ahead, for states or a hospital's own wards.",
        ["Individual patient decisions", "Horizons beyond 14 days", "Units with fewer than 28 days of history"],
        [{**HHS, "n": len(panel.ids)}], evaluation, metrics,
        {f"coverage_95_day_{h}": ours[h]["coverage_95"] for h in ours},
        ["Trained and backtested on 2020-21 pandemic data (reduced HHS copy); the ICU series counts adult COVID-19 ICU "
         "patients only. Validate on a hospital's own census before relying on it.",
         "Reporting changes (hospitals joining or leaving the feed) appear as jumps the model cannot foresee.",
         "Retrain on a site's own data (`medai forecast census --refit`) when its census differs from state totals."],
        [{"title": "Backtest, CA inpatient beds in use, day 7", "file": "plots/backtest_ca_d7.png"}])
    plot = _fan_png(result.forecasts["census-ensemble"], result.truth, "CA/inpatient", 7,
                    "CA inpatient beds in use: backtest forecasts 7 days ahead")
    return _write_package(out, card, forecaster, panel.end, {str(h): t for h, t in table.items()},
                          {"plots/backtest_ca_d7.png": plot}, log)


def _write_package(out: Path, card: ModelCard, forecaster, train_end, backtest: object, extra: dict[str, bytes],
                   log: Callable[[str], None]) -> Path:
    """Write the ensemble's weights, ``training.json`` (training end, backtest table), ``extra`` files and the card."""
    with tempfile.TemporaryDirectory() as tmp:
        files = {**forecaster.save_weights(Path(tmp)), **extra}
        files[TRAINING_FILE] = json.dumps({"train_end": train_end.isoformat(), "backtest": backtest}, indent=1).encode()
        package = save_package(out, card, files)
    log(f"package written to {package.path}")
    return package.path
