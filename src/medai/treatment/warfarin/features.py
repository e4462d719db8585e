"""Model inputs of the learned warfarin dose model: one numeric vector per patient (NaN = not known)."""

from __future__ import annotations

import math

import numpy as np

from medai.treatment.warfarin.iwpc import impute_vkorc1
from medai.treatment.warfarin.patient import INDICATIONS, WarfarinPatient

NAN = math.nan
FLAGS = ("amiodarone", "enzyme_inducer", "smoker", "diabetes", "heart_failure", "valve_replacement", "aspirin",
         "statin", "azole", "sulfonamide", "macrolide")
PROXIES = (("vkorc1_1173", "T"), ("vkorc1_1542", "C"), ("vkorc1_2255", "T"), ("vkorc1_3730", "A"))

FEATURE_NAMES: list[str] = [
    "age_decades", "height_cm", "weight_kg", "bmi", "male", "race_white", "race_asian", "race_black", "race_unknown",
    "hispanic", "vkorc1_a_alleles", "vkorc1_imputed", *(f"{name}_{allele.lower()}_alleles" for name, allele in PROXIES),
    "cyp2c9_star2", "cyp2c9_star3", "cyp2c9_other_variant", *FLAGS, "target_inr",
    *(f"indication_{name}" for name in INDICATIONS.values()),
]

FACTOR_OF = {
    "age_decades": "age", "height_cm": "body size", "weight_kg": "body size", "bmi": "body size", "male": "sex",
    "race_white": "race", "race_asian": "race", "race_black": "race", "race_unknown": "race", "hispanic": "ethnicity",
    "vkorc1_a_alleles": "VKORC1 genotype", "vkorc1_imputed": "VKORC1 genotype", "cyp2c9_star2": "CYP2C9 genotype",
    "cyp2c9_star3": "CYP2C9 genotype", "cyp2c9_other_variant": "CYP2C9 genotype", "target_inr": "target INR",
    **{f"{name}_{allele.lower()}_alleles": "VKORC1 genotype" for name, allele in PROXIES},
    **{flag: flag.replace("_", " ") for flag in FLAGS},
    **{f"indication_{name}": "indication" for name in INDICATIONS.values()},
}
"""The clinical factor each feature belongs to (explanations are summed per factor)."""


def _flag(value: bool | None) -> float:
    return NAN if value is None else float(value)


def _alleles(genotype: str | None, allele: str) -> float:
    return NAN if genotype is None else float(genotype.count(allele))


def patient_features(patient: WarfarinPatient) -> dict[str, float]:
    """The feature values of one patient, keyed by :data:`FEATURE_NAMES`."""
    f: dict[str, float] = {"age_decades": NAN if patient.decade is None else float(patient.decade),
                           "height_cm": patient.height_cm or NAN, "weight_kg": patient.weight_kg or NAN}
    f["bmi"] = f["weight_kg"] / (f["height_cm"] / 100) ** 2
    f["male"] = {None: NAN, "male": 1.0, "female": 0.0}[patient.sex]
    for race in ("white", "asian", "black", "unknown"):
        f[f"race_{race}"] = float(patient.race == race)
    f["hispanic"] = _flag(patient.hispanic)
    vkorc1, how = impute_vkorc1(patient)
    f["vkorc1_a_alleles"] = _alleles(vkorc1, "A")
    f["vkorc1_imputed"] = float(how is not None and how != "genotyped")
    for name, allele in PROXIES:
        f[f"{name}_{allele.lower()}_alleles"] = _alleles(getattr(patient, name), allele)
    if patient.cyp2c9 is None:
        f["cyp2c9_star2"] = f["cyp2c9_star3"] = f["cyp2c9_other_variant"] = NAN
    else:
        alleles = patient.cyp2c9.replace("*", "").split("/")
        f["cyp2c9_star2"], f["cyp2c9_star3"] = float(alleles.count("2")), float(alleles.count("3"))
        f["cyp2c9_other_variant"] = float(sum(a not in ("1", "2", "3") for a in alleles))
    for flag in FLAGS:
        f[flag] = _flag(getattr(patient, flag))
    f["target_inr"] = patient.target_inr or NAN
    for name in INDICATIONS.values():
        f[f"indication_{name}"] = float(name in patient.indications) if patient.indications else NAN
    return f


def feature_matrix(patients: list[WarfarinPatient]) -> np.ndarray:
    """Rows of :data:`FEATURE_NAMES` values, one per patient."""
    rows = [patient_features(p) for p in patients]
    return np.array([[row[name] for name in FEATURE_NAMES] for row in rows], dtype=float).reshape(len(rows), len(FEATURE_NAMES))
