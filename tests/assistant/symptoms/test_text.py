"""Free-text understanding: synonyms, negation, experiencer, durations, age and sex."""

from __future__ import annotations

import pytest

from medai.assistant.symptoms.knowledge import load_knowledge
from medai.assistant.symptoms.text import findings_of, negated, normalise, read, read_age, read_duration, read_sex


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


@pytest.mark.parametrize("text, present, absent", [
    ("No fever but a bad cough", {"cough"}, {"fever"}),
    ("He denies chest pain, shortness of breath or palpitations.", set(), {"chest_pain", "shortness_of_breath", "palpitations"}),
    ("I have a tummy ache and keep throwing up", {"abdominal_pain", "vomiting"}, set()),
    ("I can't catch my breath", {"shortness_of_breath"}, set()),
    ("without vomiting, has diarrhoea", {"diarrhea"}, {"vomiting"}),
    ("Sore throat. No runny nose. Fever.", {"sore_throat", "fever"}, {"runny_nose"}),
    ("not eating and no energy", {"anorexia", "fatigue"}, set()),
])
def test_findings_and_negation(kb, text, present, absent):
    got_present, got_absent = findings_of(read(kb, text))
    assert present <= got_present and not (present & got_absent)
    assert absent <= got_absent and not (absent & got_present)


def test_negation_scope_stops_at_but():
    text = normalise("no fever but a cough")
    assert negated(text, text.index("fever")) and not negated(text, text.index("cough"))


def test_someone_elses_symptoms_become_sick_contacts(kb):
    present, _ = findings_of(read(kb, "My son had a fever last week; I now have a sore throat"))
    assert "sick_contacts" in present and "fever" not in present and "sore_throat" in present


def test_family_history_is_not_the_patient(kb):
    present, _ = findings_of(read(kb, "Family history of stroke and diabetes; I have a headache"))
    assert "diabetes" not in present and "headache" in present


def test_age_sex_and_duration():
    assert read_age("a 45-year-old man") == 45 and read_sex("a 45-year-old man") == "male"
    assert read_age("my 6 month old daughter") == 0.5 and read_sex("my 6 month old daughter") == "female"
    assert read_duration("cough for three weeks") == 21 and read_duration("a 3 year old with fever for 2 days") == 2


def test_long_duration_context(kb):
    present, absent = findings_of(read(kb, "cough for 4 weeks"))
    assert "long_duration" in present
    present, absent = findings_of(read(kb, "cough for 2 days"))
    assert "long_duration" in absent


@pytest.mark.parametrize("text, age", [
    ("I'm 30 and breastfeeding my 5 week old, my breast is sore", 30.0),
    ("My 3 week old baby is floppy and not feeding", 0.058),
    ("My 80-year-old mother fell and her hip hurts", 80.0),
    ("My husband is 72. His face is drooping", 72.0),
    ("My 80 year old mother is staying with me and I've got a headache", None),
])
def test_age_belongs_to_the_person_described(text: str, age: float | None):
    assert read_age(normalise(text)) == age


def test_body_part_pain_and_swelling_templates(kb):
    present, _ = findings_of(read(kb, "my tummy is killing me and my left knee is swollen"))
    assert {"abdominal_pain", "joint_swelling"} <= present
