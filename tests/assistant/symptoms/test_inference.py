"""Noisy-OR posterior on a hand-worked two-condition knowledge base, and triage escalation."""

from __future__ import annotations

import math

import pytest

from medai.assistant.symptoms.inference import Evidence, posterior
from medai.assistant.symptoms.knowledge import Condition, Finding, KnowledgeBase, RedFlagRule
from medai.assistant.symptoms.triage import differential_level, triage


def _condition(cid: str, prior: float, findings: dict, urgency: str = "self-care", **extra) -> Condition:
    return Condition(id=cid, name=cid.title(), icd10cm="J00", prior=prior, urgency=urgency, findings=findings,
                     next="Rest and fluids please.", source="hand-worked example", **extra)


@pytest.fixture
def kb() -> KnowledgeBase:
    findings = {"cough": Finding(label="cough", leak=0.1), "fever": Finding(label="fever", leak=0.05),
                "smoker": Finding(label="smokes", kind="risk", leak=0.2)}
    conditions = [_condition("cold", 0.6, {"cough": 0.5, "fever": 0.2}),
                  _condition("flu", 0.4, {"cough": 0.8, "fever": 0.9}, "urgent", risk={"smoker": 2.0})]
    rules = [RedFlagRule(id="both", all=["cough", "fever"], any=[], message="Cough and fever together here.",
                         source="example")]
    return KnowledgeBase(version="t", sha256="0" * 64, findings=findings, conditions=conditions, red_flags=rules)


def test_two_condition_posterior_matches_hand_calculation(kb):
    # P(cough|cold) = 1-(1-.1)(1-.5) = .55; P(no fever|cold) = (1-.05)(1-.2) = .76
    # P(cough|flu)  = 1-(1-.1)(1-.8) = .82; P(no fever|flu)  = (1-.05)(1-.9) = .095
    cold, flu = 0.6 * 0.55 * 0.76, 0.4 * 0.82 * 0.095
    ranked = posterior(kb, Evidence(frozenset({"cough"}), frozenset({"fever"})))
    assert [r.condition.id for r in ranked] == ["cold", "flu"]
    assert ranked[0].probability == pytest.approx(cold / (cold + flu))
    assert ranked[1].contributions["cough"] == pytest.approx(math.log(0.82 / 0.1))
    assert ranked[1].contributions["fever"] == pytest.approx(math.log(0.095 / 0.95))


def test_risk_factor_multiplies_the_prior(kb):
    plain = posterior(kb, Evidence(frozenset({"cough"})))
    smoker = posterior(kb, Evidence(frozenset({"cough", "smoker"})))
    odds = lambda rs: {r.condition.id: r.probability for r in rs}["flu"] / {r.condition.id: r.probability for r in rs}["cold"]  # noqa: E731
    assert odds(smoker) == pytest.approx(2 * odds(plain))


def test_no_findings_gives_the_prior(kb):
    ranked = posterior(kb, Evidence())
    assert [round(r.probability, 6) for r in ranked] == [0.6, 0.4]


def test_red_flag_rule_overrides_a_reassuring_differential(kb):
    evidence = Evidence(frozenset({"cough", "fever"}))
    level, flags = triage(kb, posterior(kb, evidence), evidence)
    assert level == "emergency" and flags[0].id == "both"


def test_small_emergency_probability_escalates(kb):
    ranked = posterior(kb, Evidence(frozenset({"cough"})))
    assert differential_level(ranked) == "urgent"   # flu (urgent) holds over 25%
    heavy = kb.model_copy(update={"conditions": [_condition("cold", 0.85, {"cough": 0.5}),
                                                 _condition("clot", 0.15, {"cough": 0.5}, "emergency")]})
    assert differential_level(posterior(heavy, Evidence(frozenset({"cough"})))) == "emergency"
