"""The shipped symptom knowledge base validates, is large enough, and rejects broken files."""

from __future__ import annotations

import pytest

from medai.assistant.symptoms.knowledge import URGENCIES, build, load_knowledge, read_folder
from medai.errors import InvalidInput


def test_shipped_knowledge_validates_with_300_cited_conditions():
    kb = load_knowledge()
    assert kb.version and len(kb.sha256) == 64
    assert len(kb.conditions) >= 300
    assert len({c.id for c in kb.conditions}) == len(kb.conditions)
    assert {c.urgency for c in kb.conditions} == set(URGENCIES)
    for c in kb.conditions:
        assert c.source and c.next and c.icd10cm
        assert all(0 < p < 1 for p in c.findings.values())
        assert set(c.findings) <= set(kb.findings)


def test_every_icd10cm_code_is_real():
    icd = pytest.importorskip("simple_icd_10_cm")
    bad = [c.icd10cm for c in load_knowledge().conditions if not icd.is_valid_item(c.icd10cm)]
    assert bad == []


def test_vocabulary_has_lay_synonyms():
    kb = load_knowledge()
    assert "tummy ache" in kb.findings["abdominal_pain"].syn
    assert "throwing up" in kb.findings["vomiting"].syn
    assert "can't catch my breath" in kb.findings["shortness_of_breath"].syn


def _texts_with(condition_file: str, old: str, new: str) -> dict[str, str]:
    texts = read_folder()
    assert old in texts[condition_file]
    texts[condition_file] = texts[condition_file].replace(old, new, 1)
    return texts


def test_unknown_finding_is_named():
    texts = _texts_with("conditions/respiratory.yaml", "sneezing: .6", "sneezling: .6")
    with pytest.raises(InvalidInput, match="sneezling.*not in the vocabulary"):
        build(texts)


def test_probability_outside_the_open_interval_is_rejected():
    texts = _texts_with("conditions/respiratory.yaml", "sneezing: .6", "sneezing: 1.0")
    with pytest.raises(InvalidInput, match="strictly between 0 and 1"):
        build(texts)


def test_bad_icd_code_is_rejected():
    texts = _texts_with("conditions/respiratory.yaml", "icd10cm: J00,", "icd10cm: XYZ,")
    with pytest.raises(InvalidInput, match="ICD-10-CM"):
        build(texts)
