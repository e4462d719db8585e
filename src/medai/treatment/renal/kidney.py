"""Kidney function for drug dosing: CKD-EPI 2021 eGFR and Cockcroft-Gault creatinine clearance.

* CKD-EPI 2021 (race-free creatinine equation): Inker LA et al. N Engl J Med 2021;385:1737-1749.
  eGFR = 142 x min(Scr/k, 1)^a x max(Scr/k, 1)^-1.200 x 0.9938^age [x 1.012 if female],
  k = 0.7 (female) or 0.9 (male), a = -0.241 (female) or -0.302 (male); mL/min/1.73 m2.
* Cockcroft DW, Gault MH. Nephron 1976;16:31-41.
  CrCl = (140 - age) x weight / (72 x Scr) [x 0.85 if female]; mL/min, total body weight.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from medai.core.records import Observation, Patient
from medai.errors import InvalidInput, Problem

CREATININE_LOINC = ("2160-0", "38483-4")
WEIGHT_LOINC = "29463-7"
HEIGHT_LOINC = "8302-2"
LIMITS = {"creatinine_mg_dl": (0.1, 20.0), "age_years": (18.0, 120.0), "weight_kg": (25.0, 350.0)}
"""Plausible adult values; anything outside is refused with an error naming the field."""


def _check(**values: float | None) -> None:
    problems = []
    for name, value in values.items():
        low, high = LIMITS[name]
        if value is None:
            problems.append(Problem(name, "is required", "required"))
        elif not low <= value <= high:
            problems.append(Problem(name, f"{value} is outside the plausible adult range {low}-{high}", "value"))
    if problems:
        raise InvalidInput(problems)


def _sex(sex: str) -> bool:
    if sex not in ("male", "female"):
        raise InvalidInput(Problem("sex", f"{sex!r}: the equations need 'male' or 'female'", "value"))
    return sex == "female"


def ckd_epi_2021(creatinine_mg_dl: float, age_years: float, sex: str) -> float:
    """CKD-EPI 2021 creatinine eGFR, mL/min/1.73 m2."""
    _check(creatinine_mg_dl=creatinine_mg_dl, age_years=age_years)
    female = _sex(sex)
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = creatinine_mg_dl / kappa
    return 142 * min(ratio, 1) ** alpha * max(ratio, 1) ** -1.200 * 0.9938 ** age_years * (1.012 if female else 1.0)


def cockcroft_gault(creatinine_mg_dl: float, age_years: float, weight_kg: float, sex: str) -> float:
    """Cockcroft-Gault creatinine clearance, mL/min (weight as given, normally total body weight)."""
    _check(creatinine_mg_dl=creatinine_mg_dl, age_years=age_years, weight_kg=weight_kg)
    return (140 - age_years) * weight_kg / (72 * creatinine_mg_dl) * (0.85 if _sex(sex) else 1.0)


@dataclass(frozen=True)
class KidneyFunction:
    """Kidney function estimates and the inputs they came from."""

    creatinine_mg_dl: float
    creatinine_time: datetime | None
    age_years: float
    sex: str
    weight_kg: float | None
    egfr: float
    crcl: float | None
    notes: list[str] = field(default_factory=list)

    def value(self, measure: str) -> float | None:
        """The estimate a rule uses: ``egfr`` or ``crcl``."""
        return self.egfr if measure == "egfr" else self.crcl


def estimate(creatinine_mg_dl: float, age_years: float, sex: str, weight_kg: float | None = None,
             height_cm: float | None = None, creatinine_time: datetime | None = None) -> KidneyFunction:
    """eGFR always; CrCl when the weight is known."""
    notes = []
    crcl = None
    if weight_kg is not None:
        crcl = cockcroft_gault(creatinine_mg_dl, age_years, weight_kg, sex)
        if height_cm and weight_kg / (height_cm / 100) ** 2 >= 30:
            notes.append("BMI >= 30: Cockcroft-Gault with total body weight may overestimate clearance.")
    else:
        notes.append("No body weight: Cockcroft-Gault creatinine clearance cannot be computed.")
    return KidneyFunction(creatinine_mg_dl=creatinine_mg_dl, creatinine_time=creatinine_time, age_years=age_years,
                          sex=sex, weight_kg=weight_kg, egfr=ckd_epi_2021(creatinine_mg_dl, age_years, sex), crcl=crcl,
                          notes=notes)


def _latest(observations: list[Observation], codes: tuple[str, ...]) -> Observation | None:
    found = [o for o in observations if o.loinc in codes and o.value is not None and o.status not in ("entered-in-error", "cancelled")]
    return max(found, key=lambda o: o.effective or datetime.min.replace(tzinfo=None), default=None) if found else None


def _age(birth: date, at: date) -> float:
    return at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))


class NoCreatinine(LookupError):
    """The patient has no serum creatinine result, so kidney function cannot be estimated."""


def from_records(patient: Patient, observations: list[Observation], today: date | None = None) -> KidneyFunction:
    """Kidney function from the patient's latest creatinine, weight and height (canonical-unit records).

    Raises :class:`NoCreatinine` when there is no creatinine result and :class:`InvalidInput` naming
    the field when age or sex is missing or a value is implausible.
    """
    creatinine = _latest(observations, CREATININE_LOINC)
    if creatinine is None:
        raise NoCreatinine("no serum creatinine result (LOINC 2160-0 or 38483-4): kidney function not estimated")
    if creatinine.unit not in (None, "mg/dL"):
        raise InvalidInput(Problem("creatinine.unit", f"expected mg/dL after normalisation, got {creatinine.unit!r}"))
    if patient.birth_date is None:
        raise InvalidInput(Problem("Patient.birthDate", "is required to estimate kidney function", "required"))
    when = (creatinine.effective.date() if creatinine.effective else None) or today or date.today()
    weight, height = _latest(observations, (WEIGHT_LOINC,)), _latest(observations, (HEIGHT_LOINC,))
    result = estimate(creatinine.value, _age(patient.birth_date, when), patient.gender or "", weight.value if weight else None,
                      height.value if height else None, creatinine.effective)
    return result
