"""Triage: the highest of the red-flag rules, condition warning signs and the differential's urgency.

The differential's level is cumulative and conservative: it is the highest level ``L`` whose conditions
(level ``L`` or above) together hold at least ``THRESHOLDS[L]`` of the posterior. So a small chance of an
emergency (by default 10%) already escalates, while self-care needs most of the probability on self-care
conditions. Red-flag rules (data, ``red_flags.yaml``) always win: they cannot be outweighed by the differential.
"""

from __future__ import annotations

from dataclasses import dataclass

from medai.assistant.symptoms.inference import Evidence, Ranked
from medai.assistant.symptoms.knowledge import URGENCIES, KnowledgeBase, urgency_rank

THRESHOLDS = {"emergency": 0.10, "urgent": 0.25, "routine": 0.45}
WARNING_SIGN_MIN_PROBABILITY = 0.10


@dataclass(frozen=True)
class Flag:
    """Why triage was raised: a rule or a condition's warning sign."""

    id: str
    triage: str
    message: str
    findings: tuple[str, ...]
    source: str


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


def differential_level(ranked: list[Ranked]) -> str:
    """The conservative, cumulative probability-weighted urgency of the differential."""
    for level in ("emergency", "urgent", "routine"):
        mass = sum(r.probability for r in ranked if urgency_rank(r.condition.urgency) >= urgency_rank(level))
        if mass >= THRESHOLDS[level]:
            return level
    return "self-care"


def triage(kb: KnowledgeBase, ranked: list[Ranked], evidence: Evidence) -> tuple[str, list[Flag]]:
    """The triage level and the flags that raised it (red-flag rules first)."""
    flags = red_flags(kb, evidence) + warning_signs(ranked, evidence)
    levels = [differential_level(ranked)] + [f.triage for f in flags]
    return max(levels, key=urgency_rank), flags
