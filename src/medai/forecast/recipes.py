"""The shipped ensembles' recipes: members, their settings and weights (behind training and the benchmark).

Flu: two global networks, one learning epidemic shapes from national ILI, the other from ILI with
its non-influenza floor removed (overall and in three age bands), averaged level by level, the US
made coherent with the states, the intervals widened by 10% on the log scale (on the tuning dates
their 50% coverage was 0.39 and 95% coverage 0.90). The hub-style baseline and AutoETS are fitted beside them with
weight 0: on the alternate 2023-24 reference dates used to choose the recipe, giving them any
weight made the ensemble worse (their rows stay in the benchmark table).

Census: a global network over 28-day windows (day-of-week features, up to 16 daily steps) whose
changes are measured from the same weekday of the last week (the seasonal-naive forecast) in units
of each series' own day-to-day volatility, with the seasonal-naive (all history) and AutoETS (last
120 days, for run time) anchors fitted beside it with weight 0. Chosen on the census backtest's
origins, like the flu recipe.
"""

from __future__ import annotations

from medai.forecast.model import EnsembleForecaster, MemberSpec
from medai.forecast.task import HORIZONS

FLU_NETWORK = {"window": 8, "steps": 5, "calendar": "season", "epochs": 40, "n_seeds": 3, "auxiliary_weight": 15.0}
FLU_SPREAD = 1.1
CENSUS_NETWORK = {"window": 28, "steps": 16, "calendar": "weekday", "anchor": 7, "scaled": True, "period": 7, "epochs": 20,
                  "n_seeds": 2, "hidden": 64, "batch_size": 512}
CENSUS_HORIZONS = tuple(range(1, 15))


def flu_ensemble(with_anchors: bool = True) -> EnsembleForecaster:
    """The flu admissions ensemble (``with_anchors`` adds the weight-0 baseline and AutoETS members)."""
    members = [MemberSpec("network-ili", "network", FLU_NETWORK, 1.0, "ili"),
               MemberSpec("network-ili-adjusted", "network", FLU_NETWORK, 1.0, "ili_adjusted")]
    if with_anchors:
        members += [MemberSpec("baseline", "baseline", {"n_samples": 4000}, 0.0),
                    MemberSpec("autoets", "stats", {"model": "AutoETS"}, 0.0)]
    return EnsembleForecaster("flu-ensemble", members, HORIZONS, 7, combination="mean", max_lag=2, total="US",
                              spread=FLU_SPREAD)


def census_ensemble(with_anchors: bool = True) -> EnsembleForecaster:
    """The census ensemble (``with_anchors`` adds the weight-0 seasonal-naive and AutoETS members)."""
    members = [MemberSpec("network", "network", CENSUS_NETWORK, 1.0)]
    if with_anchors:
        members += [MemberSpec("seasonal-naive", "stats", {"model": "SeasonalNaive", "season_length": 7, "transform": "none"}, 0.0),
                    MemberSpec("autoets", "stats", {"model": "AutoETS", "season_length": 7, "transform": "none", "history": 120}, 0.0)]
    return EnsembleForecaster("census-ensemble", members, CENSUS_HORIZONS, 1, combination="mean", max_lag=2)
