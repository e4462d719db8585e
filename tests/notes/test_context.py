"""ConText assertions: crafted sentences, the rule file, whole-note spans with sections, and the NegEx kit."""

from __future__ import annotations

import pytest
import yaml

from medai.datasets import negex
from medai.errors import InvalidInput
from medai.notes import assertion
from medai.notes.context import (ContextEngine, ContextRules, assert_in_sentence, assert_spans, assert_target,
                                 find_target, load_rules)


@pytest.mark.parametrize(("sentence", "target", "status"), [
    ("No evidence of pneumonia.", "pneumonia", "negated"),
    ("The patient denies chest pain or shortness of breath.", "shortness of breath", "negated"),
    ("Lungs clear, no wheezes or rales.", "rales", "negated"),
    ("Pneumothorax is ruled out.", "Pneumothorax", "negated"),
    ("Possible pneumonia in the right lower lobe.", "pneumonia", "uncertain"),
    ("Small effusion cannot be excluded.", "effusion", "uncertain"),
    ("Chest pain, rule out myocardial infarction.", "myocardial infarction", "uncertain"),
    ("History of MI in 2010.", "MI", "historical"),
    ("He had a stroke 5 years ago.", "stroke", "historical"),
    ("Status post appendectomy.", "appendectomy", "historical"),
    ("Her mother had breast cancer.", "breast cancer", "family"),
    ("Family history of diabetes.", "diabetes", "family"),
    ("Return if fever develops.", "fever", "hypothetical"),
    ("Call if shortness of breath worsens.", "shortness of breath", "hypothetical"),
    ("Findings consistent with pneumonia.", "pneumonia", "affirmed"),
])
def test_crafted_sentences(sentence, target, status):
    assert assertion(sentence, target) == status


@pytest.mark.parametrize(("sentence", "target"), [
    ("Not only pain but also fever.", "fever"),            # pseudo-trigger "not only"
    ("There is no increase in the effusion.", "effusion"),  # pseudo-trigger "no increase"
    ("No change in the pleural effusion.", "pleural effusion"),
    ("Gram negative rods in the culture.", "rods"),         # pseudo-trigger "gram negative" blocks post-trigger "negative"
])
def test_pseudo_triggers_do_not_negate(sentence, target):
    assert assert_target(sentence, target) == "affirmed"


def test_termination_ends_scope():
    sentence = "No fever but has a productive cough."
    assert assert_target(sentence, "fever") == "negated"
    assert assert_target(sentence, "cough") == "affirmed"


def test_window_limits_forward_scope():
    sentence = "No fever was recorded overnight and the nurses on the ward later documented significant new pain."
    assert assert_target(sentence, "pain") == "affirmed"


def test_evidence_names_the_trigger_span_and_source():
    sentence = "There is no evidence of pneumothorax."
    start, end = find_target(sentence, "pneumothorax")
    result = assert_in_sentence(sentence, start, end)
    assert result.negated and not result.uncertain
    (evidence,) = [e for e in result.evidence if e.category == "negated"]
    assert sentence[evidence.start:evidence.end] == evidence.text == "no evidence of"
    assert evidence.source == "negex"


def test_target_not_found_is_affirmed_and_capitals_pick_the_occurrence():
    assert assert_target("No fever.", "pneumonia") == "affirmed"
    sentence = "No pain today; the patient reports PAIN in the knee."
    start, _ = find_target(sentence, "pain")
    assert sentence[start:start + 4] == "PAIN"


def test_rule_file_validates_and_every_trigger_has_a_known_source():
    rules = load_rules()
    assert {"negex", "context", "medai"} <= set(rules.sources)
    literals = 0
    for block in rules.rules:
        assert block.source in rules.sources
        literals += len(block.literals)
    assert literals > 300
    kinds = {(b.group, b.kind) for b in rules.rules}
    assert {("negation", "pseudo"), ("negation", "terminate"), ("negation", "backward"), ("history", "forward"),
            ("experiencer", "forward"), ("hypothetical", "forward")} <= kinds


def _rules_with(block: dict) -> ContextRules:
    data = yaml.safe_load(load_rules().model_dump_json())
    data["rules"].append(block)
    return ContextRules.model_validate(data)


@pytest.mark.parametrize("block", [
    {"group": "negation", "kind": "forward", "category": "negated", "source": "nowhere", "literals": ["absent of"]},
    {"group": "negation", "kind": "forward", "source": "medai", "literals": ["zzz"]},
    {"group": "negation", "kind": "forward", "category": "family", "source": "medai", "literals": ["zzz"]},
    {"group": "negation", "kind": "forward", "category": "negated", "source": "medai", "literals": ["no"]},
    {"group": "negation", "kind": "pseudo", "source": "medai", "patterns": ["(unclosed"]},
])
def test_bad_rule_blocks_are_rejected(block):
    with pytest.raises(ValueError):
        _rules_with(block)


def test_bad_rule_file_names_the_field(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("version: '1'\ndescription: x\nsources: {}\nwindows: {}\nrules: []\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as error:
        load_rules(path)
    assert str(path) in str(error.value)


def test_user_rules_extend_the_engine():
    rules = _rules_with({"group": "negation", "kind": "forward", "category": "negated", "source": "medai",
                         "literals": ["zilch"]})
    engine = ContextEngine(rules)
    assert assert_in_sentence("zilch edema", 6, 11, engine=engine).negated


NOTE = """CHIEF COMPLAINT: Cough.

HISTORY OF PRESENT ILLNESS: No fever. Possible pneumonia.

PAST MEDICAL HISTORY: Asthma.

FAMILY HISTORY: Breast cancer.

IMPRESSION: Bronchitis. Return if wheezing develops.
"""


def _span(text: str, phrase: str) -> tuple[int, int]:
    start = text.index(phrase)
    return start, start + len(phrase)


def test_assert_spans_uses_sentences_and_section_defaults():
    phrases = ["Cough", "fever", "pneumonia", "Asthma", "Breast cancer", "Bronchitis", "wheezing"]
    results = assert_spans(NOTE, [_span(NOTE, p) for p in phrases])
    status = {p: r.status for p, r in zip(phrases, results, strict=True)}
    assert status == {"Cough": "affirmed", "fever": "negated", "pneumonia": "uncertain", "Asthma": "historical",
                      "Breast cancer": "family", "Bronchitis": "affirmed", "wheezing": "hypothetical"}
    family = results[4]
    (evidence,) = [e for e in family.evidence if e.rule == "section:family_history"]
    assert NOTE[evidence.start:evidence.end] == "FAMILY HISTORY"
    negated = results[1]
    assert all(NOTE[e.start:e.end] == e.text for e in negated.evidence)


def test_assert_spans_without_sections_and_bad_spans():
    note = "FAMILY HISTORY:\n\nBreast cancer."
    (with_sections,) = assert_spans(note, [_span(note, "Breast cancer")])
    (without,) = assert_spans(note, [_span(note, "Breast cancer")], use_sections=False)
    assert with_sections.status == "family" and without.status == "affirmed"
    with pytest.raises(ValueError):
        assert_spans(NOTE, [(5, 5000)])


def test_as_dict_is_json_ready():
    (result,) = assert_spans("No edema.", [(3, 8)])
    data = result.as_dict()
    assert data["status"] == "negated" and data["negated"] is True
    assert data["evidence"][0]["text"] == "No"


@pytest.mark.data
def test_negex_kit_dev_figures(data_dir):
    """Floors just below what the rules measure on the shared 40% (see benchmarks/notes_assertion.py)."""
    rows = negex.load(data_dir)
    figures = negex.score(rows, lambda r: assert_in_sentence(r.sentence, *r.target_span) if r.target_span else None)
    assert figures["n"] == 1019
    assert figures["negation_accuracy"] >= 0.985
    assert figures["negation_sensitivity"] >= 0.97
    assert figures["negation_specificity"] >= 0.985
    assert figures["temporality_accuracy"] >= 0.92
    assert figures["experiencer_accuracy"] >= 0.99


def test_an_age_is_not_a_history_trigger():
    from medai.notes import assertion

    assert assertion("67 year old man presenting with chest pain.", "chest pain") == "affirmed"
    assert assertion("A 4-year-old girl with fever.", "fever") == "affirmed"
    assert assertion("Old myocardial infarction on ECG.", "myocardial infarction") == "historical"
