"""Issue 5 in one table: de-identification, condition NER, assertions, follow-up, pipeline speed and
readmission, each beside its anchor and its target.

    MEDAI_DATA_DIR=../shared/data OMP_NUM_THREADS=1 python benchmarks/notes.py            # from the results
    MEDAI_DATA_DIR=../shared/data OMP_NUM_THREADS=1 python benchmarks/notes.py --rerun deid ner

The figures come from the component benchmarks' results (``benchmarks/results/notes_deid.json``,
``notes_ner.json``, ``notes_assertion.json``, ``readmission.json``); ``--rerun NAME...`` runs those
benchmarks first (``deid`` -> notes_deid.py, ``ner`` -> notes_ner.py, ``assertion`` ->
notes_assertion.py, ``readmission`` -> readmission.py), each of which compares medai with its anchor
(Presidio, medspaCy, LightGBM / LACE) in the same run. Every row names the commit its figures were
measured at. The targets of issue 5 are for held-back test splits; the figures here are on the shared
development splits (de-id: the dev patients of the shared half; NER: the devel splits; NegEx: the
shared part), so they estimate, not certify, the held-back results.

Writes benchmarks/results/notes.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
SCRIPTS = {"deid": "notes_deid.py", "ner": "notes_ner.py", "assertion": "notes_assertion.py",
           "readmission": "readmission.py"}
SOURCES = {"deid": "notes_deid.json", "ner": "notes_ner.json", "assertion": "notes_assertion.json",
           "readmission": "readmission.json"}
TARGETS = {"deid_recall": 0.99, "deid_precision": 0.90, "ncbi_f1": 0.89, "bc5cdr_f1": 0.86, "negation_accuracy": 0.95,
           "auroc": 0.70, "calibration_slope": (0.9, 1.1), "throughput_ratio": 3.0}


def rerun(names: list[str]) -> None:
    """Run the named component benchmarks (their own JSON files are rewritten)."""
    for name in names:
        script = Path(__file__).parent / SCRIPTS[name]
        print(f"running {script.name}", flush=True)
        subprocess.run([sys.executable, str(script)], check=True)


def load_results() -> dict[str, dict]:
    """The component results that exist (a missing file is reported, not fatal)."""
    out = {}
    for name, file in SOURCES.items():
        path = RESULTS / file
        if path.is_file():
            out[name] = json.loads(path.read_text())
        else:
            print(f"{file} missing: run benchmarks/{SCRIPTS[name]} (or --rerun {name})")
    return out


def row(area: str, metric: str, value, target=None, anchor: str = "", anchor_value=None, source: str = "",
        note: str = "") -> dict:
    """One table row; ``meets`` compares ``value`` with ``target`` (a floor, or a (low, high) range)."""
    if target is None or value is None:
        meets = None
    elif isinstance(target, tuple):
        meets = target[0] <= value <= target[1]
    else:
        meets = value >= target
    return {"area": area, "metric": metric, "value": value, "target": target, "meets": meets, "anchor": anchor,
            "anchor_value": anchor_value, "source": source, "note": note}


def deid_rows(result: dict) -> list[dict]:
    """Per-type and overall recall / precision on the dev split, beside Presidio; over-redaction."""
    dev = [r for r in result["rows"] if r["split"].startswith("dev")]
    medai = next(r for r in dev if r["system"].startswith("medai (rules+tagger)"))
    presidio = next((r for r in dev if r["system"].startswith("presidio")), None)
    rules = next((r for r in dev if r["system"] == "medai rules only"), None)
    source = f"notes_deid.json@{result['commit'][:8]}"
    out = []
    for kind, m in [("ALL", medai["overall"]), *medai["by_type"].items()]:
        p_ref = presidio["overall"] if presidio and kind == "ALL" else (presidio or {}).get("by_type", {}).get(kind)
        recall_target = TARGETS["deid_recall"] if kind == "ALL" else None
        if m["gold_phrases"]:
            out.append(row("de-id", f"{kind} phrase recall (n={m['gold_phrases']})", m["phrase_recall"], recall_target,
                           "Presidio", p_ref and p_ref.get("phrase_recall"), source))
        if m["predicted_spans"]:
            out.append(row("de-id", f"{kind} span precision (n={m['predicted_spans']})", m["span_precision"],
                           TARGETS["deid_precision"] if kind == "ALL" else None, "Presidio",
                           p_ref and p_ref.get("span_precision"), source))
    out.append(row("de-id", "over-redaction of clinical words", medai["over_redaction"], None, "Presidio",
                   presidio and presidio["over_redaction"], source, "share of ICD-10-CM words outside PHI redacted"))
    if rules:
        out.append(row("de-id", "ALL phrase recall, rules only", rules["overall"]["phrase_recall"], None, "", None, source))
    return out


def ner_rows(result: dict) -> list[dict]:
    """Devel mention F1 per corpus and the pipeline throughput ratio to medspaCy."""
    source = f"notes_ner.json@{result['commit'][:8]}"
    targets = {"NCBI Disease devel": TARGETS["ncbi_f1"], "BC5CDR disease devel": TARGETS["bc5cdr_f1"]}
    out = [row("condition NER", f"{r['name']} F1 (95% CI {r['f1_ci'][0]:.3f}-{r['f1_ci'][1]:.3f})", r["f1"],
               targets.get(r["name"]), "BioBERT (published, test)", {"NCBI Disease devel": 0.891}.get(r["name"]), source)
           for r in result["rows"]]
    speed = result.get("speed", {})
    if "ratio" in speed:
        out.append(row("throughput", f"extract pipeline vs medspaCy ({speed['notes']} MTSamples notes, 1 thread)",
                       speed["ratio"], TARGETS["throughput_ratio"], "medspaCy notes/s", speed["medspacy_notes_per_s"],
                       source, f"medai {speed['medai_notes_per_s']:.2f} notes/s"))
        out.append(row("throughput", "extract --no-tagger vs medspaCy", speed["ratio_rules_only"],
                       TARGETS["throughput_ratio"], "medspaCy notes/s", speed["medspacy_notes_per_s"], source,
                       f"medai {speed['medai_rules_only_notes_per_s']:.2f} notes/s"))
    return out


def assertion_rows(result: dict) -> list[dict]:
    """Negation / temporality / experiencer accuracy beside medspaCy; follow-up P/R; ConText speed."""
    source = f"notes_assertion.json@{result['commit'][:8]}"
    systems = result["assertion"]
    medai = next(s for s in systems if "shipped" in s["name"])
    medspacy = next((s for s in systems if s["name"].startswith("medspaCy")), None)
    out = [row("assertion", f"{key.replace('_', ' ')} (NegEx shared part, n={medai['n']})", medai[key],
               TARGETS["negation_accuracy"] if key == "negation_accuracy" else None, "medspaCy ConText",
               medspacy and medspacy[key], source, "rules read this dev set's errors: optimistic" if key == "negation_accuracy" else "")
           for key in ("negation_accuracy", "negation_sensitivity", "negation_specificity", "temporality_accuracy",
                       "experiencer_accuracy")]
    follow = result["followup"]
    for part, label in (("check", "held part (not read while writing rules)"), ("all", "whole dev set")):
        out.append(row("follow-up", f"precision, {label} (n={follow[part]['predicted']})", follow[part]["precision"],
                       None, "", None, source))
        out.append(row("follow-up", f"recall, {label} (n={follow[part]['gold']})", follow[part]["recall"], None, "", None,
                       source))
    notes = result.get("speed", {}).get("notes", {})
    if "ratio" in notes:
        out.append(row("throughput", "ConText assertions on whole notes vs medspaCy", notes["ratio"],
                       TARGETS["throughput_ratio"], "medspaCy notes/s", notes["medspacy_notes_per_s"], source))
    return out


def readmission_rows(result: dict) -> list[dict]:
    """AUROC (95% CI), AUPRC and calibration slope of the shipped model beside LightGBM and LACE."""
    source = f"readmission.json@{result['commit'][:8]}"
    rows = {r["name"]: r for r in result["rows"]}
    shipped = next(r for name, r in rows.items() if name.startswith("Shipped"))
    lgbm = rows.get("LightGBM alone")
    lace = next((r for name, r in rows.items() if name.startswith("LACE")), None)
    return [
        row("readmission", f"AUROC (95% CI {shipped['auroc_low']:.3f}-{shipped['auroc_high']:.3f}, n={shipped['n']})",
            shipped["auroc"], TARGETS["auroc"], "LightGBM / LACE",
            f"{lgbm['auroc']:.3f} / {lace['auroc']:.3f}" if lgbm and lace else None, source),
        row("readmission", f"AUPRC (95% CI {shipped['auprc_low']:.3f}-{shipped['auprc_high']:.3f})", shipped["auprc"], None,
            "LightGBM / LACE", f"{lgbm['auprc']:.3f} / {lace['auprc']:.3f}" if lgbm and lace else None, source),
        row("readmission", "calibration slope", shipped["calibration_slope"], TARGETS["calibration_slope"],
            "LACE", lace and lace["calibration_slope"], source),
    ]


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, tuple):
        return f"{value[0]}-{value[1]}"
    return str(value)


def print_table(rows: list[dict]) -> None:
    """The combined table."""
    print(f"{'area':14} {'metric':66} {'value':>7} {'target':>8} {'ok':>3}  {'anchor':>26}  source")
    for r in rows:
        ok = {True: "yes", False: "NO", None: ""}[r["meets"]]
        anchor = f"{r['anchor']} {_fmt(r['anchor_value'])}" if r["anchor"] else ""
        print(f"{r['area']:14} {r['metric'][:66]:66} {_fmt(r['value']):>7} {_fmt(r['target']):>8} {ok:>3}  {anchor:>26}  "
              f"{r['source']}{'  (' + r['note'] + ')' if r['note'] else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rerun", nargs="*", choices=sorted(SCRIPTS), default=[],
                        help="component benchmarks to run before building the table")
    args = parser.parse_args()
    rerun(args.rerun)
    results = load_results()
    builders = {"deid": deid_rows, "ner": ner_rows, "assertion": assertion_rows, "readmission": readmission_rows}
    rows = [r for name, build in builders.items() if name in results for r in build(results[name])]
    print_table(rows)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    out = RESULTS / "notes.json"
    out.write_text(json.dumps({"commit": commit, "machine": platform.platform(), "cpus": os.cpu_count(),
                               "sources": {name: results[name].get("commit") for name in results},
                               "targets": {k: list(v) if isinstance(v, tuple) else v for k, v in TARGETS.items()},
                               "rows": [{**r, "target": list(r["target"]) if isinstance(r["target"], tuple) else r["target"]}
                                        for r in rows]}, indent=1))
    print(f"written {out}")


if __name__ == "__main__":
    main()
