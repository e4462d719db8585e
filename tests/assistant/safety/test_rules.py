"""The rule half of the screen: explicit, indirect and negated phrasings, imminence, other categories."""

import pytest

from medai.assistant.safety.rules import rule_screen


def _rules(result):
    return {e.rule.split(":")[1] for e in result.evidence}


@pytest.mark.parametrize("text", ["I want to kill myself", "i'm so suicidal lately", "I'm going to end my life",
                                  "I wish I was dead", "thinking about suicide every day", "honestly i just want to die"])
def test_explicit_suicidal_statements_are_high(text):
    result = rule_screen(text)
    assert result.risk == "high" and result.categories == ("suicide_self_harm",) and result.stop


@pytest.mark.parametrize("text", ["Everyone would be better off without me", "I don't want to wake up anymore",
                                  "I can't go on like this", "there's no reason to live", "I'm a burden to my family",
                                  "what's the point of living"])
def test_indirect_lay_phrasings_stop_the_flow(text):
    result = rule_screen(text)
    assert result.risk in ("moderate", "high") and "suicide_self_harm" in result.categories and result.stop


def test_negated_mention_is_kept_as_low_evidence_never_dropped():
    for text in ("I'm not suicidal", "I would never kill myself", "I don't want to die"):
        result = rule_screen(text)
        assert result.risk == "low" and not result.stop
        assert all(e.negated for e in result.evidence)


def test_negation_never_downgrades_explicit_intent_elsewhere_or_a_plan():
    assert rule_screen("I never said I was fine. I want to kill myself").risk == "high"
    assert rule_screen("I'm not joking, I will kill myself").risk == "high"
    plan = rule_screen("I don't care anymore, I have a plan to end my life")
    assert plan.risk in ("high", "imminent") and not any(e.negated for e in plan.evidence if e.kind == "plan")


@pytest.mark.parametrize(("text", "kinds"), [
    ("I want to die and I've been saving up my pills", {"means"}),
    ("I have a plan to kill myself", {"plan"}),
    ("I'm going to kill myself tonight", {"time"}),
    ("I want to end it all. I bought a rope", {"means"}),
])
def test_intent_with_plan_means_or_time_is_imminent(text, kinds):
    result = rule_screen(text)
    assert result.risk == "imminent"
    escalation = [e for e in result.evidence if e.kind == "escalation"]
    assert escalation and kinds <= set(escalation[0].rule.rsplit(".", 1)[1].split("+"))


def test_overdose_taken_is_imminent_and_a_medical_emergency():
    result = rule_screen("I just took 30 of my sleeping pills")
    assert result.risk == "imminent" and set(result.categories) == {"suicide_self_harm", "medical_emergency"}


@pytest.mark.parametrize(("text", "category", "risk"), [
    ("I'm going to kill my boss", "harm_to_others", "high"),
    ("My husband hits me when he drinks", "abuse", "high"),
    ("he threatened to kill me last night", "abuse", "high"),
    ("my dad is not breathing", "medical_emergency", "imminent"),
    ("I have crushing chest pain", "medical_emergency", "high"),
])
def test_other_categories(text, category, risk):
    result = rule_screen(text)
    assert category in result.categories and result.risk == risk


def test_evidence_spans_point_at_the_words():
    text = "Work was awful.  Honestly   I want to kill myself."
    result = rule_screen(text)
    clean = " ".join(text.split())
    assert all(clean[e.start:e.end] == e.text for e in result.evidence if e.text)
    assert "si.ideation.explicit" in _rules(result)


@pytest.mark.parametrize("text", ["I had a lovely walk today", "My knee hurts after running", "I killed it at the gym",
                                  "This deadline is killing me", ""])
def test_ordinary_messages_raise_nothing(text):
    assert rule_screen(text).risk == "none"
