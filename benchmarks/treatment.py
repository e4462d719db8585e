"""Treatment benchmark: warfarin dose accuracy on the IWPC validation split, vancomycin MAP by simulation.

    MEDAI_DATA_DIR=../shared/data OMP_NUM_THREADS=1 python benchmarks/treatment.py

Warfarin rows, all on the same validation patients (the 20% of the shared cohort held out by a hash
of the patient id; the shipped model never saw them): the learned model (shipped package), the IWPC
pharmacogenetic and clinical algorithms, and a fixed 35 mg/week. The IWPC equations need age, height
and weight, so the comparison uses patients with those; the learned model is also reported on every
validation patient with a dose. Metrics: MAE (mg/week) and % within 20% of the stable dose, overall and
in the low (<= 21) and high (>= 49 mg/week) groups.
Vancomycin: virtual patients drawn from the population model (Buelga 2005 IIV), 1000 mg q12h, a peak
and a trough after the 4th dose with assay error, and the share whose MAP-predicted AUC24 is within 15%
of the truth; also with the model's full residual error, and with a trough alone.
Writes benchmarks/results/treatment.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
from pathlib import Path

import numpy as np

from medai.errors import InvalidInput
from medai.treatment.pk.bayes import omega_from_cv
from medai.treatment.pk.onecompartment import concentration
from medai.treatment.renal import rules
from medai.treatment.vancomycin import VancomycinCourse, infusion_hours, knowledge
from medai.treatment.warfarin.evaluate import accuracy_row
from medai.treatment.warfarin.iwpc import iwpc_dose
from medai.treatment.warfarin.predict import load_shipped_model, predict_doses
from medai.treatment.warfarin.train import cohort


def warfarin_rows(data: Path | None) -> list[dict]:
    """Accuracy of the four dosing methods on the validation split."""
    _, _, patients, actual = cohort(data)
    learned = np.array(predict_doses(patients, load_shipped_model()))
    keep, pg, clinical = [], [], []
    for i, patient in enumerate(patients):
        try:
            pg.append(iwpc_dose(patient).weekly_dose_mg)
            clinical.append(iwpc_dose(patient, "clinical").weekly_dose_mg)
            keep.append(i)
        except InvalidInput:
            continue
    y = actual[keep]
    return [accuracy_row("learned model (shipped)", learned[keep], y, n_boot=1000),
            accuracy_row("IWPC pharmacogenetic", np.array(pg), y, n_boot=1000),
            accuracy_row("IWPC clinical", np.array(clinical), y, n_boot=1000),
            accuracy_row("fixed 35 mg/week", np.full(len(y), 35.0), y, n_boot=1000),
            accuracy_row("learned model, all with a dose", learned, actual, n_boot=1000)]


def vancomycin_scenario(n: int, additive: float, proportional: float, trough_only: bool, seed: int = 2026) -> dict:
    """Share of virtual patients whose MAP AUC24 is within 15% of the truth, and the median absolute error."""
    model = knowledge().model
    omega = omega_from_cv([model.iiv_cv["cl"], model.iiv_cv["v"]], model.iiv_correlation)
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(n):
        course = VancomycinCourse(float(np.clip(rng.normal(75, 15), 45, 110)), float(rng.uniform(30, 130)),
                                  residual_additive_mg_l=additive, residual_proportional=proportional)
        for k in range(4):
            course.add_dose(12 * k, 1000)
        cl_pop, v_pop = course.typical()
        eta = rng.multivariate_normal([0, 0], omega)
        cl, v = cl_pop * math.exp(eta[0]), v_pop * math.exp(eta[1])
        times = [47.9] if trough_only else [36 + infusion_hours(1000) + 1, 47.9]
        true = concentration(times, course.doses, cl, v)
        noisy = np.clip(true + rng.normal(0, 1, len(times)) * np.sqrt(additive**2 + (proportional * true) ** 2), 0.6, None)
        for t, c in zip(times, noisy):
            course.add_level(t, float(c))
        errors.append(cl / course.estimate().cl_l_h - 1)   # AUC24 = daily dose / CL
    errors = np.abs(errors)
    return {"n": n, "additive_mg_l": additive, "proportional": proportional, "levels": 1 if trough_only else 2,
            "within_15pct": float(np.mean(errors <= 0.15)), "median_abs_error": float(np.median(errors))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--virtual-patients", type=int, default=500)
    args = parser.parse_args()
    rows = warfarin_rows(args.data)
    print(f"{'warfarin (validation split)':32} {'n':>5} {'MAE':>6} {'w20%':>6} | {'n low':>5} {'MAE':>6} {'w20%':>6} | "
          f"{'n high':>6} {'MAE':>6} {'w20%':>6}")
    for r in rows:
        print(f"{r['name']:32} {r['n_all']:5d} {r['mae_all']:6.2f} {r['within20_all']:6.1f} | {r['n_low']:5d} "
              f"{r['mae_low']:6.2f} {r['within20_low']:6.1f} | {r['n_high']:6d} {r['mae_high']:6.2f} {r['within20_high']:6.1f}")
    assay = knowledge().model.assay_error
    full = knowledge().model.residual_additive_mg_l
    vanco = [vancomycin_scenario(args.virtual_patients, assay.additive_mg_l, assay.proportional, False),
             vancomycin_scenario(args.virtual_patients, full, 0.0, False),
             vancomycin_scenario(args.virtual_patients, assay.additive_mg_l, assay.proportional, True)]
    print(f"\n{'vancomycin MAP (virtual patients)':40} {'levels':>6} {'within 15%':>10} {'median |err|':>12}")
    for s in vanco:
        label = f"error {s['additive_mg_l']:g} mg/L + {100 * s['proportional']:g}%"
        print(f"{label:40} {s['levels']:6d} {100 * s['within_15pct']:9.1f}% {100 * s['median_abs_error']:11.1f}%")
    table = rules()
    renal = {"regimens": len(table.regimens), "drugs": len({r.drug for r in table.regimens}),
             "all_cited": all(r.citations for r in table.regimens)}
    print(f"\nrenal rule table: {renal['drugs']} drugs, {renal['regimens']} regimens, every one cited: {renal['all_cited']}")
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    out = Path(__file__).parent / "results" / "treatment.json"
    out.write_text(json.dumps({"commit": commit, "machine": platform.platform(), "cpus": os.cpu_count(),
                               "threads": os.environ.get("OMP_NUM_THREADS"), "warfarin": rows, "vancomycin": vanco,
                               "renal": renal}, indent=1))
    print(f"written {out}")


if __name__ == "__main__":
    main()
