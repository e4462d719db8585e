"""Posterior over conditions from present and absent findings: noisy-OR likelihoods with a leak.

One condition is assumed to explain the presentation (the usual single-fault assumption of symptom checkers).
For condition ``c`` and finding ``f`` with link strength ``p = P(f | c)`` and leak ``l`` (the chance ``f``
appears from some other cause), noisy-OR gives ``P(f present | c) = 1 - (1 - l)(1 - p)`` and
``P(f absent | c) = (1 - l)(1 - p)``; a finding ``c`` does not list has ``p = 0``. Findings never asked about
are left out. The prior is the condition's base prior times its age and sex multipliers times the likelihood
ratio of every risk factor present. Posterior ∝ prior × Π likelihoods, computed in log space.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from medai.assistant.symptoms.knowledge import Condition, KnowledgeBase


@dataclass(frozen=True)
class Evidence:
    """What is known about one person: findings present / absent, age and sex."""

    present: frozenset[str] = frozenset()
    absent: frozenset[str] = frozenset()
    age: float | None = None
    sex: str | None = None

    def with_answer(self, finding: str, present: bool | None) -> Evidence:
        """A copy with ``finding`` set to present, absent, or unknown (``None``)."""
        plus, minus = set(self.present) - {finding}, set(self.absent) - {finding}
        if present is True:
            plus.add(finding)
        elif present is False:
            minus.add(finding)
        return Evidence(frozenset(plus), frozenset(minus), self.age, self.sex)


@dataclass(frozen=True)
class Ranked:
    """One condition of the differential with its posterior and the log-likelihood ratio of each finding."""

    condition: Condition
    probability: float
    contributions: dict[str, float] = field(default_factory=dict)


def finding_likelihood(kb: KnowledgeBase, condition: Condition, finding: str, present: bool) -> float:
    """P(finding observed as ``present`` | condition) under noisy-OR with the finding's leak."""
    leak = kb.findings[finding].leak
    p = condition.findings.get(finding, 0.0)
    absent = (1.0 - leak) * (1.0 - p)
    return 1.0 - absent if present else absent


def log_prior(kb: KnowledgeBase, condition: Condition, evidence: Evidence) -> float:
    """ln prior for this person: base × age × sex multipliers × risk-factor likelihood ratios."""
    prior = condition.prior_for(evidence.age, evidence.sex)
    if prior <= 0:
        return -math.inf
    return math.log(prior) + sum(math.log(lr) for risk, lr in condition.risk.items() if risk in evidence.present)


def _scored(kb: KnowledgeBase, evidence: Evidence) -> list[tuple[Condition, float, dict[str, float]]]:
    observed = [(f, True) for f in evidence.present if kb.findings[f].kind != "risk"]
    observed += [(f, False) for f in evidence.absent if kb.findings[f].kind != "risk"]
    out = []
    for condition in kb.conditions:
        score = log_prior(kb, condition, evidence)
        contributions = {}
        for finding, present in observed:
            leak = kb.findings[finding].leak
            baseline = leak if present else 1.0 - leak
            value = math.log(finding_likelihood(kb, condition, finding, present))
            contributions[finding] = value - math.log(baseline)
            score += value
        out.append((condition, score, contributions))
    return out


def posterior(kb: KnowledgeBase, evidence: Evidence) -> list[Ranked]:
    """Every condition with its posterior probability, most probable first.

    Each ``Ranked.contributions`` holds, per observed finding, ln P(obs | condition) − ln P(obs | leak only):
    positive values support the condition, negative ones count against it.
    """
    scored = [s for s in _scored(kb, evidence) if s[1] > -math.inf]
    if not scored:
        return []
    top = max(s for _, s, _ in scored)
    weights = [math.exp(s - top) for _, s, _ in scored]
    total = sum(weights)
    ranked = [Ranked(c, w / total, contrib) for (c, _, contrib), w in zip(scored, weights)]
    return sorted(ranked, key=lambda r: -r.probability)


def entropy(probabilities: list[float]) -> float:
    """Shannon entropy in bits."""
    return -sum(p * math.log2(p) for p in probabilities if p > 0)
