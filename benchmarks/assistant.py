"""Virtual assistant benchmark: symptom checker, crisis screen, distortion detector and medication reminders in one table.

    MEDAI_DATA_DIR=../shared/data OMP_NUM_THREADS=1 python benchmarks/assistant.py [--cache /tmp/medai_emb]

Rows, each beside its anchor:

* symptom checker on our own vignettes (``benchmarks/data/assistant_vignettes*.yaml``): top-1 / top-3
  diagnosis, triage accuracy, emergencies under-triaged and triaged as self-care, beside the published
  symptom checkers (Semigran 2015) and physicians (Semigran 2016);
* crisis screen: recall per C-SSRS level and false-positive rate on Supportive users of the shared Reddit
  set's validation users, and on the held-out half of our chat-message set;
* cognitive-distortion detection F1 beside Shreevastava & Foltz 2021;
* reminders: every Synthea MedicationRequest scheduled or given a reason (target: no failures).

The component scripts (``assistant_symptoms.py``, ``assistant_safety.py``) print their detailed tables;
this one gathers their headline figures. Writes ``benchmarks/results/assistant.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
from collections import Counter
from pathlib import Path

from assistant_safety import distortion_rows, safety_rows
from assistant_symptoms import symptom_rows

from medai.assistant.reminders.medication import SCHEDULED, medication_schedule
from medai.datasets import synthea

RESULTS = Path(__file__).parent / "results" / "assistant.json"


def reminder_row(root: str | None = None) -> dict:
    """How many Synthea MedicationRequests get a 7-day dose schedule, a stated reason, or neither (a failure)."""
    counts: Counter = Counter()
    for _, bundle in synthea.load(root):
        for entry in bundle.get("entry", []):
            resource = entry["resource"]
            if resource["resourceType"] != "MedicationRequest":
                continue
            schedule = medication_schedule(resource, days=7)
            counts["requests"] += 1
            if schedule.status == SCHEDULED and schedule.doses:
                counts["scheduled"] += 1
            elif schedule.reason:
                counts["reason given"] += 1
            else:
                counts["failed"] += 1
    return dict(counts)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def print_table(symptoms: list[dict], crisis: list[dict], distortions: list[dict], reminders: dict) -> None:
    """The one table: our figure, then the anchor, per measure."""
    print("\nVirtual assistant benchmark")
    print(f"{'measure':62} {'medai':>10} {'anchor':>28}")
    for row in symptoms:
        name = f"{row.get('set', '')} vignettes, {row['name']}"
        print(f"{('symptoms: ' + name)[:62]:62} {'':>10}")
        for key, label in (("top1", "top-1 diagnosis"), ("top3", "top-3 diagnosis"), ("triage", "triage correct")):
            anchor = {"top1": "34% checkers / 72% doctors", "top3": "51% checkers / 84% doctors",
                      "triage": "57% checkers"}[key]
            print(f"{'  ' + label + ' (n=' + str(row['n']) + ')':62} {_pct(row[key]):>10} {anchor:>28}")
        print(f"{'  emergencies under-triaged':62} {_pct(row['emergencies_under_triaged']):>10} {'–':>28}")
        print(f"{'  emergencies triaged as self-care':62} {row['emergencies_as_self_care']:>10} {'target 0':>28}")
    for row in crisis:
        if row["set"] == "reddit validation users" and row["screen"] == "combined":
            for group in ("Ideation", "Behavior", "Attempt", "Ideation+Behavior+Attempt", "Supportive"):
                what = "false-positive rate" if group == "Supportive" else "recall"
                cell = row.get(group)
                if cell:
                    label = f"crisis {row['level']} {group} {what}"
                    print(f"{label[:62]:62} "
                          f"{_pct(cell['rate']):>10} {('target 98%' if what == 'recall' else 'reported'):>28}")
        elif row["set"].startswith("chat messages") and row["screen"] == "combined":
            print(f"{'crisis chat messages (held-out half) detected':62} {_pct(row['crisis detected (>= low)']['rate']):>10} {'target 100%':>28}")
            print(f"{'ordinary chat messages (held-out half) screened none':62} {_pct(row['ordinary none']['rate']):>10} {'target 90%':>28}")
    for row in distortions:
        paper = "–" if row["paper"] is None else f"{row['paper']:.2f} paper"
        print(f"{('distortions ' + row['metric'])[:62]:62} {row['ours']:>10.3f} {paper:>28}")
    print(f"{'Synthea MedicationRequests: scheduled / reason / failed':62} "
          f"{reminders.get('scheduled', 0)}/{reminders.get('reason given', 0)}/{reminders.get('failed', 0):<3} "
          f"{'failed: target 0':>25}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("MEDAI_DATA_DIR"), help="Shared data root.")
    parser.add_argument("--cache", type=Path, default=None, help="Folder for cached MiniLM embeddings.")
    args = parser.parse_args()
    symptoms = symptom_rows()
    crisis = safety_rows(args.data, args.cache)
    distortions = distortion_rows(args.data, args.cache)
    reminders = reminder_row(args.data)
    print_table(symptoms, crisis, distortions, reminders)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"commit": commit, "machine": platform.platform(), "cpus": os.cpu_count(),
                                   "symptoms": symptoms, "crisis": crisis, "distortions": distortions,
                                   "reminders": reminders}, indent=1, default=str))
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
