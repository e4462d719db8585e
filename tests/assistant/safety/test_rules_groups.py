"""The lexicon's pattern groups, a few phrasings each: suicide/self-harm (passive, active, plan/means/time),
harm to others, abuse, medical emergencies, and the contexts (pseudo-triggers, informational frames)."""

import pytest

from medai.assistant.safety.rules import rule_screen
from medai.assistant.safety.types import risk_rank


def _at_least(text: str, category: str, risk: str) -> None:
    result = rule_screen(text)
    assert category in result.categories, (text, result.categories)
    assert risk_rank(result.risk) >= risk_rank(risk), (text, result.risk)


@pytest.mark.parametrize("text", ["Everyone would be better off if I wasn't here", "I hope I don't wake up tomorrow",
                                  "It would be easier if I just wasn't alive", "I don't care if I live or die anymore",
                                  "What's the point in carrying on?", "I'm such a burden to my family"])
def test_passive_ideation_stops_the_flow(text):
    _at_least(text, "suicide_self_harm", "moderate")


@pytest.mark.parametrize("text", ["I keep thinking about driving my car into a wall", "I want to jump off the bridge",
                                  "I've thought about how I would do it", "I've been burning my arms with a lighter",
                                  "The urge to cut is back"])
def test_active_ideation_methods_and_self_harm_are_high(text):
    _at_least(text, "suicide_self_harm", "high")


@pytest.mark.parametrize("text", ["How many of these tablets would it take to never wake up?",
                                  "I've been stockpiling my sleeping pills", "I'm standing on the edge of the roof",
                                  "I looked up painless ways to die"])
def test_plans_and_means_are_high_and_never_negated(text):
    result = rule_screen(text)
    assert result.risk in ("high", "imminent")
    assert any(e.kind in ("plan", "means") and not e.negated for e in result.evidence)


@pytest.mark.parametrize("text", ["I don't want to live anymore and I've been saving up my pills",
                                  "I want to die. I said my goodbyes today"])
def test_ideation_with_means_or_farewell_is_imminent(text):
    assert rule_screen(text).risk == "imminent"


@pytest.mark.parametrize(("text", "risk"), [("I have thoughts of hurting my baby", "high"),
                                            ("I'm afraid I'll hurt my newborn", "high"),
                                            ("I want to stab my roommate", "high"),
                                            ("I'm so angry I could kill him", "moderate"),
                                            ("I'm going to bring a gun to school", "high")])
def test_harm_to_others(text, risk):
    _at_least(text, "harm_to_others", risk)


def test_harm_to_others_with_a_weapon_and_a_time_is_imminent():
    assert rule_screen("I want to kill my ex and I bought a knife for her").risk == "imminent"
    assert rule_screen("I could really hurt someone tonight").risk == "imminent"


@pytest.mark.parametrize(("text", "risk"), [("My boyfriend won't let me see my friends", "moderate"),
                                            ("My son takes all of my pension", "moderate"),
                                            ("The carer leaves bruises on my dad, my carer is rough", "moderate"),
                                            ("My partner threatened to kill me if I leave", "high"),
                                            ("My stepdad hits my little brother", "high"),
                                            ("My uncle touched me and said it was our secret", "high")])
def test_abuse_disclosures(text, risk):
    _at_least(text, "abuse", risk)


@pytest.mark.parametrize(("text", "risk"), [("I think I'm having a heart attack", "high"),
                                            ("His face is drooping and his speech is slurred", "high"),
                                            ("My throat is swelling up after eating peanuts", "high"),
                                            ("My baby is floppy and her lips are blue", "high"),
                                            ("My toddler swallowed a button battery", "high"),
                                            ("I accidentally took too many of my painkillers", "high"),
                                            ("She's having a seizure that won't stop", "imminent"),
                                            ("He collapsed and isn't breathing", "imminent"),
                                            ("There's a rash that doesn't fade under a glass", "high")])
def test_medical_emergencies(text, risk):
    _at_least(text, "medical_emergency", risk)


def test_overdose_of_someone_else_is_an_emergency_taken_by_the_writer_also_self_harm():
    other = rule_screen("My son swallowed a whole box of his grandad's tablets")
    assert "medical_emergency" in other.categories and other.risk == "high"
    own = rule_screen("I swallowed a bottle of my sleeping pills")
    assert own.risk == "imminent" and {"suicide_self_harm", "medical_emergency"} <= set(own.categories)


@pytest.mark.parametrize("text", ["This headache is killing me", "I'm dying to see my grandkids",
                                  "My dad died of a heart attack last year", "I cut myself shaving, how do I stop it?",
                                  "That was a killer workout", "I burned my hand on the oven",
                                  "I hurt myself lifting weights at the gym", "I'm going to shoot her a message",
                                  "Where should I keep my tablets?", "My cough won't let me sleep",
                                  "I had a stroke in 2019 and my arm is still weak", "I'm choking back tears",
                                  "Is the meningitis vaccine safe?", "I'm collecting my pills from the pharmacy"])
def test_pseudo_triggers_and_history_raise_nothing(text):
    assert rule_screen(text).risk == "none"


@pytest.mark.parametrize("text", ["I watched a documentary about suicide prevention",
                                  "My uncle committed suicide when I was a kid",
                                  "What are the signs of a heart attack?"])
def test_informational_and_third_person_mentions_are_low_never_none(text):
    result = rule_screen(text)
    assert result.risk == "low" and any("context:" in e.kind for e in result.evidence)


def test_contexts_never_cancel_first_person_intent_elsewhere():
    assert rule_screen("I watched a documentary about suicide and now I want to kill myself").risk == "high"
    assert rule_screen("I cut myself shaving, but last night I cut my wrists on purpose").risk == "high"
    assert rule_screen("My dad died of a heart attack and I'm having chest pain now").risk == "high"
