"""Sentence splitting: spans, abbreviations, decimals, list numbers, headers and blank lines."""

from __future__ import annotations

from medai.notes.sentences import SentenceIndex, split, split_spans


def test_splits_and_keeps_offsets():
    text = "  No fever.  Cough for 2 days!  Any pain? "
    spans = split_spans(text)
    assert [text[s:e] for s, e in spans] == ["No fever.", "Cough for 2 days!", "Any pain?"]


def test_abbreviations_decimals_and_lower_case_continuations_do_not_split():
    text = "Dr. Smith saw the pt. on 2.5 mg of warfarin, e.g. daily. He was given 2 mg. Stable."
    assert split(text) == ["Dr. Smith saw the pt. on 2.5 mg of warfarin, e.g. daily.", "He was given 2 mg.", "Stable."]


def test_list_numbers_headers_and_blank_lines():
    text = "IMPRESSION: 1. Left lower lobe pneumonia. 2. Small effusion.\nPLAN:\n1. Follow up in 3 months.\n\nFAMILY HISTORY: None"
    assert split(text) == ["IMPRESSION: 1. Left lower lobe pneumonia.", "2. Small effusion.", "PLAN:",
                           "1. Follow up in 3 months.", "FAMILY HISTORY: None"]


def test_sentence_index_lookup():
    text = "No fever. Cough."
    index = SentenceIndex(text)
    assert index.index_of(3) == 0 and index.index_of(11) == 1 and index.index_of(9) is None
    assert index.span_of(3, 8) == (0, 9)
    assert index.span_of(5, 13) == (0, 16)  # a span crossing a boundary widens to both sentences


def test_empty_text():
    assert split_spans("") == [] and split("   \n ") == []
