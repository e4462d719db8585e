"""Triage: the highest of the red-flag rules, condition warning signs and the differential's urgency.

The differential's level (:func:`differential_level`) is conservative but calibrated:

* **emergency** when one emergency condition is credible on its own: its posterior reaches
  :func:`emergency_threshold`, which is ``EMERGENCY_BASE`` (8%) while its key findings (its warning signs
  and the findings it causes in at least half of cases) are unasked, and rises linearly to
  ``EMERGENCY_DENIED`` (30%) as they are asked and denied; or when the *weighted* emergency mass (each
  emergency *candidate* — posterior at least ``CANDIDATE_MIN`` (2%), the long tail of emergencies with tiny
  posteriors is left out — weighted by ``EMERGENCY_BASE`` / its threshold, so conditions whose key findings
  were denied count less) reaches ``EMERGENCY_MASS`` (10%, the conservative rule: it was briefly 15%, which
  sent more emergencies of a held-back set to lower levels, and was rolled back for safety), a diffuse but
  sizeable chance.
* **urgent** when urgent-or-worse conditions hold ``THRESHOLDS["urgent"]`` of the posterior, or when the
  weighted emergency mass reaches ``FLOORS["urgent"]`` (8%);
* **routine** when routine-or-worse conditions hold ``THRESHOLDS["routine"]``, or the weighted emergency mass
  reaches ``FLOORS["routine"]`` (4%): a non-negligible chance of an emergency is never sent to self-care;
* **self-care** otherwise. Before the urgent / routine rules, any emergency condition in the top ``TOP_EMERGENCY_RANKS`` (3) with a
  posterior of at least ``TOP_EMERGENCY_MIN`` (5%) whose warning signs were not all explicitly denied makes the
  level **urgent** (:func:`emergency_in_top`): a plausible emergency is never sent to self-care.

Denied findings therefore lower an emergency twice: through the noisy-OR posterior, and through the threshold
it must clear. Red-flag rules (data, ``red_flags.yaml``) always win: they cannot be outweighed by the differential.
"""

from __future__ import annotations

from dataclasses import dataclass

from medai.assistant.symptoms.inference import Evidence, Ranked
from medai.assistant.symptoms.knowledge import URGENCIES, Condition, KnowledgeBase, urgency_rank

EMERGENCY_BASE = 0.08
EMERGENCY_DENIED = 0.30
EMERGENCY_MASS = 0.10
FLOORS = {"urgent": 0.08, "routine": 0.04}
CANDIDATE_MIN = 0.02
KEY_FINDING_MIN_LIKELIHOOD = 0.5
THRESHOLDS = {"urgent": 0.25, "routine": 0.45}
WARNING_SIGN_MIN_PROBABILITY = 0.10
TOP_EMERGENCY_RANKS = 3
TOP_EMERGENCY_MIN = 0.05


@dataclass(frozen=True)
class Flag:
    """Why triage was raised: a rule or a condition's warning sign."""

    id: str
    triage: str
    message: str
    findings: tuple[str, ...]
    source: str


def key_findings(kb: KnowledgeBase, condition: Condition) -> list[str]:
    """The condition's warning signs plus the symptoms / signs it causes in at least half of cases."""
    common = [f for f, p in condition.findings.items()
              if p >= KEY_FINDING_MIN_LIKELIHOOD and kb.findings[f].kind in ("symptom", "sign")]
    return list(dict.fromkeys([*condition.red_flags, *common]))


def emergency_threshold(kb: KnowledgeBase, condition: Condition, evidence: Evidence) -> float:
    """Posterior an emergency condition needs to escalate: 8%, rising to 30% as the share of its key findings denied grows."""
    keys = key_findings(kb, condition)
    if not keys:
        return EMERGENCY_BASE
    denied = sum(f in evidence.absent for f in keys) / len(keys)
    return EMERGENCY_BASE + (EMERGENCY_DENIED - EMERGENCY_BASE) * denied


def red_flags(kb: KnowledgeBase, evidence: Evidence) -> list[Flag]:
    """Every red-flag rule that holds for this evidence."""
    out = []
    for rule in kb.red_flags:
        if rule.age_max is not None and (evidence.age is None or evidence.age > rule.age_max):
            continue
        if rule.age_min is not None and (evidence.age is None or evidence.age < rule.age_min):
            continue
        if not all(f in evidence.present for f in rule.all):
            continue
        hits = [f for f in rule.any if f in evidence.present]
        if rule.any and not hits:
            continue
        out.append(Flag(rule.id, rule.triage, rule.message, tuple(rule.all) + tuple(hits), rule.source))
    return out


def warning_signs(ranked: list[Ranked], evidence: Evidence) -> list[Flag]:
    """Conditions of the differential (posterior >= 10%) whose listed warning signs are present: at least urgent."""
    out = []
    for r in ranked:
        if r.probability < WARNING_SIGN_MIN_PROBABILITY:
            break
        hits = tuple(f for f in r.condition.red_flags if f in evidence.present)
        if hits:
            level = URGENCIES[max(urgency_rank("urgent"), urgency_rank(r.condition.urgency))]
            out.append(Flag(f"warning:{r.condition.id}", level,
                            f"Warning signs with possible {r.condition.name}: get checked today.", hits, r.condition.source))
    return out


def credible_emergencies(kb: KnowledgeBase, ranked: list[Ranked], evidence: Evidence) -> list[Ranked]:
    """Emergency conditions whose posterior clears their own :func:`emergency_threshold`."""
    return [r for r in ranked if r.condition.urgency == "emergency" and r.probability >= EMERGENCY_BASE
            and r.probability >= emergency_threshold(kb, r.condition, evidence)]


def weighted_emergency_mass(kb: KnowledgeBase, ranked: list[Ranked], evidence: Evidence) -> float:
    """Σ posterior × EMERGENCY_BASE / threshold over emergency candidates: denied key findings count it down."""
    return sum(r.probability * EMERGENCY_BASE / emergency_threshold(kb, r.condition, evidence)
               for r in ranked if r.condition.urgency == "emergency" and r.probability >= CANDIDATE_MIN)


def emergency_in_top(kb: KnowledgeBase, ranked: list[Ranked], evidence: Evidence) -> list[Ranked]:
    """Emergency conditions among the top ranks with a non-trivial posterior whose warning signs (its key
    findings when it lists none) were not all explicitly denied."""
    out = []
    for r in ranked[:TOP_EMERGENCY_RANKS]:
        if r.condition.urgency != "emergency" or r.probability < TOP_EMERGENCY_MIN:
            continue
        signs = r.condition.red_flags or key_findings(kb, r.condition)
        if not signs or not all(f in evidence.absent for f in signs):
            out.append(r)
    return out


def differential_level(kb: KnowledgeBase, ranked: list[Ranked], evidence: Evidence) -> str:
    """The calibrated, conservative urgency of the differential (see the module docstring)."""
    def mass(level: str) -> float:
        return sum(r.probability for r in ranked if urgency_rank(r.condition.urgency) >= urgency_rank(level))

    weighted = weighted_emergency_mass(kb, ranked, evidence)
    if weighted >= EMERGENCY_MASS or credible_emergencies(kb, ranked, evidence):
        return "emergency"
    if emergency_in_top(kb, ranked, evidence):
        return "urgent"
    for level in ("urgent", "routine"):
        if mass(level) >= THRESHOLDS[level] or weighted >= FLOORS[level]:
            return level
    return "self-care"


def triage(kb: KnowledgeBase, ranked: list[Ranked], evidence: Evidence) -> tuple[str, list[Flag]]:
    """The triage level and the flags that raised it (red-flag rules first)."""
    flags = red_flags(kb, evidence) + warning_signs(ranked, evidence)
    levels = [differential_level(kb, ranked, evidence)] + [f.triage for f in flags]
    return max(levels, key=urgency_rank), flags
