"""Train the learned warfarin dose model on the IWPC train split and write its model package with a card."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from medai import __version__
from medai.datasets import warfarin_iwpc as iwpc_data
from medai.datasets.registry import DATASETS
from medai.models import DataSource, Metric, ModelCard, SubgroupResult, save_package
from medai.treatment.warfarin.evaluate import accuracy_row
from medai.treatment.warfarin.features import feature_matrix
from medai.treatment.warfarin.model import WarfarinDoseModel
from medai.treatment.warfarin.patient import WarfarinPatient, from_iwpc_row
from medai.treatment.warfarin.predict import MODEL_NAME, WEIGHTS_FILE

VERSION = "1.0.0"
DATASET = "IWPC warfarin cohort (PharmGKB, CS234 release)"


def cohort(root: str | Path | None = None) -> tuple[list[WarfarinPatient], np.ndarray, list[WarfarinPatient], np.ndarray]:
    """Train and validation patients (with a stable dose) of the shared IWPC cohort, split by patient."""
    train, validation = iwpc_data.split(iwpc_data.with_dose(iwpc_data.load(root)))
    return ([from_iwpc_row(r) for r in train], np.array([iwpc_data.stable_dose(r) for r in train]),
            [from_iwpc_row(r) for r in validation], np.array([iwpc_data.stable_dose(r) for r in validation]))


def _card(n_train: int, n_val: int, row: dict, coverage: float, race_rows: list[dict], interval: float) -> ModelCard:
    info = DATASETS["warfarin_iwpc"]
    train_src = DataSource(name=DATASET, citation=info.citation, licence=info.licence, n=n_train)
    val_src = DataSource(name=f"{DATASET}, validation split", citation=info.citation, licence=info.licence, n=n_val)
    metrics = [Metric(name=f"{label} ({group})", value=row[f"{key}_{group}"], ci_low=row[f"{key}_{group}_ci"][0],
                      ci_high=row[f"{key}_{group}_ci"][1], dataset=val_src.name, split="validation (20% of patients, hash of id)")
               for key, label in (("mae", "MAE mg/week"), ("within20", "% within 20% of stable dose"))
               for group in ("all", "low", "high")]
    subgroups = [SubgroupResult(attribute="race", group=r["name"], n=r["n_all"], metric="% within 20%", value=r["within20_all"])
                 for r in race_rows if r["n_all"]]
    return ModelCard(
        name=MODEL_NAME, version=VERSION, task="Stable weekly warfarin dose prediction (target INR mostly 2-3)",
        summary="LightGBM (absolute-error loss on log dose) blended 50/50 with a median linear regression, on clinical "
                "data and CYP2C9/VKORC1 genotypes; VKORC1 -1639 imputed from proxy SNPs as IWPC did, other missing "
                "values treated as unknown. Gives an 80% split-conformal interval and per-factor effects.",
        intended_use="Decision support for the initial maintenance dose of warfarin in adults, shown to a clinician next "
                     "to the IWPC algorithms and the CPIC interpretation; the INR still guides titration.",
        out_of_scope_use=["Children", "Loading doses", "Target INR ranges other than about 2-3 without clinician review",
                          "Dosing without INR monitoring"],
        training_data=[train_src], evaluation_data=[val_src], metrics=metrics, subgroups=subgroups,
        calibration={"interval_level": interval, "interval_coverage_validation": coverage},
        limitations=["Trained on 21 IWPC sites (2009); practice, populations and genotyping differ elsewhere.",
                     "Beats the IWPC pharmacogenetic algorithm only slightly; accuracy is poorest for high-dose patients.",
                     "CYP4F2 and rs12777823 are not in the training data; use the CPIC adjustments for them.",
                     "Missing genotypes widen the real error beyond the interval for unusual patients."],
        ethical_considerations="Race is an input because dose requirements and genotype frequencies differ by ancestry; "
                               "accuracy by race is reported. IWPC data are de-identified; no PHI is shipped.",
        authors=["medai contributors"], licence=f"Apache-2.0 (model); training data {info.licence}",
        created=datetime.now(UTC), medai_version=__version__)


def train_and_package(root: str | Path | None, out: str | Path, log: Callable[[str], None] = print,
                      n_boot: int = 500) -> Path:
    """Fit on the train split, validate on the held-out patients, and save the package to ``out``."""
    train_p, train_y, val_p, val_y = cohort(root)
    log(f"train {len(train_y)} patients, validation {len(val_y)}")
    model = WarfarinDoseModel().fit(feature_matrix(train_p), train_y)
    X_val = feature_matrix(val_p)
    predicted = model.predict(X_val)
    low, high = model.predict_interval(X_val)
    coverage = float(np.mean((val_y >= low) & (val_y <= high)))
    row = accuracy_row("learned", predicted, val_y, n_boot=n_boot)
    races = np.array([p.race for p in val_p])
    race_rows = [accuracy_row(race, predicted[races == race], val_y[races == race]) for race in ("white", "asian", "black", "unknown")]
    log(f"validation MAE {row['mae_all']:.2f} mg/week, within 20% {row['within20_all']:.1f}%, interval coverage {coverage:.2f}")
    card = _card(len(train_y), len(val_y), row, coverage, race_rows, model.interval)
    return save_package(out, card, {WEIGHTS_FILE: model.to_json().encode("utf-8")}).path
