"""Kidney function equations worked by hand, and estimation from the patient's latest labs."""

from datetime import date, datetime, timezone

import pytest

from medai.core.fhir.read import record_from_fhir
from medai.core.records import Patient
from medai.errors import InvalidInput
from medai.treatment.renal import NoCreatinine, ckd_epi_2021, cockcroft_gault, estimate, from_records


def test_ckd_epi_2021_male_above_kappa():
    # 142 x (1.0/0.9)^-1.200 x 0.9938^50 (Inker et al. NEJM 2021, race-free creatinine equation)
    expected = 142 * (1.0 / 0.9) ** -1.200 * 0.9938**50
    assert ckd_epi_2021(1.0, 50, "male") == pytest.approx(expected) == pytest.approx(91.69, abs=0.01)


def test_ckd_epi_2021_female_below_kappa():
    expected = 142 * (0.6 / 0.7) ** -0.241 * 0.9938**60 * 1.012
    assert ckd_epi_2021(0.6, 60, "female") == pytest.approx(expected) == pytest.approx(102.69, abs=0.01)


def test_ckd_epi_2021_at_kappa_only_age_and_sex_remain():
    assert ckd_epi_2021(0.9, 40, "male") == pytest.approx(142 * 0.9938**40)
    assert ckd_epi_2021(0.7, 40, "female") == pytest.approx(142 * 0.9938**40 * 1.012)


def test_cockcroft_gault_by_hand():
    assert cockcroft_gault(1.0, 60, 72, "male") == pytest.approx(80.0)
    assert cockcroft_gault(2.0, 80, 50, "female") == pytest.approx(60 * 50 / 144 * 0.85)


@pytest.mark.parametrize("kwargs, field", [
    (dict(creatinine_mg_dl=0.01, age_years=50, sex="male"), "creatinine_mg_dl"),
    (dict(creatinine_mg_dl=45, age_years=50, sex="male"), "creatinine_mg_dl"),
    (dict(creatinine_mg_dl=1.0, age_years=12, sex="male"), "age_years"),
    (dict(creatinine_mg_dl=1.0, age_years=50, sex="other"), "sex"),
])
def test_implausible_values_are_refused_naming_the_field(kwargs, field):
    with pytest.raises(InvalidInput, match=field):
        ckd_epi_2021(**kwargs)


def test_no_weight_gives_egfr_but_no_crcl():
    kidney = estimate(1.2, 70, "female")
    assert kidney.crcl is None and kidney.egfr > 0 and "No body weight" in kidney.notes[0]
    assert kidney.value("egfr") == kidney.egfr


def _observation(loinc: str, value: float, unit: str, when: str) -> dict:
    return {"resourceType": "Observation", "id": f"o-{loinc}-{when}", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}


def test_latest_labs_with_unit_conversion():
    patient = Patient(id="p1", gender="male", birth_date=date(1956, 6, 1))
    observations = [record_from_fhir(o) for o in (
        _observation("2160-0", 1.0, "mg/dL", "2026-01-01T08:00:00Z"),
        _observation("2160-0", 176.8, "umol/L", "2026-03-01T08:00:00Z"),   # 2.0 mg/dL, the latest
        _observation("29463-7", 80, "kg", "2026-02-01T08:00:00Z"))]
    kidney = from_records(patient, observations)
    assert kidney.creatinine_mg_dl == pytest.approx(2.0, abs=0.001)
    assert kidney.age_years == 69
    assert kidney.crcl == pytest.approx((140 - 69) * 80 / (72 * 2.0), rel=1e-3)
    assert kidney.creatinine_time == datetime(2026, 3, 1, 8, tzinfo=timezone.utc)


def test_no_creatinine_is_said_so():
    with pytest.raises(NoCreatinine, match="no serum creatinine"):
        from_records(Patient(id="p1", gender="male", birth_date=date(1950, 1, 1)), [])


def test_missing_birth_date_names_the_field():
    obs = [record_from_fhir(_observation("2160-0", 1.0, "mg/dL", "2026-01-01T08:00:00Z"))]
    with pytest.raises(InvalidInput, match="birthDate"):
        from_records(Patient(id="p1", gender="male"), obs)
