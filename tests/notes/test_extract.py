"""The condition extraction pipeline: spans, merging, assertion flags and codes."""

from __future__ import annotations

import pytest

from medai.notes.extract import ConditionExtractor, Mention, extract, merge_spans

NOTE = ("CHIEF COMPLAINT: Chest pain.\n"
        "HISTORY OF PRESENT ILLNESS: 67-year-old man with congestive heart failure and DM2 presents with "
        "shortness of breath. He denies fever. Possible pneumonia.\n"
        "FAMILY HISTORY: Mother had breast cancer.\n")


@pytest.fixture(scope="module")
def lexicon_only() -> ConditionExtractor:
    return ConditionExtractor(use_tagger=False)


def test_spans_match_the_text_and_are_coded(lexicon_only):
    mentions = lexicon_only.extract(NOTE)
    assert all(NOTE[m.start:m.end] == m.text and m.label == "condition" for m in mentions)
    by_text = {m.text: m for m in mentions}
    assert by_text["shortness of breath"].codes[0].code == "R06.02"
    assert by_text["Chest pain"].codes[0].code == "R07.9"
    assert by_text["DM2"].codes[0].code == "E11.9"


def test_assertion_flags_come_from_context(lexicon_only):
    by_text = {m.text: m for m in lexicon_only.extract(NOTE)}
    assert by_text["fever"].negated
    assert by_text["pneumonia"].uncertain
    assert by_text["breast cancer"].family
    assert not by_text["shortness of breath"].negated


def test_assertions_can_be_switched_off():
    mentions = ConditionExtractor(use_tagger=False, assertions=False).extract("He denies fever.")
    assert [(m.text, m.negated) for m in mentions] == [("fever", False)]


def test_merge_keeps_the_longer_span_and_records_agreement():
    merged = merge_spans([Mention(0, 17, "severe chest pain", source="ner"),
                          Mention(7, 17, "chest pain", source="lexicon"), Mention(20, 25, "fever", source="lexicon")])
    assert [(m.text, m.source) for m in merged] == [("severe chest pain", "ner+lexicon"), ("fever", "lexicon")]


def test_as_dict_has_the_cli_entity_keys(lexicon_only):
    entity = lexicon_only.extract("Known MI.")[0].as_dict()
    assert list(entity) == ["start", "end", "text", "label", "negated", "uncertain", "historical", "family",
                            "hypothetical", "codes"]
    assert entity["codes"][0]["evidence"] == {"start": 6, "end": 8, "text": "MI"}
    assert entity["codes"][0]["code"].startswith("I21")


def test_default_pipeline_finds_diseases_with_the_tagger():
    text = "The patient has a history of Duchenne muscular dystrophy and hereditary hemochromatosis."
    mentions = extract(text)
    found = {m.text for m in mentions}
    assert "Duchenne muscular dystrophy" in found
    assert any("hemochromatosis" in t for t in found)
    assert all(text[m.start:m.end] == m.text for m in mentions)
    dmd = next(m for m in mentions if m.text == "Duchenne muscular dystrophy")
    assert dmd.codes[0].code.startswith("G71.0")
