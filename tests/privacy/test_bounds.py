"""Tagger spans are bounded: rule hits split them and give the type, sentence punctuation and common
or clinical words never join or end them (regression for "seen on 03/04/2024. Call 617-555-1234"
coming out as one DATE span)."""

from __future__ import annotations

import numpy as np
import pytest

from medai.privacy.bounds import bounded_runs, covered_tokens, is_sentence_break, is_trimmable
from medai.privacy.features import tokenize
from medai.privacy.lexicons import load_lexicons
from medai.privacy.phi import PHISpan, PHIType, merge_spans
from medai.privacy.rules import RuleDetector
from medai.privacy.tagger import CLASSES, DeidTagger

DEFECT = "Mr. Harold Finch was seen on 03/04/2024. Call 617-555-1234 with questions."


def greedy_proba(text: str, tokens, kinds: dict[str, str]) -> np.ndarray:
    """Probabilities of a tagger that marks every token of ``kinds`` (word -> class) as sure PHI and
    also leaks 0.7 PHI onto every other token between the first and last PHI token (the greedy defect)."""
    words = [text[s:e] for s, e in tokens]
    marked = [i for i, w in enumerate(words) if w in kinds]
    proba = np.zeros((len(tokens), len(CLASSES)))
    proba[:, 0] = 1.0
    for i in range(min(marked), max(marked) + 1):
        kind = kinds.get(words[i], "DATE")
        proba[i] = 0.0
        proba[i, 0] = 0.02 if words[i] in kinds else 0.3
        proba[i, CLASSES.index(kind)] = 1.0 - proba[i, 0]
    return proba


@pytest.fixture(scope="module")
def linear():
    """Any fitted linear tagger: only its span-building code is exercised here."""
    return DeidTagger(n_features=2**10).fit(["Wife Anna called.", "BP 120/80."], [[(5, 9, "NAME")], []])


def spans_of(tagger, text, kinds, with_rules=True):
    tokens = tokenize(text)
    detector = RuleDetector()
    hits = [h for h in detector.find(text) if detector.is_standalone(h)] if with_rules else []
    tagged = tagger.spans_from_proba(text, tokens, greedy_proba(text, tokens, kinds), threshold=0.5, bounds=hits)
    return merge_spans(hits + tagged, text), tagged


def test_rule_hits_split_a_greedy_tagger_run_and_keep_their_types(linear):
    kinds = {"03": "DATE", "04": "DATE", "2024": "DATE", "617": "PHONE", "555": "PHONE", "1234": "PHONE"}
    merged, tagged = spans_of(linear, DEFECT, kinds)
    got = {(s.text, s.type) for s in merged}
    assert ("03/04/2024", PHIType.DATE) in got and ("617-555-1234", PHIType.PHONE) in got
    assert not any("Call" in s.text or "seen" in s.text or "on 03" in s.text for s in merged)
    assert all(not (s.start < 41 < s.end) for s in tagged), "no tagger span crosses the sentence end"


def test_without_rules_the_run_still_stops_at_the_full_stop_and_drops_common_words(linear):
    kinds = {"03": "DATE", "04": "DATE", "2024": "DATE", "617": "PHONE", "555": "PHONE", "1234": "PHONE"}
    _, tagged = spans_of(linear, DEFECT, kinds, with_rules=False)
    assert [(s.text, s.type) for s in tagged] == [("03/04/2024", PHIType.DATE), ("617-555-1234", PHIType.PHONE)]


def test_an_initial_does_not_end_a_name_but_clinical_words_are_trimmed(linear):
    text = "Seen with DAN A. FORMAN-LYONS, RRT\n"
    tokens = tokenize(text)
    proba = greedy_proba(text, tokens, {"DAN": "NAME", "A": "NAME", "FORMAN": "NAME", "LYONS": "NAME"})
    spans = linear.spans_from_proba(text, tokens, proba, threshold=0.5)
    assert [s.text for s in spans] == ["DAN A. FORMAN-LYONS"]
    text = "Pain in chest Boston today"
    tokens = tokenize(text)
    proba = greedy_proba(text, tokens, {"chest": "LOCATION", "Boston": "LOCATION"})
    assert [s.text for s in linear.spans_from_proba(text, tokens, proba, threshold=0.5)] == ["Boston"]


def test_sentence_breaks_and_trimmable_words():
    text = "Seen 3/4. Call A. Smith: ok; J.R. Smith"
    tokens = tokenize(text)
    marks = {text[s:e] + f"@{s}": is_sentence_break(text, tokens, i) for i, (s, e) in enumerate(tokens)
             if text[s:e] in ".:;"}
    assert marks == {".@8": True, ".@16": False, ":@23": True, ";@27": True, ".@30": False, ".@32": False}
    lex = load_lexicons()
    stop = frozenset({"on"})
    trim = {w: is_trimmable(f"x {w} y", (2, 2 + len(w)), lex, stop) for w in ["on", "call", "pneumonia", "May", "Smith", ","]}
    assert trim == {"on": True, "call": True, "pneumonia": True, "May": False, "Smith": False, ",": True}
    assert not is_trimmable("Spoke with Will today", (11, 15), lex, stop), "a capitalised name inside a sentence stays"


def test_covered_tokens_and_pinned_tokens_are_not_trimmed():
    text = "on 3/4 then"
    tokens = tokenize(text)
    assert covered_tokens(tokens, [PHISpan(3, 6, PHIType.DATE, "3/4", "rule:x")]) == [False, True, True, True, False]
    lex = load_lexicons()
    runs = bounded_runs(text, tokens, [True] * 5, lambda gap: True, [False] * 5, [True, False, False, False, False],
                        lex, frozenset({"on", "then"}))
    assert runs == [[0, 1, 2, 3]]


def test_merge_keeps_touching_spans_of_other_types_apart_and_prefers_rule_types():
    text = "ab12"
    parts = [PHISpan(0, 2, PHIType.NAME, "ab", "tagger:t"), PHISpan(2, 4, PHIType.ID, "12", "rule:id")]
    assert [s.type for s in merge_spans(parts, text)] == [PHIType.NAME, PHIType.ID]
    overlap = [PHISpan(0, 4, PHIType.DATE, "ab12", "tagger:t"), PHISpan(2, 4, PHIType.PHONE, "12", "rule:phone")]
    assert [(s.text, s.type) for s in merge_spans(overlap, text)] == [("ab12", PHIType.PHONE)]


def test_shipped_pipeline_keeps_date_and_phone_apart():
    from medai.privacy.text import Deidentifier

    spans = Deidentifier(mode="mask").detect(DEFECT)
    got = [(s.text, s.type) for s in spans]
    assert ("03/04/2024", PHIType.DATE) in got and ("617-555-1234", PHIType.PHONE) in got
    assert ("Harold Finch", PHIType.NAME) in got
    assert not any(word in s.text for s in spans for word in ("Call", "seen", "questions"))


def test_a_span_never_cuts_an_alphanumeric_word(linear):
    text = "ADMITTED TO QUARTERMAIN7 W/ CHF"
    tokens = tokenize(text)
    proba = greedy_proba(text, tokens, {"QUARTERMAIN": "LOCATION"})
    assert [s.text for s in linear.spans_from_proba(text, tokens, proba, threshold=0.5)] == ["QUARTERMAIN7"]


def test_type_thresholds_override_the_shared_ones_per_most_likely_type(linear):
    text = "Wife Anna called from Boston"
    tokens = tokenize(text)
    proba = np.zeros((len(tokens), len(CLASSES)))
    proba[:, 0] = 1.0
    for word, kind, p in (("Anna", "NAME", 0.6), ("Boston", "LOCATION", 0.3)):
        i = [text[s:e] for s, e in tokens].index(word)
        proba[i] = 0.0
        proba[i, 0], proba[i, CLASSES.index(kind)] = 1 - p, p
    hinted = [text[s:e] == "Boston" for s, e in tokens]
    assert [s.text for s in linear.spans_from_proba(text, tokens, proba, threshold=0.5)] == ["Anna"]
    strict = {"NAME": [0.7, 0.7], "LOCATION": [0.2, 0.2]}
    assert [s.text for s in linear.spans_from_proba(text, tokens, proba, 0.5, type_thresholds=strict)] == ["Boston"]
    hinted_only = {"LOCATION": [0.9, 0.25]}
    got = linear.spans_from_proba(text, tokens, proba, 0.5, hinted, 0.5, type_thresholds=hinted_only)
    assert [s.text for s in got] == ["Anna", "Boston"]
