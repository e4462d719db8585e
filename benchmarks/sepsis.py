"""Sepsis benchmark on hospital A's validation split: accuracy table and speed, in one run.

    MEDAI_DATA_DIR=../shared/data OMP_NUM_THREADS=1 python benchmarks/sepsis.py

Rows: the shipped model (LightGBM blended with the GRU), each of its two components alone
(the deep GRU and LightGBM, each at its own utility-optimal threshold), qSOFA, SIRS and NEWS2,
all on the same patients and hours. Speed, measured in the same run on one thread: batch throughput
(patient-hours/s) and streaming latency per new row (p50/p99) of the shipped model, beside
the LightGBM feature pipeline alone. Writes benchmarks/results/sepsis.json.
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

from medai.risk.sepsis.evaluate import evaluate_scores
from medai.risk.sepsis.features import FeatureState, stay_features
from medai.risk.sepsis.predict import load_shipped_model
from medai.risk.sepsis.report import comparison_rows
from medai.risk.sepsis.task import load_cohort, split_stays
from medai.risk.sepsis.utility import best_threshold


def component_rows(model, stays) -> list[dict]:
    """The shipped model's LightGBM and GRU components alone, each at its own utility-optimal threshold."""
    labels = [s.labels for s in stays]
    lgbm_scores = [model.lgbm.predict_proba(stay_features(s.values)) for s in stays]
    gru_scores = [model.gru_stay(s.values) for s in stays]
    rows = []
    for name, scores in [("GRU alone (deep, sequence)", gru_scores), ("LightGBM alone", lgbm_scores)]:
        threshold = best_threshold(labels, scores).threshold
        rows.append(evaluate_scores(name, labels, scores, threshold, model.policy.suppression_hours).row())
    return rows


def batch_speed(model, stays) -> dict:
    """Patient-hours per second: whole model vs the feature pipeline alone."""
    hours = sum(len(s.values) for s in stays)
    start = time.perf_counter()
    for stay in stays:
        stay_features(stay.values)
    features_s = time.perf_counter() - start
    start = time.perf_counter()
    for stay in stays:
        model.predict_stay(stay.values)
    model_s = time.perf_counter() - start
    return {"patient_hours": hours, "features_hours_per_s": hours / features_s, "model_hours_per_s": hours / model_s,
            "model_vs_features_ratio": (hours / model_s) / (hours / features_s)}


def stream_latency(model, stays, max_rows: int = 5000) -> dict:
    """Per-row update latency (ms) of the full streaming scorer and of the feature state alone."""
    full, feats = [], []
    for stay in stays:
        stream, state = model.stream(), FeatureState()
        for row in stay.values:
            t0 = time.perf_counter()
            stream.update(row)
            t1 = time.perf_counter()
            state.update(row)
            t2 = time.perf_counter()
            full.append((t1 - t0) * 1000)
            feats.append((t2 - t1) * 1000)
        if len(full) >= max_rows:
            break
    return {"rows": len(full), "model_p50_ms": float(np.percentile(full, 50)), "model_p99_ms": float(np.percentile(full, 99)),
            "features_p50_ms": float(np.percentile(feats, 50)), "features_p99_ms": float(np.percentile(feats, 99))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--speed-stays", type=int, default=500)
    args = parser.parse_args()
    model = load_shipped_model()
    _, validation = split_stays(load_cohort(args.data))
    print(f"validation split: {len(validation)} patients, {sum(len(s.values) for s in validation)} hours", flush=True)
    rows, _, _ = comparison_rows(validation, model)
    rows[1:1] = component_rows(model, validation)
    speed = {"batch": batch_speed(model, validation[:args.speed_stays]), "stream": stream_latency(model, validation)}
    header = f"{'model':28} {'utility':>8} {'AUROC':>7} {'AUPRC':>7} {'alerts/100pd':>13} {'lead h':>7} {'threshold':>9}"
    print(header)
    for r in rows:
        lead = "-" if r["median_lead_time_hours"] is None else f"{r['median_lead_time_hours']:.1f}"
        print(f"{r['name']:28} {r['utility']:8.3f} {r['auroc']:7.3f} {r['auprc']:7.3f} {r['alerts_per_100_patient_days']:13.1f} {lead:>7} {r['threshold']:9.4g}")
    b, s = speed["batch"], speed["stream"]
    print(f"batch: model {b['model_hours_per_s']:.0f} patient-hours/s, features alone {b['features_hours_per_s']:.0f} (ratio {b['model_vs_features_ratio']:.2f})")
    print(f"stream per row: model p50 {s['model_p50_ms']:.3f} ms p99 {s['model_p99_ms']:.3f} ms; "
          f"features p50 {s['features_p50_ms']:.3f} ms p99 {s['features_p99_ms']:.3f} ms")
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    out = Path(__file__).parent / "results" / "sepsis.json"
    out.write_text(json.dumps({"commit": commit, "machine": platform.platform(), "cpus": os.cpu_count(),
                               "threads": os.environ.get("OMP_NUM_THREADS"), "rows": rows, "speed": speed}, indent=1))
    print(f"written {out}")


if __name__ == "__main__":
    main()
