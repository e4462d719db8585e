"""30-day readmission benchmark on the Diabetes 130 validation patients: accuracy table, split sensitivity, speed.

    MEDAI_DATA_DIR=../shared/data OMP_NUM_THREADS=1 python benchmarks/readmission.py

Rows (same validation encounters, patient-level bootstrap CIs): the shipped model (LightGBM + MLP
blend, calibrated), LightGBM alone, the MLP alone, the LACE index (the clinical anchor) and a
logistic regression fitted here on the same training rows. Targets from the issue: AUROC >= 0.70,
calibration slope 0.9-1.1. Split sensitivity: the LightGBM recipe retrained on other random patient
splits, to show how much the validation AUROC depends on which patients are held out. Speed, in
the same run on one thread: encounters scored per second by the whole predict path beside the
feature computation alone. Writes benchmarks/results/readmission.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

from medai.risk.readmission.evaluate import comparison_rows
from medai.risk.readmission.features import raw_features
from medai.risk.readmission.model import ReadmissionLightGBM
from medai.risk.readmission.predict import load_shipped_model
from medai.risk.readmission.task import load_cohort
from medai.risk.readmission.train import prepare

TARGET_AUROC, TARGET_SLOPE = 0.70, (0.9, 1.1)


def split_sensitivity(table, seeds: list[str]) -> list[dict]:
    """Validation AUROC of the LightGBM recipe (encoder and trees refitted) on other random patient splits."""
    from sklearn.metrics import roc_auc_score

    out = []
    for seed in seeds:
        data, _ = prepare(table, seed=seed)
        lgbm = ReadmissionLightGBM().fit(data.fit.X, data.labels("fit"), data.inner.X, data.labels("inner"))
        auroc = float(roc_auc_score(data.labels("validation"), lgbm.predict_proba(data.validation.X)))
        out.append({"seed": seed, "lightgbm_auroc": auroc, "validation_encounters": int(data.split.validation.sum())})
        print(f"  split {seed}: LightGBM validation AUROC {auroc:.3f}", flush=True)
    return out


def speed(model, table, n: int = 5000) -> dict:
    """Encounters per second: the whole predict path vs the raw feature computation alone."""
    part = table.take(np.arange(min(n, len(table))))
    start = time.perf_counter()
    raw_features(part)
    features_s = time.perf_counter() - start
    start = time.perf_counter()
    model.predict_table(part)
    model_s = time.perf_counter() - start
    return {"encounters": len(part), "features_per_s": len(part) / features_s, "model_per_s": len(part) / model_s,
            "model_vs_features_ratio": features_s / model_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--n-boot", type=int, default=500)
    parser.add_argument("--splits", type=int, default=3, help="other random patient splits to retrain LightGBM on")
    args = parser.parse_args()
    model = load_shipped_model()
    table = load_cohort(args.data)
    data, _ = prepare(table, model.encoder)
    print(f"validation: {int(data.split.validation.sum())} encounters of "
          f"{len(set(table['patient_nbr'][data.split.validation].tolist()))} patients", flush=True)
    rows = comparison_rows(model, data, n_boot=args.n_boot)
    print(f"{'score':44} {'AUROC (95% CI)':>22} {'AUPRC (95% CI)':>22} {'slope':>6} {'intercept':>9}")
    for r in rows:
        print(f"{r['name']:44} {r['auroc']:.3f} ({r['auroc_low']:.3f}-{r['auroc_high']:.3f})"
              f"   {r['auprc']:.3f} ({r['auprc_low']:.3f}-{r['auprc_high']:.3f}) {r['calibration_slope']:6.2f} "
              f"{r['calibration_intercept']:9.2f}")
    shipped = rows[0]
    targets = {"auroc_at_least_0.70": shipped["auroc"] >= TARGET_AUROC,
               "calibration_slope_0.9_to_1.1": TARGET_SLOPE[0] <= shipped["calibration_slope"] <= TARGET_SLOPE[1]}
    print(f"targets: {targets}")
    print("split sensitivity (LightGBM recipe on other random patient splits):", flush=True)
    sensitivity = split_sensitivity(table, [f"medai-readmission-alt-{k}" for k in range(1, args.splits + 1)])
    if sensitivity:
        values = [s["lightgbm_auroc"] for s in sensitivity]
        print(f"  mean {np.mean(values):.3f}, range {min(values):.3f}-{max(values):.3f}")
    timing = speed(model, table)
    print(f"speed: predict path {timing['model_per_s']:.0f} encounters/s, features alone {timing['features_per_s']:.0f} "
          f"(ratio {timing['model_vs_features_ratio']:.2f})")
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    out = Path(__file__).parent / "results" / "readmission.json"
    out.write_text(json.dumps({"commit": commit, "machine": platform.platform(), "cpus": os.cpu_count(),
                               "threads": os.environ.get("OMP_NUM_THREADS"), "model": model.identity.model_dump(),
                               "rows": rows, "targets": targets, "split_sensitivity": sensitivity, "speed": timing},
                              indent=1))
    print(f"written {out}")


if __name__ == "__main__":
    main()
