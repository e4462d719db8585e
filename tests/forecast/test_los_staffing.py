"""Admissions -> census through length of stay, scenarios, and staffing from census forecasts."""

from datetime import date, timedelta

import numpy as np
import pytest

from medai.errors import InvalidInput
from medai.forecast.knowledge import staffing_table
from medai.forecast.los import LengthOfStay, gamma_survival
from medai.forecast.panel import build_panel
from medai.forecast.quantiles import HUB_LEVELS, QuantileForecast
from medai.forecast.scenario import project
from medai.forecast.staffing import exceedance_probability, expected_shortfall, staffing_plan

DAY0 = date(2024, 1, 1)


def test_steady_admissions_give_littles_law_census():
    model = LengthOfStay(days=120)
    model.survival_, model.scale_ = gamma_survival(6.0, 2.0, 120), 1.0
    census = model.expected_census(np.full(200, 10.0))
    # census = admissions/day x sum_k S(k): a gamma LOS of mean 6 days, counted from the admission day, sums to 6 + 1/2
    assert census[-1] == pytest.approx(10 * gamma_survival(6.0, 2.0, 120).sum()) == pytest.approx(65, rel=0.01)


def _flows(mean_days=5.0, shape=2.0, days=300, seed=0):
    rng = np.random.default_rng(seed)
    survival = gamma_survival(mean_days, shape)
    admissions = {s: rng.poisson(rate, days).astype(float) for s, rate in (("A", 20), ("B", 50))}
    records_a, records_c = [], []
    for s, a in admissions.items():
        census = np.convolve(a, survival)[:days]
        for d in range(days):
            records_a.append((s, DAY0 + timedelta(days=d), a[d]))
            records_c.append((s, DAY0 + timedelta(days=d), float(round(census[d]))))
    return build_panel(records_a, 1), build_panel(records_c, 1)


def test_los_fit_recovers_the_mean_stay():
    admissions, census = _flows()
    model = LengthOfStay().fit(admissions, census)
    assert model.mean_days_ * model.scale_ == pytest.approx(5.0, rel=0.1)


def test_kaplan_meier_counts_ongoing_stays_as_censored():
    model = LengthOfStay(days=10).fit_stays([1, 1, 3, 3, 5], [False, False, False, True, False])
    assert model.survival_[:3].tolist() == pytest.approx([1.0, 1.0, 0.6])  # two of five left on day 1
    assert model.survival_[4] == pytest.approx(0.6 * (1 - 1 / 3))  # one of three at risk left on day 3


def test_a_30_percent_rise_in_admissions_raises_the_projected_census():
    admissions, census = _flows()
    result = project(admissions, census, "B", census.end, uplift=0.3, horizon=14)
    assert len(result.rows) == 14
    last = result.rows[-1]
    assert last["median"] > last["base_median"] * 1.15
    assert last["lower_95"] <= last["lower_80"] <= last["median"] <= last["upper_80"] <= last["upper_95"]
    assert result.admissions_per_day == pytest.approx(1.3 * admissions.row("B")[-7:].mean())
    with pytest.raises(InvalidInput, match="known"):
        project(admissions, census, "Z", census.end, 0.3)


def test_expected_shortfall_and_exceedance_by_hand():
    levels = np.array([0.25, 0.5, 0.75])
    q = np.array([10.0, 20.0, 30.0])
    # (Q(u) - 20)+ is 0 up to u = 0.5, then 10 at 0.75 and beyond: trapezoids 0.25 * 5 + 0.25 * 10
    assert expected_shortfall(q, levels, 20.0) == pytest.approx(3.75)
    assert expected_shortfall(q, levels, 40.0) == 0.0
    assert exceedance_probability(q, levels, 25.0) == pytest.approx(0.375)
    assert exceedance_probability(q, levels, 5.0) == 1.0 and exceedance_probability(q, levels, 31.0) == 0.0


def _census_forecast(median: float, spread: float, ids=("Ward A/icu", "Ward B/inpatient")) -> QuantileForecast:
    from scipy.stats import norm

    q = median + spread * norm.ppf(HUB_LEVELS)
    values = np.broadcast_to(q, (len(ids), 2, len(HUB_LEVELS))).copy()
    return QuantileForecast("census", ids, DAY0, 1, (1, 2), HUB_LEVELS, values)


def test_nurses_per_shift_follow_the_unit_ratio():
    plan = staffing_plan(_census_forecast(9.0, 1.0), capacity={"Ward A/icu": 10.0})
    icu = [row for row in plan if row.series == "Ward A/icu"]
    ward = [row for row in plan if row.series == "Ward B/inpatient"]
    assert icu[0].unit_type == "icu" and icu[0].patients_per_nurse == 2
    assert icu[0].nurses_per_shift_median == 5            # ceil(9 / 2)
    assert icu[0].nurses_per_shift_planning == 6          # ceil(10.28 / 2) at the 90th percentile
    assert ward[0].unit_type == "med_surg" and ward[0].nurses_per_shift_median == 2  # ceil(9 / 5)
    assert 0.1 < icu[0].p_over_capacity < 0.2 and icu[0].expected_shortfall_beds > 0
    assert ward[0].capacity is None and ward[0].expected_shortfall_beds is None


def test_unknown_units_and_bad_ratio_files_are_refused(tmp_path):
    with pytest.raises(InvalidInput, match="no staffing ratio for unit 'theatre'"):
        staffing_plan(_census_forecast(5, 1, ids=("X/theatre",)))
    bad = tmp_path / "ratios.yaml"
    bad.write_text("version: '1'\ndescription: d\nshifts_per_day: 2\nunits: {icu: {label: ICU, patients_per_nurse: 0, "
                   "citation: {source: site policy}}}\nseries_units: {}\n")
    with pytest.raises(InvalidInput, match="patients_per_nurse"):
        staffing_table(bad)


def test_shipped_ratios_carry_citations():
    table = staffing_table()
    assert table.units["icu"].patients_per_nurse == 2 and table.units["med_surg"].patients_per_nurse == 5
    assert all(unit.citation.source for unit in table.units.values())
