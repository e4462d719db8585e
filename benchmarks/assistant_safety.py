"""Assistant safety benchmark: crisis screening by C-SSRS level, and cognitive-distortion detection against
Shreevastava & Foltz (2021), in one run.

    MEDAI_DATA_DIR=../shared/data OMP_NUM_THREADS=1 python benchmarks/assistant_safety.py [--cache /tmp/medai_emb]

Crisis: the validation users of the shared Reddit C-SSRS set (25%, stratified, split by user; the model
was trained on the other 75%). Every post of a user is screened in order, as one conversation; a user
counts as flagged when the screen ever reaches the level (a conversation's risk never goes down).
Levels: ``flag`` = risk low or above (the model's recall threshold), ``stop`` = moderate or above (the
flow stops with a crisis response). Rules alone, model alone and combined (the shipped screen) side by
side; the share flagged is recall for Ideation/Behavior/Attempt and the false-positive rate for Supportive.

Crisis, message level: the self-written chat messages of benchmarks/data/crisis_messages.yaml, each screened
alone; reported on the ``test`` half only (the ``tune`` half may be used to adjust rules and thresholds).
Crisis messages: share detected (>= low), share stopped (>= moderate), share at or above their expected
minimum risk, share with the expected category. Ordinary messages: share ``none``, share within their
allowed maximum (``low`` for explicit denials), share stopped.

Distortions: the shipped detector on the validation 20% of the shared statements, beside the paper.
Writes benchmarks/results/assistant_safety.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from medai.assistant.mental.distortion_train import PAPER, embedded_splits, evaluate_detector
from medai.assistant.mental.distortions import load_detector
from medai.assistant.safety.embed import embed
from medai.assistant.safety.lexicon import load_lexicon
from medai.assistant.safety.model import load_crisis_model
from medai.assistant.safety.rules import rule_screen
from medai.assistant.safety.screen import CrisisScreener
from medai.assistant.safety.types import ScreenResult, risk_rank
from medai.datasets import reddit_cssrs

LEVELS = {"flag": "low", "stop": "moderate"}
MESSAGES = Path(__file__).parent / "data" / "crisis_messages.yaml"
GROUPS = (*reddit_cssrs.LABELS, "Ideation+Behavior+Attempt")


def _user_risks(root, cache: Path | None) -> tuple[list[str], dict[str, np.ndarray]]:
    """Per validation user, the highest rank each screen reached over their posts."""
    _, validation = reddit_cssrs.split(reddit_cssrs.load(root))
    lexicon, model = load_lexicon(), load_crisis_model()
    posts = [p for u in validation for p in u.posts]
    probabilities = model.probabilities(embed(posts, cache_dir=cache))
    rule_rank = np.array([risk_rank(rule_screen(p, lexicon).risk) for p in posts])
    model_rank = np.array([risk_rank(model.risk_of(float(q))) for q in probabilities])
    bounds = np.cumsum([0] + [len(u.posts) for u in validation])
    per_user = {name: np.array([ranks[a:b].max() if b > a else 0 for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
                for name, ranks in (("rules", rule_rank), ("model", model_rank),
                                    ("combined", np.maximum(rule_rank, model_rank)))}
    return [u.label for u in validation], per_user


def load_messages(path: Path = MESSAGES, split: str | None = None) -> list[dict]:
    """The evaluation messages of the crisis-messages YAML (``split``: ``tune``, ``test`` or both)."""
    import yaml

    messages = yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]
    return [m for m in messages if split is None or m["split"] == split]


def _share(hits: list[bool]) -> dict:
    return {"n": len(hits), "hits": int(sum(hits)), "rate": float(np.mean(hits)) if hits else float("nan")}


def message_rows(path: Path = MESSAGES, split: str = "test") -> list[dict]:
    """One row per screen (rules, model, combined) on the ``split`` messages, with the misses listed."""
    lexicon, model = load_lexicon(), load_crisis_model()
    combined = CrisisScreener(lexicon, model)
    screens = {"rules": lambda t: rule_screen(t, lexicon), "model": model.screen, "combined": combined.screen}
    messages = load_messages(path, split)
    rows = []
    for name, fn in screens.items():
        results: list[ScreenResult] = [fn(m["text"]) for m in messages]
        crisis = [(m, r) for m, r in zip(messages, results, strict=True) if m["expect"] == "crisis"]
        ordinary = [(m, r) for m, r in zip(messages, results, strict=True) if m["expect"] == "ordinary"]
        rows.append({
            "set": f"chat messages ({split} half)", "screen": name,
            "crisis detected (>= low)": _share([r.risk != "none" for _, r in crisis]),
            "crisis stopped (>= moderate)": _share([r.stop for _, r in crisis]),
            "crisis at expected risk": _share([risk_rank(r.risk) >= risk_rank(m["min_risk"]) for m, r in crisis]),
            "crisis expected category": _share([m["category"] in r.categories for m, r in crisis]),
            "ordinary none": _share([r.risk == "none" for _, r in ordinary]),
            "ordinary within allowed": _share([risk_rank(r.risk) <= risk_rank(m["max_risk"]) for m, r in ordinary]),
            "ordinary stopped (>= moderate)": _share([r.stop for _, r in ordinary]),
            "missed crisis": [m["text"] for m, r in crisis if r.risk == "none"],
            "ordinary not none": [f"{m['text']} -> {r.risk}" for m, r in ordinary if r.risk != "none"]})
    return rows


def safety_rows(root=None, cache: Path | None = None, messages: Path = MESSAGES) -> list[dict]:
    """One row per (screen, level) on the validation users (share flagged for each C-SSRS level), then one
    row per screen on the test half of the chat messages (:func:`message_rows`)."""
    return _user_rows(root, cache) + message_rows(messages, "test")


def _user_rows(root=None, cache: Path | None = None) -> list[dict]:
    """One row per (screen, level): users and share flagged for each C-SSRS level."""
    labels, per_user = _user_risks(root, cache)
    labels_a = np.array(labels)
    masks = {g: (np.isin(labels_a, reddit_cssrs.AT_RISK) if "+" in g else labels_a == g) for g in GROUPS}
    rows = []
    for screen, ranks in per_user.items():
        for level, risk in LEVELS.items():
            flagged = ranks >= risk_rank(risk)
            row = {"set": "reddit validation users", "screen": screen, "level": f"{level} (>= {risk})"}
            for group, mask in masks.items():
                row[group] = {"n": int(mask.sum()), "flagged": int(flagged[mask].sum()),
                              "rate": float(flagged[mask].mean())}
            rows.append(row)
    return rows


def distortion_rows(root=None, cache: Path | None = None) -> list[dict]:
    """Our detector's F1 figures (95% bootstrap CI) beside the paper's."""
    _, _, X_val, validation = embedded_splits(root, cache)
    detector, package = load_detector()
    metrics = evaluate_detector(detector, X_val, validation)
    paper = {"detection_f1": PAPER["detection_f1"], "type_weighted_f1": PAPER["classification_weighted_f1"]}
    labels = {"detection_f1": "F1 distorted vs not", "type_macro_f1": "macro F1, ten types",
              "type_weighted_f1": "weighted F1, ten types", "eleven_class_weighted_f1": "weighted F1, ten types + none"}
    return [{"metric": label, "ours": metrics[key]["value"], "ci_low": metrics[key]["ci_low"],
             "ci_high": metrics[key]["ci_high"], "paper": paper.get(key), "n": metrics["n_validation"],
             "model": f"{package.name} {package.version}"} for key, label in labels.items()]


def _print_safety(rows: list[dict]) -> None:
    print("\nCrisis screen, validation users (share flagged: recall for I/B/A, false-positive rate for Supportive)")
    header = f"{'screen':9} {'level':19}" + "".join(f"{g[:12]:>14}" for g in GROUPS)
    print(header + "\n" + "-" * len(header))
    for row in (r for r in rows if r["set"] == "reddit validation users"):
        cells = "".join(f"{row[g]['rate']:>8.3f} ({row[g]['flagged']:>2}/{row[g]['n']:>2})"[-14:].rjust(14) for g in GROUPS)
        print(f"{row['screen']:9} {row['level']:19}{cells}")


def _print_messages(rows: list[dict]) -> None:
    rows = [r for r in rows if r["set"].startswith("chat messages")]
    keys = [k for k, v in rows[0].items() if isinstance(v, dict)]
    print(f"\nCrisis screen, {rows[0]['set']} (share; hits/n)")
    print(f"{'measure':32}" + "".join(f"{r['screen']:>18}" for r in rows))
    for key in keys:
        print(f"{key:32}" + "".join(f"{r[key]['rate']:>9.3f} ({r[key]['hits']:>2}/{r[key]['n']:>2})" for r in rows))
    for field in ("missed crisis", "ordinary not none"):
        print(f"combined, {field}: " + ("; ".join(rows[-1][field]) or "-"))


def _print_distortions(rows: list[dict]) -> None:
    print(f"\nDistortion detection, validation statements (n = {rows[0]['n']}), {rows[0]['model']}")
    print(f"{'metric':32} {'ours (95% CI)':>24} {'paper':>7}")
    for row in rows:
        paper = f"{row['paper']:.2f}" if row["paper"] is not None else "-"
        print(f"{row['metric']:32} {row['ours']:>8.3f} ({row['ci_low']:.3f}-{row['ci_high']:.3f}) {paper:>7}")
    print(f"paper: {PAPER['source']}. {PAPER['note']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=None, help="data root (default: $MEDAI_DATA_DIR)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "medai_emb",
                        help="folder caching MiniLM embeddings between runs")
    args = parser.parse_args()
    safety, distortions = safety_rows(args.root, args.cache), distortion_rows(args.root, args.cache)
    _print_safety(safety)
    _print_messages(safety)
    _print_distortions(distortions)
    out = Path(__file__).parent / "results" / "assistant_safety.json"
    out.parent.mkdir(exist_ok=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    out.write_text(json.dumps({"commit": commit, "machine": platform.platform(), "cpus": os.cpu_count(),
                               "crisis": safety, "distortions": distortions, "paper": PAPER}, indent=1) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
