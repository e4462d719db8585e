"""Vancomycin MIPD: one-compartment superposition, MAP recovery of simulated patients, regimen choice."""

import math

import numpy as np
import pytest

from medai.errors import InvalidInput
from medai.treatment.pk.bayes import omega_from_cv
from medai.treatment.pk.onecompartment import Infusion, auc, concentration, steady_state
from medai.treatment.vancomycin import VancomycinCourse, course_from_dict, infusion_hours, knowledge, recommend

CL, V = 4.0, 60.0


def test_superposition_reaches_the_analytic_steady_state():
    doses = [Infusion(12 * k, 1000, 1.0) for k in range(30)]
    ss = steady_state(1000, 12, 1.0, CL, V)
    assert concentration([29 * 12 + 1.0], doses, CL, V)[0] == pytest.approx(ss["peak_mg_l"], rel=1e-6)
    assert concentration([30 * 12 - 1e-9], doses, CL, V)[0] == pytest.approx(ss["trough_mg_l"], rel=1e-6)
    assert auc(doses, CL, V, 28 * 12, 30 * 12) == pytest.approx(ss["auc24"], rel=1e-6) == pytest.approx(2000 / CL, rel=1e-6)


def test_exact_auc_matches_dense_trapezoid():
    doses = [Infusion(0, 1500, 1.5), Infusion(12, 1000, 1.0)]
    grid = np.linspace(3, 30, 200001)
    assert auc(doses, CL, V, 3, 30) == pytest.approx(np.trapezoid(concentration(grid, doses, CL, V), grid), rel=1e-6)


def test_noise_free_levels_reproduce_the_sawchuk_zaske_hand_calculation():
    """Steady-state peak and trough, solved by the classic first-order equations, equal the MAP fit with tiny error."""
    course = VancomycinCourse(70, 80, residual_additive_mg_l=0.001)
    for k in range(30):                                 # long enough to be at steady state
        course.add_dose(12 * k, 1000, 1.0)
    t_peak, t_trough = 29 * 12 + 2.0, 30 * 12 - 0.5
    c_peak, c_trough = concentration([t_peak, t_trough], course.doses, CL, V)
    course.add_level(t_peak, float(c_peak))
    course.add_level(t_trough, float(c_trough))
    ke = math.log(c_peak / c_trough) / (t_trough - t_peak)
    c_max = c_peak * math.exp(ke * 1.0)                 # back-extrapolate to the end of the infusion
    c_min = c_trough * math.exp(-ke * 0.5)              # forward to the end of the interval
    v_hand = 1000 / 1.0 * (1 - math.exp(-ke * 1.0)) / (ke * (c_max - c_min * math.exp(-ke * 1.0)))
    fit = course.estimate()
    assert fit.cl_l_h / fit.v_l == pytest.approx(ke, rel=1e-3)
    assert fit.v_l == pytest.approx(v_hand, rel=1e-3) == pytest.approx(V, rel=1e-3)
    assert fit.cl_l_h == pytest.approx(ke * v_hand, rel=1e-3)


def _virtual_patient(rng, om, assay):
    course = VancomycinCourse(float(np.clip(rng.normal(75, 15), 45, 110)), float(rng.uniform(30, 130)),
                              residual_additive_mg_l=assay.additive_mg_l, residual_proportional=assay.proportional)
    for k in range(4):
        course.add_dose(12 * k, 1000)
    cl_pop, v_pop = course.typical()
    eta = rng.multivariate_normal([0, 0], om)
    cl, v = cl_pop * math.exp(eta[0]), v_pop * math.exp(eta[1])
    times = [36 + infusion_hours(1000) + 1, 47.9]          # peak 1 h after the 4th infusion, trough before the 5th
    true = concentration(times, course.doses, cl, v)
    noisy = true + rng.normal(0, 1, 2) * np.sqrt(assay.additive_mg_l**2 + (assay.proportional * true) ** 2)
    return course, times, np.clip(noisy, 0.6, None), cl


def test_map_recovers_auc_within_15_percent_for_90_percent_of_virtual_patients():
    model = knowledge().model
    om = omega_from_cv([model.iiv_cv["cl"], model.iiv_cv["v"]], model.iiv_correlation)
    rng = np.random.default_rng(2026)
    hits = []
    for _ in range(60):
        course, times, levels, true_cl = _virtual_patient(rng, om, model.assay_error)
        for t, c in zip(times, levels):
            course.add_level(t, float(c))
        fit = course.estimate()
        hits.append(abs(true_cl / fit.cl_l_h - 1) <= 0.15)   # AUC24 = daily dose / CL
    assert np.mean(hits) >= 0.9


def test_each_new_level_updates_the_estimate_and_narrows_it():
    model = knowledge().model
    rng = np.random.default_rng(7)
    course, times, levels, true_cl = _virtual_patient(rng, omega_from_cv([model.iiv_cv["cl"], model.iiv_cv["v"]]),
                                                      model.assay_error)
    prior = course.estimate()
    course.add_level(times[0], float(levels[0]))
    one = course.estimate()
    course.add_level(times[1], float(levels[1]))
    two = course.estimate()
    assert prior.levels_used == 0 and two.levels_used == 2
    assert prior.log_cl_sd > one.log_cl_sd > two.log_cl_sd
    assert abs(math.log(two.cl_l_h / true_cl)) < abs(math.log(prior.cl_l_h / true_cl)) + 0.05


def test_recommendation_hits_the_target_range_and_cites_sources():
    course = VancomycinCourse(80, 90)
    for k in range(4):
        course.add_dose(12 * k, 1000)
    course.add_level(38.7, 28.0)
    course.add_level(47.9, 11.0)
    result = recommend(course)
    assert 400 <= result.regimen.auc24 <= 600 and result.regimen.interval_h == 12
    assert result.regimen.auc24_90ci[0] < result.regimen.auc24 < result.regimen.auc24_90ci[1]
    assert result.regimen.infusion_h == pytest.approx(max(1.0, result.regimen.dose_mg / 600), abs=0.01)
    assert result.regimen.dose_mg % 250 == 0 and not result.warnings
    assert any("Rybak" in c for c in result.citations) and any("Buelga" in c for c in result.citations)
    assert result.to_dict()["estimate"]["half_life_h"] > 0


def test_population_only_dose_warns_and_mic_scales_the_target():
    course = VancomycinCourse(70, 100)
    course.add_dose(0, 1500)
    result = recommend(course, mic_mg_l=0.5)
    assert result.target_auc24 == (200, 300) and "No levels yet" in result.warnings[0]


@pytest.mark.parametrize("data, field", [
    ({"weight_kg": 900, "crcl_ml_min": 80, "doses": [{"start_h": 0, "amount_mg": 1000}]}, "weight_kg"),
    ({"weight_kg": 70, "crcl_ml_min": 80, "doses": []}, "doses"),
    ({"weight_kg": 70, "crcl_ml_min": 80, "doses": [{"start_h": 0}]}, r"doses\[0\].amount_mg"),
    ({"weight_kg": 70, "crcl_ml_min": 80, "doses": [{"start_h": 5, "amount_mg": 1000}],
      "levels": [{"time_h": 1, "concentration_mg_l": 10}]}, "level.time_h"),
    ({"weight_kg": 70, "crcl_ml_min": 80, "doses": [{"start_h": 0, "amount_mg": 1000}],
      "levels": [{"time_h": 5, "concentration_mg_l": 900}]}, "concentration_mg_l"),
    ({"weight_kg": 70, "creatinine_mg_dl": 1.0, "age_years": 60, "doses": [{"start_h": 0, "amount_mg": 1000}]}, "sex"),
])
def test_bad_input_names_the_field(data, field):
    with pytest.raises(InvalidInput, match=field):
        course_from_dict(data)


def test_creatinine_inputs_give_cockcroft_gault():
    course = course_from_dict({"weight_kg": 72, "creatinine_mg_dl": 1.0, "age_years": 60, "sex": "male",
                               "doses": [{"start_h": 0, "amount_mg": 1000}]})
    assert course.crcl_ml_min == pytest.approx(80.0)
