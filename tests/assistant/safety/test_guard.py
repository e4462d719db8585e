"""The conversation's safety state never goes down; questionnaire answers can raise it."""

from medai.assistant.safety.screen import CrisisScreener, SafetyGuard
from medai.assistant.safety.types import Evidence, ScreenResult, combine, max_risk


def test_flagged_conversation_is_never_downgraded():
    guard = SafetyGuard(CrisisScreener())
    assert guard.check("hi, I'd like to talk about my week").risk == "none"
    assert guard.check("honestly I want to kill myself").risk == "high" and guard.flagged
    for later in ("just kidding, I'm fine", "I'm not suicidal", "what's the weather tomorrow?"):
        state = guard.check(later)
        assert state.risk == "high" and state.stop and "suicide_self_harm" in state.categories
    assert guard.check("I'm going to do it tonight, I have the pills ready, I want to die").risk == "imminent"
    assert guard.check("ok thanks").risk == "imminent"


def test_escalate_keeps_the_highest_and_all_evidence():
    guard = SafetyGuard(CrisisScreener())
    guard.check("my partner hit me")
    item9 = Evidence(0, 0, "phq9 item9 = 1", "questionnaire", "phq9:item9", "suicide_self_harm", "moderate", "ideation")
    state = guard.escalate(ScreenResult("moderate", ("suicide_self_harm",), (item9,)))
    assert state.risk == "high" and state.categories == ("suicide_self_harm", "abuse")
    assert [e.source for e in state.evidence] == ["rule", "questionnaire"]


def test_combine_and_max_risk():
    assert max_risk() == "none" and max_risk("low", "imminent", "moderate") == "imminent"
    assert combine([]).risk == "none"
