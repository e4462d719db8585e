"""Rules added from the error analysis of missed PHI on the dev split (first name + surname pairs,
'per <initial>. <surname>', names before credentials, month/two-digit year, repeated short dates)."""

from __future__ import annotations

import pytest

from medai.privacy.lexicons import load_lexicons
from medai.privacy.phi import PHISpan, PHIType
from medai.privacy.rules import NAME_PAIR, RuleDetector
from medai.privacy.text import Deidentifier


@pytest.fixture(scope="module")
def detector():
    return RuleDetector()


def standalone(detector, text):
    return {(h.text, h.type) for h in detector.find(text) if detector.is_standalone(h)}


@pytest.mark.parametrize("text, name", [
    ("ci<2.0. mary o'hara np aware.", "mary o'hara"),
    ("notified wound nurse, Florence Garvey, and Dr. John", "Florence Garvey"),
    ("SON TO SPEAK WITH KATIE MAHONEY IN AM.", "KATIE MAHONEY"),
    ("QUIET NIGHT. \n DAN A. FORMAN-LYONS, RRT", "DAN A. FORMAN-LYONS"),
])
def test_first_name_and_surname_pairs_are_names(detector, text, name):
    hits = [h for h in detector.find(text) if h.source == NAME_PAIR]
    assert [(h.text, h.type) for h in hits] == [(name, PHIType.NAME)]
    assert detector.is_standalone(hits[0])


@pytest.mark.parametrize("text", [
    "Receiving max dose of po lopressor.", "MAE weakly follows simple commands", "Lt radial aline good wave",
    "Will call family in am", "Pt with Carol's Disease", "TOL 30 MIN PASSE MUIR VALVE TRIAL"])
def test_name_pairs_skip_common_and_clinical_words(detector, text):
    assert not [h for h in detector.find(text) if h.source == NAME_PAIR]


def test_mixed_case_notes_need_capitalised_pairs(detector):
    assert not [h for h in detector.find("Seen by Dr. Ames. Pt to see mark ross tomorrow.") if h.source == NAME_PAIR]
    assert [h.text for h in detector.find("per carol wolfe, wean in am") if h.source == NAME_PAIR] == ["carol wolfe"]


def test_hyphenated_and_apostrophe_surnames_are_names():
    lex = load_lexicons()
    assert lex.is_name("Forman-Lyons") and lex.is_name("O'Hara")
    assert not lex.is_name("Forman-Xqzv")


def test_per_initial_surname_month_year_and_credentials(detector):
    assert ("B. KARGAS", PHIType.NAME) in standalone(detector, "ILEUS REMAINS AS PER B. KARGAS-PT SOMEWHAT WET")
    assert ("1/78", PHIType.DATE) in standalone(detector, "HTN, CABG 1/78 c/b sternal wound infection")
    assert not {t for t, k in standalone(detector, "pain 5/10, PSV 10/5, d5 1/2 ns") if k is PHIType.DATE}
    assert ("Ilene Macdonald", PHIType.NAME) in standalone(detector, "Ilene Macdonald RN")
    assert not standalone(detector, "SAT 97 ON 4L NP.")


def test_a_found_short_date_propagates_through_the_note_but_not_into_longer_numbers():
    text = "extubated 7/2.. \n7/2 cath: patent LIMA. 17/2 ratio, 7/25 next"
    first = text.index("7/2")
    found = PHISpan(first, first + 3, PHIType.DATE, "7/2", "tagger:t", 0.9)
    spans = Deidentifier(mode="mask", use_tagger=False)._propagated(text, [found])
    assert sorted(s.start for s in spans) == [first, text.index("\n7/2") + 1]
    assert all(s.type is PHIType.DATE and s.source == "propagated:tagger:t" for s in spans)


def test_titles_need_a_tight_gap_and_a_name_like_word(detector):
    titled = lambda text: [h.text for h in detector.find(text) if h.source == "rule:name-after-title"]  # noqa: E731
    assert titled("PROB: SEVERE MR, CAD") == []
    assert titled("Labs drawn. Monitor ms. replete lytes. Seen by Dr. Jones.") == ["Jones"]
    assert titled("Diarrhea via FIB, dr. anne aware. Plan unchanged.") == ["anne"]
