"""Readmission explanations in clinical words: TreeSHAP contributions grouped into factors.

Each feature belongs to one factor (prior admissions, diagnoses, discharge disposition, ...); a
factor's contribution is the sum of its features' log-odds contributions from the LightGBM
component, and its note describes the encounter's own values.
"""

from __future__ import annotations

import numpy as np

from medai.datasets.diabetes130 import MEDICATIONS, Diabetes130Table
from medai.explain.types import Explanation, FeatureContribution
from medai.risk.readmission.features import CHARLSON, FEATURE_NAMES, diagnosis_group
from medai.risk.readmission.lace import encounter_lace
from medai.risk.readmission.task import code_tables

FACTORS: dict[str, list[str]] = {
    "inpatient admissions before": ["number_inpatient", "previous_number_inpatient", "inpatient_since_previous", "prior_visits"],
    "emergency visits before": ["number_emergency", "previous_number_emergency"],
    "outpatient visits before": ["number_outpatient"],
    "earlier encounters in the file": ["previous_encounters", "previous_time_in_hospital", "previous_days_total",
                                       "previous_num_medications", "previous_number_diagnoses",
                                       "previous_discharge_disposition_id"],
    "discharge disposition": ["discharge_disposition_id"],
    "admission route": ["admission_type_id", "admission_source_id", "acute_admission"],
    "diagnoses": ["diag_1_group", "diag_2_group", "diag_3_group", "diag_1_category", "number_diagnoses", "charlson_index",
                  "diag_1_risk", "diag_max_risk", "diag_mean_risk", "diag3_1_risk", "diag3_max_risk", "diag3_mean_risk",
                  *CHARLSON],
    "length of stay": ["time_in_hospital", "lace"],
    "diabetes medications": [*MEDICATIONS, "change", "diabetesMed", "meds_up", "meds_down", "meds_steady", "meds_on",
                             "num_medications"],
    "glucose and HbA1c tests": ["A1Cresult", "max_glu_serum"],
    "labs and procedures": ["num_lab_procedures", "num_procedures"],
    "age, sex, race and payer": ["age_years", "gender", "race", "payer_code"],
    "admitting specialty": ["medical_specialty"],
}
_FACTOR_OF = {feature: factor for factor, features in FACTORS.items() for feature in features}
_FACTOR_INDEX = np.array([list(FACTORS).index(_FACTOR_OF[name]) for name in FEATURE_NAMES])


def factor_contributions(contributions: np.ndarray) -> np.ndarray:
    """(rows x factors) sums of per-feature log-odds contributions."""
    out = np.zeros((contributions.shape[0], len(FACTORS)))
    np.add.at(out.T, _FACTOR_INDEX, contributions.T)
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


_COUNTS = {"inpatient admissions before": ("number_inpatient", "inpatient admission", " in the year before"),
           "emergency visits before": ("number_emergency", "emergency visit", " in the year before"),
           "outpatient visits before": ("number_outpatient", "outpatient visit", " in the year before"),
           "length of stay": ("time_in_hospital", "day", " in hospital")}


def describe(factor: str, table: Diabetes130Table, row: int, previous: float) -> str:
    """The encounter's own values behind a factor, in words."""
    value = {name: table[name][row] for name in table.columns}
    codes = code_tables()
    if factor in _COUNTS:
        column, noun, tail = _COUNTS[factor]
        return _plural(int(value[column]), noun) + tail
    if factor == "earlier encounters in the file":
        return f"{_plural(int(previous), 'earlier encounter')} of this patient in the file"
    if factor == "discharge disposition":
        return codes.describe("discharge_disposition_id", value["discharge_disposition_id"])
    if factor == "admission route":
        return (f"{codes.describe('admission_type_id', value['admission_type_id'])} admission from "
                f"{codes.describe('admission_source_id', value['admission_source_id']).lower()}")
    if factor == "diagnoses":
        lace = encounter_lace(table, row)
        first = value["diag_1"] or "not recorded"
        extra = f"; Charlson: {', '.join(lace.conditions)}" if lace.conditions else ""
        return f"primary diagnosis {first} ({diagnosis_group(value['diag_1'])}), {value['number_diagnoses']} diagnoses{extra}"
    if factor == "diabetes medications":
        changed = [m for m in MEDICATIONS if value[m] in ("Up", "Down")]
        return f"{value['num_medications']} medications" + (f"; changed: {', '.join(changed)}" if changed else "")
    texts = {"glucose and HbA1c tests": f"HbA1c {value['A1Cresult'] or 'not recorded'}, "
                                        f"max glucose {value['max_glu_serum'] or 'not recorded'}",
             "labs and procedures": f"{value['num_lab_procedures']} lab tests, {value['num_procedures']} procedures",
             "age, sex, race and payer": f"age {value['age'] or 'unknown'}, {value['gender'] or 'sex unknown'}"}
    return texts.get(factor, f"specialty {value['medical_specialty'] or 'not recorded'}")


def explain_encounter(contributions: np.ndarray, table: Diabetes130Table, row: int, previous_encounters: float,
                      probability: float, top: int = 4) -> Explanation:
    """The explanation of one encounter's risk: the factors raising it most, with the encounter's values."""
    totals = factor_contributions(contributions[None, :])[0]
    order = [k for k in np.argsort(-totals) if totals[k] > 0][:top]
    names = list(FACTORS)
    items = [FeatureContribution(feature=names[k], contribution=round(float(totals[k]), 3),
                                 note=describe(names[k], table, row, previous_encounters)) for k in order]
    summary = "; ".join(item.note for item in items) or "no factor raised the risk above average"
    return Explanation(method="TreeSHAP (LightGBM component), grouped into clinical factors; log-odds",
                       summary=f"30-day readmission risk {probability:.0%}: {summary}", contributions=items,
                       caveats=["Contributions come from the gradient-boosted component of the blended model.",
                                "History features count only the earlier encounters present in the scored file."])


def excluded_explanation(table: Diabetes130Table, row: int, probability: float) -> Explanation:
    """Explanation for an encounter outside the model's outcome (death or hospice)."""
    disposition = code_tables().describe("discharge_disposition_id", table["discharge_disposition_id"][row])
    return Explanation(method="observed rate of the discharge disposition (training data)",
                       summary=f"30-day readmission risk {probability:.0%}: {disposition}",
                       caveats=["Encounters ending in death or hospice are outside the model's outcome; the value is the "
                                "readmission rate observed for this disposition in training."])
