"""End-to-end assessments: red flags escalate, benign cases stay self-care, output carries the contract fields."""

from __future__ import annotations

import pytest

from medai.assistant.symptoms import SymptomSession, assess
from medai.errors import InvalidInput


def test_output_contract():
    result = assess("Runny nose, sneezing and a sore throat for 2 days, no fever", 30, "female", semantic=False).to_dict()
    assert result["triage"] == "self-care"
    assert result["differential"][0]["id"] == "common_cold"
    assert {"condition", "icd10cm", "probability"} <= set(result["differential"][0])
    assert abs(sum(d["probability"] for d in result["differential"]) - 1) < 0.2
    assert result["rationale"] and result["disclaimer"] and result["next_steps"]
    assert result["version"]["knowledge_version"] and result["explanation"][0]["contributions"]
    assert {"finding": "fever", "present": False} in [{k: f[k] for k in ("finding", "present")} for f in result["findings"]]


@pytest.mark.parametrize("text", [
    "Crushing chest pain when climbing stairs, spreading to my left arm",
    "Her face is drooping on one side and her speech is slurred",
    "Fever and a stiff neck, light hurts my eyes",
    "Stung by a bee, now my throat is closing and lips are swollen",
    "I am going to kill myself tonight",
    "Vomiting blood this morning",
    "I can't breathe and my lips are blue",
])
def test_red_flags_always_emergency(text):
    result = assess(text, 50, semantic=False).to_dict()
    assert result["triage"] == "emergency", result["rationale"]
    assert result["red_flags"]


def test_nothing_recognised_is_not_self_care():
    result = assess("hello there", semantic=False).to_dict()
    assert result["differential"] == [] and result["triage"] == "routine"


def test_bad_sex_and_age_are_named():
    with pytest.raises(InvalidInput, match="sex"):
        assess("cough", sex="other", semantic=False)
    with pytest.raises(InvalidInput, match="age"):
        assess("cough", age=200, semantic=False)


def test_interview_converges_on_the_true_condition():
    """Answering truthfully from the knowledge base's own strongest findings drives the top condition up."""
    session = SymptomSession(semantic=False, max_questions=10).start("I have a sore throat", 16, "male")
    truth = session.knowledge.condition("infectious_mononucleosis")
    before = {r.condition.id: r.probability for r in session.ranked()}["infectious_mononucleosis"]
    asked = []
    while (question := session.next_question()) is not None:
        asked.append(question.finding)
        assert question.text.endswith("?")
        assert question.information_gain > 0 if question.purpose == "information" else question.purpose == "red flag"
        session.answer(question.finding, truth.findings.get(question.finding, 0) >= 0.5)
    assert len(asked) <= 10 + session.max_safety_questions and len(set(asked)) == len(asked)
    ranked = session.ranked()
    after = {r.condition.id: r.probability for r in ranked}["infectious_mononucleosis"]
    assert after > before and ranked[0].condition.id == "infectious_mononucleosis"
    assert any(f["method"] == "answer" for f in session.result().findings)


def test_interview_stops_when_confident():
    session = SymptomSession(semantic=False, confidence=0.5).start(
        "barking cough, hoarse voice and noisy breathing in", 3, "male")
    assert session.ranked()[0].condition.id == "croup" and session.next_question() is None


@pytest.mark.parametrize(("text", "age"), [("sore throat and fever", 76), ("I have a headache", 30),
                                          ("my back hurts after gardening", 45), ("itchy rash on my arm", 25)])
def test_all_no_answers_on_a_benign_complaint_never_end_in_emergency(text, age):
    session = SymptomSession(semantic=False).start(text, age)
    levels = []
    while (question := session.next_question()) is not None:
        session.answer(question.finding, False)
        levels.append(session.result().triage)
    assert levels and "emergency" not in levels
    assert session.result().triage != "emergency"


def test_interview_asks_emergency_red_flags_before_concluding():
    """Chest pain: the heart attack's warning signs are asked before the interview ends, and a 'yes' escalates."""
    session = SymptomSession(semantic=False, max_questions=2).start("I have chest pain", 58, "male")
    questions = []
    while (question := session.next_question()) is not None:
        questions.append(question)
        session.answer(question.finding, False)
    red = [q.finding for q in questions if q.purpose == "red flag"]
    assert red and "chest_pain_exertion" in [q.finding for q in questions]
    exertion = SymptomSession(semantic=False).start("I have chest pain", 58, "male")
    exertion.answer("chest_pain_exertion", True)
    assert exertion.result().triage == "emergency"


def test_chest_pain_on_exertion_stays_emergency_through_the_interview():
    session = SymptomSession(semantic=False).start("chest pain on exertion", 60, "male")
    assert session.result().triage == "emergency"
    while (question := session.next_question()) is not None:
        session.answer(question.finding, False)
    assert session.result().triage == "emergency"
