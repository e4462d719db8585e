"""PHQ-9 and GAD-7: hand-worked scores and bands, validation of answers, item-9 escalation."""

import pytest

from medai.assistant.mental.engine import FlowSession
from medai.assistant.mental.flows import load_flows, score_questionnaire
from medai.assistant.safety.screen import CrisisScreener, SafetyGuard


def _phq(values):
    return {f"item{i}": v for i, v in enumerate(values, 1)}


@pytest.mark.parametrize(("values", "total", "band"), [
    ([0, 0, 0, 0, 0, 0, 0, 0, 0], 0, "minimal"),
    ([1, 1, 1, 1, 0, 0, 0, 0, 0], 4, "minimal"),
    ([1, 1, 1, 1, 1, 0, 0, 0, 0], 5, "mild"),
    ([2, 2, 1, 1, 1, 1, 1, 0, 0], 9, "mild"),
    ([2, 2, 2, 1, 1, 1, 1, 0, 0], 10, "moderate"),
    ([3, 2, 2, 2, 2, 1, 1, 1, 0], 14, "moderate"),
    ([3, 3, 2, 2, 2, 1, 1, 1, 0], 15, "moderately severe"),
    ([3, 3, 3, 3, 2, 2, 2, 1, 0], 19, "moderately severe"),
    ([3, 3, 3, 3, 2, 2, 2, 2, 0], 20, "severe"),
    ([3] * 9, 27, "severe"),
])
def test_phq9_bands(values, total, band):
    score = score_questionnaire(load_flows().flow("phq9"), _phq(values))
    assert (score.total, score.band) == (total, band) and score.safety_item_value == values[8]


@pytest.mark.parametrize(("values", "total", "band"), [
    ([0] * 7, 0, "minimal"), ([1, 1, 1, 1, 0, 0, 0], 4, "minimal"), ([1, 1, 1, 1, 1, 0, 0], 5, "mild"),
    ([2, 2, 2, 1, 1, 1, 0], 9, "mild"), ([2, 2, 2, 1, 1, 1, 1], 10, "moderate"), ([2, 2, 2, 2, 2, 2, 2], 14, "moderate"),
    ([3, 2, 2, 2, 2, 2, 2], 15, "severe"), ([3] * 7, 21, "severe"),
])
def test_gad7_bands(values, total, band):
    score = score_questionnaire(load_flows().flow("gad7"), {f"item{i}": v for i, v in enumerate(values, 1)})
    assert (score.total, score.band, score.safety_item_value) == (total, band, None)


def test_scoring_rejects_missing_and_out_of_range_answers():
    flow = load_flows().flow("phq9")
    with pytest.raises(ValueError, match="item9 is missing"):
        score_questionnaire(flow, _phq([0] * 8))
    with pytest.raises(ValueError, match="item2 = 4"):
        score_questionnaire(flow, _phq([0, 4, 0, 0, 0, 0, 0, 0, 0]))


def _run(flow_id, replies):
    session = FlowSession(flow_id, guard=SafetyGuard(CrisisScreener()))
    steps = [session.reply(r) for r in replies]
    return session, steps


def test_phq9_in_conversation_accepts_numbers_and_words_and_scores():
    session, steps = _run("phq9", ["1", "several days", "2", "More than half the days", "0", "nearly every day",
                                   "0", "1", "0"])
    assert session.done and steps[-1].info == {"score": 10, "band": "moderate"} and steps[-1].crisis is None
    assert "Your PHQ-9 score is 10 out of 27 (moderate range)" in steps[-1].prompt
    assert session.summary()["completed"] and session.summary()["risk"] == "none"


def test_invalid_answer_is_asked_again():
    session = FlowSession("gad7", guard=SafetyGuard(CrisisScreener()))
    step = session.reply("sometimes")
    assert not step.accepted and "one of 0, 1, 2, 3" in step.error and session.index == 0
    assert step.prompt.startswith("Over the last 2 weeks")


@pytest.mark.parametrize(("answer", "risk"), [("1", "moderate"), ("3", "high")])
def test_phq9_item9_positive_triggers_the_safety_layer(answer, risk):
    session, steps = _run("phq9", ["0"] * 8 + [answer])
    last = steps[-1]
    assert last.done and last.crisis is not None and last.crisis.stop_flow
    assert last.crisis.result.risk == risk and last.crisis.flag["resourceType"] == "Flag"
    summary = session.summary()
    assert summary["stopped_for_crisis"] and summary["score"] == int(answer) and summary["safety_item"] == int(answer)
    assert session.guard.state.risk == risk


def test_crisis_reply_mid_questionnaire_stops_before_the_step_sees_it():
    session, steps = _run("gad7", ["1", "I can't do this anymore, I want to kill myself"])
    assert steps[-1].crisis is not None and session.done and "item2" not in session.answers
    assert session.reply("2").error == "this flow has ended"
