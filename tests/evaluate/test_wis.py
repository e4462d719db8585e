"""WIS and coverage on hand-worked cases from the definitions in Bracher et al. (2021), PLoS Comput Biol 17(2):e1008618.

The worked forecast: median 10, 50% interval [8, 12], 90% interval [5, 15] (levels 0.05, 0.25, 0.5, 0.75, 0.95),
so K = 2 intervals with alpha 0.5 and 0.1, weights w0 = 1/2, w1 = 0.25, w2 = 0.05, and WIS = sum / (K + 1/2) = sum / 2.5.
"""

import numpy as np
import pytest

from medai.errors import InvalidInput
from medai.evaluate.wis import interval_coverage, interval_score, weighted_interval_score
from medai.forecast.quantiles import HUB_LEVELS

LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)
FORECAST = (5.0, 8.0, 10.0, 12.0, 15.0)


def test_interval_score_by_hand():
    assert interval_score(8, 12, 10, 0.5) == pytest.approx(4)          # inside: the width
    assert interval_score(8, 12, 16, 0.5) == pytest.approx(4 + 4 * 4)  # above: width + 2/alpha * 4
    assert interval_score(5, 15, 3, 0.1) == pytest.approx(10 + 20 * 2)  # below: width + 2/alpha * 2


@pytest.mark.parametrize("y,wis,dispersion,over,under", [
    # inside both intervals: (0.5*|9-10| + 0.25*4 + 0.05*10) / 2.5
    (9.0, 0.8, 0.6, 0.2, 0.0),
    # above both: (0.5*6 + 0.25*(4 + 4*4) + 0.05*(10 + 20*1)) / 2.5 = (3 + 5 + 1.5) / 2.5
    (16.0, 3.8, 0.6, 0.0, 3.2),
    # below both: (0.5*7 + 0.25*(4 + 4*5) + 0.05*(10 + 20*2)) / 2.5 = (3.5 + 6 + 2.5) / 2.5
    (3.0, 4.8, 0.6, 4.2, 0.0),
])
def test_wis_and_its_decomposition_by_hand(y, wis, dispersion, over, under):
    result = weighted_interval_score(FORECAST, LEVELS, y)
    assert result.wis == pytest.approx(wis)
    assert result.dispersion == pytest.approx(dispersion)
    assert result.overprediction == pytest.approx(over)
    assert result.underprediction == pytest.approx(under)


def test_median_only_is_the_absolute_error():
    assert weighted_interval_score([10.0], [0.5], 13.0).wis == pytest.approx(3.0)


def test_wis_is_twice_the_mean_pinball_loss_over_the_hub_levels():
    rng = np.random.default_rng(1)
    q = np.sort(rng.gamma(3, 40, size=(200, 23)), axis=1)
    y = rng.gamma(3, 40, size=200)
    tau = np.asarray(HUB_LEVELS)
    error = y[:, None] - q
    pinball = np.maximum(tau * error, (tau - 1) * error).mean(axis=1)
    assert weighted_interval_score(q, HUB_LEVELS, y).wis == pytest.approx(2 * pinball)


def test_vectorised_over_leading_axes():
    q = np.broadcast_to(np.asarray(FORECAST), (3, 2, 5))
    y = np.array([[9, 16], [3, 9], [16, 3]], dtype=float)
    assert weighted_interval_score(q, LEVELS, y).wis == pytest.approx(np.array([[0.8, 3.8], [4.8, 0.8], [3.8, 4.8]]))


def test_coverage_includes_the_bounds():
    y = np.array([8.0, 12.0, 7.9, 12.1, 5.0])
    q = np.broadcast_to(np.asarray(FORECAST), (5, 5))
    assert interval_coverage(q, LEVELS, y, 0.5).tolist() == [True, True, False, False, False]
    assert interval_coverage(q, LEVELS, y, 0.9).tolist() == [True, True, True, True, True]


@pytest.mark.parametrize("levels,quantiles,y,fragment", [
    ((0.25, 0.75), (8, 12), 9, "median"),
    ((0.1, 0.5, 0.8), (5, 10, 12), 9, "partner"),
    (LEVELS, (5, 8, 10, 9, 15), 9, "crossing"),
    (LEVELS, (5, 8, 10, 12), 9, "one per level"),
    (LEVELS, (5, 8, float("nan"), 12, 15), 9, "NaN"),
])
def test_bad_forecasts_are_refused_with_the_reason(levels, quantiles, y, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        weighted_interval_score(quantiles, levels, y)


def test_coverage_asks_for_an_interval_the_levels_have():
    with pytest.raises(InvalidInput, match="no central 0.8 interval"):
        interval_coverage(FORECAST, LEVELS, 9.0, 0.8)
