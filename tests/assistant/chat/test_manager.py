"""The dialogue manager without a database: safety first on every message (also inside flows), the
conversation's risk never going down, routing by intent, the mental-health flows, hand-off and the opening."""

from __future__ import annotations

import pytest

from medai.assistant.chat import ConversationState, DialogueManager
from medai.assistant.chat.intents import IntentMatcher
from medai.assistant.chat.knowledge import load_intents
from medai.errors import InvalidInput


def test_opening_says_what_the_assistant_is_and_is_not(manager):
    opening = manager.opening()
    assert "not a doctor" in opening.text and "911" in opening.text and "988" in opening.text
    assert opening.kind == "opening" and {q.label for q in opening.quick_replies} >= {"Check my symptoms", "Book an appointment"}
    assert any("988" in c["source"] for c in opening.data["citations"])


def test_every_message_is_screened_first_including_inside_a_flow(manager, screener):
    state = ConversationState()
    texts = ["gad-7", "1", "2", "stop", "hello", "help"]
    for text in texts:
        manager.handle(state, text)
    assert screener.texts == texts


def test_crisis_mid_flow_stops_the_flow_flags_and_asks_for_an_alert(manager):
    state = ConversationState()
    manager.handle(state, "phq-9")
    manager.handle(state, "1")
    assert state.active["handler"] == "flow" and state.active["replies"] == ["1"]
    turn = manager.handle(state, "2, honestly I want to kill myself tonight")
    assert turn.intent == "crisis" and turn.crisis is not None and turn.alert
    assert state.active is None and state.flagged and state.risk == "imminent"
    reply = turn.replies[0]
    assert reply.kind == "crisis" and "911" in reply.text
    assert any("988" in r["contact"] for r in reply.data["resources"])
    assert [q.value for q in reply.quick_replies] == ["yes", "no"]  # the human hand-off offer
    assert turn.crisis.flag["resourceType"] == "Flag" and turn.crisis.communication["resourceType"] == "Communication"


def test_risk_and_flag_are_never_downgraded(manager):
    state = ConversationState()
    first = manager.handle(state, "my husband hits me")
    assert first.alert and state.risk == "high" and state.flagged
    calm = manager.handle(state, "hello")
    assert calm.screen.risk == "none" and calm.state.risk == "high" and calm.flagged
    again = manager.handle(state, "my husband hits me")
    assert again.crisis is not None and not again.alert  # same risk, same category: no second alert
    worse = manager.handle(state, "I want to kill myself tonight")
    assert worse.alert and state.risk == "imminent"
    assert state.categories == ["suicide_self_harm", "abuse"]
    restored = ConversationState.from_dict(state.to_dict())
    manager.handle(restored, "hi")
    assert restored.risk == "imminent" and restored.flagged


def test_phq9_item_9_endorsed_escalates_to_a_crisis(manager):
    state = ConversationState()
    manager.handle(state, "phq9")
    for _ in range(8):
        turn = manager.handle(state, "0")
        assert turn.crisis is None
    turn = manager.handle(state, "2")  # item 9: more than half the days
    assert turn.crisis is not None and turn.alert and state.flagged and state.risk == "high"
    assert turn.screen.risk == "none"  # the text itself was harmless; the questionnaire raised it
    assert state.active is None


def test_completed_questionnaire_gives_score_and_band(manager):
    state = ConversationState()
    start = manager.handle(state, "gad-7 please")
    assert start.intent == "gad7" and [q.value for q in start.replies[0].quick_replies] == ["0", "1", "2", "3"]
    for answer in ["1", "1", "2", "1", "0", "1"]:
        manager.handle(state, answer)
    done = manager.handle(state, "1")
    summary = done.replies[0].data["summary"]
    assert summary["completed"] and summary["score"] == 7 and summary["band"] == "mild"
    assert state.active is None


def test_bad_answer_in_a_flow_is_asked_again(manager):
    state = ConversationState()
    manager.handle(state, "breathing exercise")
    turn = manager.handle(state, "lots")
    assert "whole number from 0 to 10" in turn.replies[0].text and state.active["replies"] == []


def test_stop_and_help_interrupt_a_flow_but_other_intents_do_not(manager):
    state = ConversationState()
    manager.handle(state, "grounding")
    turn = manager.handle(state, "book an appointment")  # an answer to "name 5 things you can see"
    assert state.active is not None and turn.intent == "flow" and state.active["replies"] == ["book an appointment"]
    helped = manager.handle(state, "help")
    assert helped.intent == "help" and state.active is not None
    stopped = manager.handle(state, "stop")
    assert stopped.intent == "stop" and state.active is None


def test_low_risk_adds_support_and_the_flow_goes_on(manager):
    state = ConversationState()
    manager.handle(state, "mood check-in")
    turn = manager.handle(state, "I do not want to kill myself")  # negated: low
    assert turn.screen.risk == "low" and turn.crisis is None and not state.flagged
    assert turn.replies[-1].kind == "support" and turn.replies[-1].data["resources"]


def test_handoff_after_a_crisis(manager):
    state = ConversationState()
    manager.handle(state, "I took 30 pills")
    turn = manager.handle(state, "yes")
    assert turn.handoff and state.handoff_requested and "care team" in turn.replies[0].text


def test_a_lower_configured_level_stops_at_low_risk(screener):
    strict = DialogueManager(screener=screener, semantic=False, crisis_level="low")
    state = ConversationState()
    turn = strict.handle(state, "I do not want to kill myself")
    assert turn.crisis is not None and state.flagged
    with pytest.raises(ValueError, match="crisis level must be one of"):
        DialogueManager(screener=screener, crisis_level="none")


@pytest.mark.parametrize("text, intent", [
    ("Check my symptoms", "symptom_check"), ("PHQ-9", "phq9"), ("I keep having negative thoughts", "thought_record"),
    ("I feel so overwhelmed, panicking", "grounding"), ("can you help me plan an activity", "behavioural_activation"),
    ("when is my next appointment", "appointments_mine"), ("I need to reschedule", "appointments_reschedule"),
    ("please cancel my appointment", "appointments_cancel"), ("what are my meds today", "medications_today"),
    ("I took my amoxicillin", "medications_taken"), ("help", "help"), ("Hi!", "greeting"),
])
def test_intent_rules(text, intent):
    assert IntentMatcher().match(text).intent.id == intent


def test_without_a_patient_appointments_and_medicines_ask_to_sign_in(manager):
    state = ConversationState()
    for text in ("book an appointment", "what are my meds"):
        turn = manager.handle(state, text)
        assert "signed-in patient" in turn.replies[0].text and state.active is None


def test_unknown_text_gets_the_menu(manager):
    turn = manager.handle(ConversationState(), "qwerty zxcv")
    assert turn.intent is None and turn.replies[0].quick_replies


def test_a_bad_intent_file_names_the_field(tmp_path):
    bad = tmp_path / "intents.yaml"
    bad.write_text("version: '1'\ndescription: x\nsemantic_threshold: 0.5\nintents:\n  - id: Bad Id\n    title: x\n    phrases: [a]\n")
    with pytest.raises(InvalidInput, match="intents.0.id"):
        load_intents(bad)


def test_symptom_check_interviews_then_gives_differential_triage_and_next_steps(manager):
    from medai.assistant.chat import ChatContext

    state, ctx = ConversationState(), ChatContext(age=30, sex="female")
    turn = manager.handle(state, "I have a sore throat and a fever since 2 days", ctx)
    asked = []
    while turn.replies[0].kind == "question":
        assert [q.value for q in turn.replies[0].quick_replies] == ["yes", "no", "don't know"]
        asked.append(turn.replies[0].data["finding"])
        turn = manager.handle(state, "no", ctx)
        assert len(asked) <= 12
    assert asked and len(set(asked)) == len(asked)
    result = turn.replies[0]
    assessment = result.data["assessment"]
    assert result.kind == "result" and state.active is None
    assert assessment["triage"] in ("emergency", "urgent", "routine", "self-care") and assessment["differential"]
    assert assessment["differential"][0]["condition"] in result.text and "not a doctor" in result.text
    assert {f["finding"] for f in assessment["findings"] if f["present"] is False} >= set(asked)


def test_a_non_answer_mid_interview_is_read_as_more_description(manager):
    from medai.assistant.chat import ChatContext

    state, ctx = ConversationState(), ChatContext(age=30, sex="female")
    manager.handle(state, "sore throat and fever", ctx)
    turn = manager.handle(state, "banana", ctx)
    assert "Please answer yes, no or don't know" in turn.replies[0].text and state.active["text"] == "sore throat and fever"
    manager.handle(state, "I also have a bad cough", ctx)
    assert "cough" in state.active["text"]
