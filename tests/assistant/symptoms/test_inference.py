"""Noisy-OR posterior on a hand-worked two-condition knowledge base, and triage escalation."""

from __future__ import annotations

import math

import pytest

from medai.assistant.symptoms.inference import Evidence, finding_likelihood, posterior
from medai.assistant.symptoms.knowledge import Condition, Finding, KnowledgeBase, RedFlagRule
from medai.assistant.symptoms.triage import (
    EMERGENCY_BASE,
    EMERGENCY_DENIED,
    differential_level,
    emergency_in_top,
    emergency_threshold,
    key_findings,
    triage,
)


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


def test_absent_finding_likelihood_is_leak_times_link_complement(kb):
    # noisy-OR: P(absent | c) = (1 - leak)(1 - p); a finding c does not list has p = 0, so only the leak acts
    flu, cold = kb.condition("flu"), kb.condition("cold")
    assert finding_likelihood(kb, flu, "fever", False) == pytest.approx(0.95 * 0.1)
    assert finding_likelihood(kb, cold, "fever", False) == pytest.approx(0.95 * 0.8)
    other = _condition("other", 0.1, {"cough": 0.5})
    assert finding_likelihood(kb, other, "fever", False) == pytest.approx(0.95)


def test_urgent_mass_and_small_emergency(kb):
    evidence = Evidence(frozenset({"cough"}))
    assert differential_level(kb, posterior(kb, evidence), evidence) == "urgent"   # flu (urgent) holds over 25%
    heavy = kb.model_copy(update={"conditions": [_condition("cold", 0.85, {"cough": 0.5}),
                                                 _condition("clot", 0.15, {"cough": 0.5}, "emergency")]})
    assert differential_level(heavy, posterior(heavy, evidence), evidence) == "emergency"


def _clot_kb(kb: KnowledgeBase, clot_prior: float) -> KnowledgeBase:
    findings = {**kb.findings, "breathless": Finding(label="breathlessness", leak=0.05)}
    return kb.model_copy(update={"findings": findings, "conditions": [
        _condition("cold", 1 - clot_prior, {"cough": 0.5}),
        _condition("clot", clot_prior, {"cough": 0.5, "breathless": 0.8}, "emergency", red_flags=["breathless"])]})


def test_emergency_threshold_rises_when_key_findings_are_denied(kb):
    clot_kb = _clot_kb(kb, 0.15)
    clot = clot_kb.condition("clot")
    assert key_findings(clot_kb, clot) == ["breathless", "cough"]   # warning sign first, then p >= 0.5
    unasked = Evidence(frozenset({"cough"}))
    denied = Evidence(frozenset({"cough"}), frozenset({"breathless"}))
    assert emergency_threshold(clot_kb, clot, unasked) == pytest.approx(EMERGENCY_BASE)
    # one of two key findings denied: halfway from 8% to 30%
    assert emergency_threshold(clot_kb, clot, denied) == pytest.approx(EMERGENCY_BASE + (EMERGENCY_DENIED - EMERGENCY_BASE) / 2)


def test_denied_red_flag_lowers_an_emergency_by_hand():
    findings = {"cough": Finding(label="cough", leak=0.1), "breathless": Finding(label="breathlessness", leak=0.05)}
    kb = KnowledgeBase(version="t", sha256="0" * 64, findings=findings, red_flags=[], conditions=[
        _condition("cold", 0.85, {"cough": 0.5}),
        _condition("clot", 0.15, {"cough": 0.5, "breathless": 0.8}, "emergency", red_flags=["breathless"])])
    unasked = Evidence(frozenset({"cough"}))
    # cough alone: both conditions explain it equally (P = .55 each), so the posterior stays at the prior 15% >= 8%
    assert posterior(kb, unasked)[1].probability == pytest.approx(0.15)
    assert differential_level(kb, posterior(kb, unasked), unasked) == "emergency"
    denied = Evidence(frozenset({"cough"}), frozenset({"breathless"}))
    # P(no breathlessness | clot) = .95 × .2 = .19, | cold = .95: clot = .15×.19 / (.15×.19 + .85×.95) = 3.41%
    ranked = posterior(kb, denied)
    clot = next(r for r in ranked if r.condition.id == "clot")
    assert clot.probability == pytest.approx(0.15 * 0.19 / (0.15 * 0.19 + 0.85 * 0.95))
    # the threshold rose to 19%, weighted mass = 3.41% × 8/19 = 1.4% < the 4% routine floor: self-care
    assert differential_level(kb, ranked, denied) == "self-care"


def test_emergency_in_top_three_is_at_least_urgent():
    findings = {"cough": Finding(label="cough", leak=0.1)}
    kb = KnowledgeBase(version="t", sha256="0" * 64, findings=findings, red_flags=[], conditions=[
        _condition("cold", 0.95, {"cough": 0.5}), _condition("clot", 0.05, {"cough": 0.5}, "emergency")])
    evidence = Evidence(frozenset({"cough"}))
    # 5% emergency, second in the differential, below the 8% credible threshold: urgent, never self-care
    assert differential_level(kb, posterior(kb, evidence), evidence) == "urgent"


def test_top_three_rule_skips_an_emergency_whose_warning_signs_are_denied():
    findings = {"cough": Finding(label="cough", leak=0.1), "blood": Finding(label="coughing blood", leak=0.01)}
    kb = KnowledgeBase(version="t", sha256="0" * 64, findings=findings, red_flags=[], conditions=[
        _condition("cold", 0.95, {"cough": 0.5}),
        _condition("clot", 0.1, {"cough": 0.5, "blood": 0.05}, "emergency", red_flags=["blood"])])
    unasked = Evidence(frozenset({"cough"}))
    denied = Evidence(frozenset({"cough"}), frozenset({"blood"}))
    assert [r.condition.id for r in emergency_in_top(kb, posterior(kb, unasked), unasked)] == ["clot"]
    assert emergency_in_top(kb, posterior(kb, denied), denied) == []
