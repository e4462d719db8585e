"""ICD-10-CM coding of mentions (real 2026 code table) and the shipped term lexicons."""

from __future__ import annotations

import pytest

from medai.notes.icd10 import ICD10Coder, billable_code, normalise, release
from medai.notes.lexicon import FINDINGS_FILE, SYNONYMS_FILE, TermMatcher, load_terms, shipped_terms, terms_of

icd = pytest.importorskip("simple_icd_10_cm")


@pytest.fixture(scope="module")
def coder() -> ICD10Coder:
    return ICD10Coder()


def test_release_is_the_2026_table():
    assert release() == "2026"


def test_normalise_drops_unspecified_and_punctuation():
    assert normalise("Heart failure, unspecified") == "heart failure"
    assert normalise("Myocardial infarction (acute) NOS") == "myocardial infarction acute"


def test_billable_code_descends_to_the_unspecified_child():
    assert billable_code("I21") == "I21.9"
    assert billable_code("R06.0") == "R06.00"
    assert billable_code("I10") == "I10"


def test_myocardial_infarction_codes_to_i21(coder):
    best = coder.code("myocardial infarction")[0]
    assert best.code.startswith("I21.") and best.billable
    assert best.score == pytest.approx(1.0)
    assert (best.system, best.version) == ("ICD-10-CM", "2026")


def test_shortness_of_breath_codes_to_r06_0(coder):
    best = coder.code("shortness of breath")[0]
    assert best.code.startswith("R06.0") and best.code == "R06.02"


@pytest.mark.parametrize("mention, code", [("CHF", "I50.9"), ("COPD", "J44.9"), ("DM2", "E11.9"), ("HTN", "I10"),
                                           ("afib", "I48.91"), ("MI", "I21.9")])
def test_abbreviations(coder, mention, code):
    assert coder.code(mention)[0].code == code


def test_fuzzy_matches_score_below_one_and_rank(coder):
    codes = coder.code("severe chest pain")
    assert codes[0].code == "R07.9" and 0.5 < codes[0].score < 1.0
    assert [c.score for c in codes] == sorted((c.score for c in codes), reverse=True)
    assert coder.code("ovarian cancer")[0].code.startswith("C56")


def test_nonsense_gets_no_code(coder):
    assert coder.code("qqqq zzzz") == []
    assert coder.code("") == []


def test_every_lexicon_code_is_a_billable_2026_code():
    for name in (FINDINGS_FILE, SYNONYMS_FILE):
        for entry in load_terms(name).entries:
            assert icd.is_valid_item(entry.code), (name, entry.code)
            assert icd.is_leaf(entry.code), (name, entry.code)


def test_lexicon_schema_rejects_a_term_naming_two_codes(tmp_path):
    from medai.treatment.knowledge import KnowledgeError

    path = tmp_path / "bad.yaml"
    path.write_text('version: "1"\ndescription: d\nsources: {s: {source: abc}}\nentries:\n'
                    '  - {code: I10, source: s, terms: [HTN]}\n  - {code: I50.9, source: s, terms: [HTN]}\n')
    with pytest.raises(KnowledgeError, match="already names"):
        load_terms("x", path)


def test_matcher_longest_match_case_rules_and_offsets():
    text = "Pt with CHF, c/o Shortness of breath and headaches; sob? No chest pain."
    found = TermMatcher(shipped_terms()).find(text)
    assert [(m.text, m.code) for m in found] == [("CHF", "I50.9"), ("Shortness of breath", "R06.02"),
                                                  ("headaches", "R51.9"), ("chest pain", "R07.9")]
    assert all(text[m.start:m.end] == m.text for m in found)


def test_terms_marked_no_match_are_not_found():
    terms = terms_of(load_terms(SYNONYMS_FILE), SYNONYMS_FILE)
    assert any(t.text == "PE" and not t.match for t in terms)
    assert TermMatcher(terms).find("PE: normal. MS contin.") == []
