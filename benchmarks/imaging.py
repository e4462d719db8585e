"""Imaging benchmark: validation AUC / ACC of every installed imaging package beside the MedMNIST v2
table, and ONNX Runtime vs PyTorch eager throughput of each model, in one run.

    MEDAI_DATA_DIR=../shared/data .venv/bin/python benchmarks/imaging.py --threads 1 --batch-size 1 32

(``--threads`` and ``--batch-size`` list the settings to time, each for both engines - on a machine
with idle cores, ``--threads 1 2`` adds the two-thread figures; on a busy one they are distorted;
``--models NAME...`` limits the run to some packages; ``--rounds`` / ``--seconds`` trade time for
steadier numbers.)

Accuracy: each package's validation split is rebuilt from the data in MEDAI_DATA_DIR (load_cohort +
prepare_cases) and scored by the package as shipped (ONNX Runtime, test-time flips, temperature).
AUC and ACC follow MedMNIST: AUC of class 1 for binary tasks, mean one-vs-rest AUC over classes
otherwise; ACC of the argmax. For RetinaMNIST and PneumoniaMNIST the MedMNIST v2 paper's baselines
are printed beside ours; theirs are on the official TEST split, ours on the VALIDATION split (the
test splits are held back), and our PneumoniaMNIST train split is an undersampled copy (see the data
README), so the rows are context, not a head-to-head result.

Speed: images/s of the same network on the same prepared validation images at fixed batch sizes,
one forward pass per image (no flips), through ONNX Runtime (the package's model.onnx, default graph
optimisation ORT_ENABLE_ALL) and through PyTorch eager (the package's safetensors weights,
``torch.inference_mode``), both pinned to the same number of threads, alternating the two in several
rounds so background load hits both alike; the ratio is the median of the per-round ratios.
Writes benchmarks/results/imaging.json (commit, machine, load at start, numbers).
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

from medai.config import get_settings
from medai.imaging.cohorts import load_cohort, prepare_cases
from medai.imaging.evaluate import accuracy, macro_auc
from medai.imaging.package import ONNX_FILE
from medai.imaging.predict import load_model
from medai.imaging.tasks import TASKS
from medai.models import default_registry

PAPER = ("Yang J. et al., MedMNIST v2 - a large-scale lightweight benchmark for 2D and 3D biomedical image "
         "classification, Scientific Data 10:41 (2023), Table (2D datasets), test split")
# (AUC, ACC) on the official test split, as printed in the paper's benchmark table.
MEDMNIST_V2 = {
    "pneumoniamnist": {"ResNet-18 (28)": (0.944, 0.854), "ResNet-18 (224)": (0.956, 0.864),
                       "ResNet-50 (28)": (0.948, 0.854), "ResNet-50 (224)": (0.962, 0.884),
                       "auto-sklearn": (0.942, 0.855), "AutoKeras": (0.947, 0.878),
                       "Google AutoML Vision": (0.991, 0.946)},
    "retinamnist": {"ResNet-18 (28)": (0.717, 0.524), "ResNet-18 (224)": (0.710, 0.493),
                    "ResNet-50 (28)": (0.726, 0.528), "ResNet-50 (224)": (0.716, 0.511),
                    "auto-sklearn": (0.690, 0.515), "AutoKeras": (0.719, 0.503),
                    "Google AutoML Vision": (0.750, 0.531)},
}


def accuracy_row(name: str, data: Path | None, cache: Path) -> tuple[dict, np.ndarray]:
    """Validation AUC / ACC of package ``name`` recomputed from the data, and the prepared images."""
    from sklearn.metrics import roc_auc_score

    model = load_model(name)
    task = model.task
    cohort = load_cohort(name, data)
    X, y = prepare_cases(task, cohort.validation, cache)
    proba = model.predict_proba(X)
    positive = np.isin(y, task.positive_classes).astype(int)
    row = {"model": name, "version": model.package.version, "dataset": task.dataset, "split": "validation",
           "n": int(len(y)), "auc": macro_auc(y, proba), "acc": accuracy(y, proba), "finding": task.finding,
           "finding_auroc": float(roc_auc_score(positive, model.positive_probability(proba)))}
    try:
        summary = json.loads(model.package.file("validation_report.json").read_text())["summary"]
        row["packaged"] = {"auc": summary["AUC (MedMNIST macro)"]["value"], "acc": summary["ACC (argmax)"]["value"]}
    except Exception:  # a package without its validation report
        row["packaged"] = None
    return row, X


def engines(name: str, threads: int):
    """The package's ONNX graph in an ONNX Runtime session and its PyTorch network, both on ``threads`` threads."""
    import onnxruntime as ort
    import torch

    model = load_model(name, backend="torch")
    options = ort.SessionOptions()  # graph optimisation stays at ONNX Runtime's default, ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(str(model.package.file(ONNX_FILE)), options, providers=["CPUExecutionProvider"])
    torch.set_num_threads(threads)
    network = model.network()

    def run_onnx(batch: np.ndarray) -> np.ndarray:
        return session.run(["logits"], {"image": batch})[0]

    def run_torch(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return network(torch.from_numpy(batch)).numpy()

    return model.task, {"onnx": run_onnx, "torch": run_torch}


def speed_row(name: str, X: np.ndarray, batch_size: int, threads: int, seconds: float, rounds: int) -> dict:
    """Images/s of ONNX Runtime and PyTorch eager on the same batches, alternating in ``rounds`` rounds."""
    task, run = engines(name, threads)
    reps = int(np.ceil(2 * batch_size / len(X)))
    X = np.ascontiguousarray(np.concatenate([X] * reps) if reps > 1 else X, dtype=np.float32)
    batches = [X[i:i + batch_size] for i in range(0, len(X) - batch_size + 1, batch_size)]
    agreement = float(np.abs(run["onnx"](batches[0]) - run["torch"](batches[0])).max())

    def rate(engine: str, count: int) -> float:
        start = time.perf_counter()
        for k in range(count):
            run[engine](batches[k % len(batches)])
        return count * batch_size / (time.perf_counter() - start)

    slowest = min(rate("onnx", 1), rate("torch", 1))  # also the warm-up
    count = max(1, int(seconds * slowest / batch_size))
    rates: dict[str, list[float]] = {"onnx": [], "torch": []}
    for _ in range(rounds):
        for engine in rates:
            rates[engine].append(rate(engine, count))
    ratios = [o / t for o, t in zip(rates["onnx"], rates["torch"])]
    return {"model": name, "input": "x".join(map(str, (task.channels, *task.size))), "batch_size": batch_size,
            "threads": threads, "images_per_round": count * batch_size, "rounds": rounds,
            "onnx_images_per_s": float(np.median(rates["onnx"])),
            "torch_images_per_s": float(np.median(rates["torch"])),
            "onnx_vs_torch": float(np.median(ratios)), "ratio_range": [float(min(ratios)), float(max(ratios))],
            "max_abs_logit_diff": agreement}


def machine() -> dict:
    """Where the numbers come from: CPU, load at start, library versions, commit."""
    import onnxruntime
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    git = ["git", "-C", str(Path(__file__).parent)]
    return {"commit": subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip(),
            "uncommitted_changes": bool(subprocess.run([*git, "status", "--porcelain"], capture_output=True,
                                                       text=True).stdout.strip()),
            "machine": platform.platform(), "cpu": cpu, "cpus": os.cpu_count(),
            "load_average_at_start": list(os.getloadavg()), "torch": torch.__version__,
            "onnxruntime": onnxruntime.__version__, "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}


def print_tables(rows: list[dict], speed: list[dict]) -> None:
    """The accuracy table (ours beside the paper's) and the speed table."""
    print(f"\n{'model / method':36} {'dataset':16} {'split':10} {'n':>5} {'AUC':>6} {'ACC':>6}")
    for r in rows:
        print(f"{'medai ' + r['model']:36} {r['dataset']:16} {'val':10} {r['n']:5d} {r['auc']:6.3f} {r['acc']:6.3f}")
        for method, (auc, acc) in MEDMNIST_V2.get(r["dataset"], {}).items():
            print(f"{'  MedMNIST v2: ' + method:36} {r['dataset']:16} {'test':10} {'':5} {auc:6.3f} {acc:6.3f}")
    print("(ours: validation split; MedMNIST v2 paper: official test split - not the same images)")
    print(f"\n{'model':24} {'input':12} {'batch':>5} {'threads':>7} {'ORT img/s':>10} {'torch img/s':>12} "
          f"{'ORT/torch':>9}  {'range':10} target >=2x")
    for s in speed:
        low, high = s["ratio_range"]
        print(f"{s['model']:24} {s['input']:12} {s['batch_size']:5d} {s['threads']:7d} {s['onnx_images_per_s']:10.0f} "
              f"{s['torch_images_per_s']:12.0f} {s['onnx_vs_torch']:8.2f}x  {low:.2f}-{high:<5.2f} "
              f"{'met' if s['onnx_vs_torch'] >= 2 else 'not met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="data root (default: MEDAI_DATA_DIR)")
    parser.add_argument("--models", nargs="*", default=None, help="only these packages (default: every imaging one)")
    parser.add_argument("--batch-size", type=int, nargs="+", default=[1, 32],
                        help="batch sizes to time (1: one image per request, as the service scores; 32: the CLI's)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1],
                        help="thread counts to time, each for both engines")
    parser.add_argument("--seconds", type=float, default=2.0, help="target seconds per engine per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "imaging.json")
    args = parser.parse_args()
    info = machine()
    names = sorted({s.name for s in default_registry().list() if s.ok and s.name in TASKS})
    names = [n for n in names if args.models is None or n in args.models]
    if not names:
        raise SystemExit("no imaging packages installed; train one with `medai imaging train MODEL`")
    cache = get_settings().home / "cache" / "imaging"
    rows, speed = [], []
    for name in names:
        print(f"{name}: scoring the validation split...", flush=True)
        row, X = accuracy_row(name, args.data, cache)
        rows.append(row)
        for batch_size in args.batch_size:
            for threads in args.threads:
                print(f"{name}: timing ONNX Runtime vs PyTorch eager, batch {batch_size}, {threads} thread(s)...",
                      flush=True)
                speed.append(speed_row(name, X, batch_size, threads, args.seconds, args.rounds))
    print_tables(rows, speed)
    load, cpus = info["load_average_at_start"][0], info["cpus"] or 1
    if load > 0.5 * cpus:
        print(f"note: the machine was busy (load {load:.1f} on {cpus} CPUs); absolute images/s are low and runs with "
              "more threads than free cores are distorted (PyTorch's OpenMP threads wait on each other); the "
              "1-thread rows compare the engines most fairly")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**info, "reference": PAPER, "medmnist_v2_test": MEDMNIST_V2,
                                    "accuracy": rows, "speed": speed}, indent=1) + "\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
