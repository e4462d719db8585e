"""Surrogates: same fake for the same person, one date offset per patient (intervals kept), keyed."""

from __future__ import annotations

import re
from datetime import date

import pytest

from medai.privacy.phi import PHISpan, PHIType
from medai.privacy.surrogates import SurrogateGenerator, mask
from medai.privacy.text import Deidentifier

NOTE = ("Mr. Przybylo seen by Dr. Jones on 03/14/2019. Wife called 410-322-1419.\n"
        "Dr. Jones aware; Mr. Przybylo to return 03/21/2019 and again March 28, 2019.")


@pytest.fixture(scope="module")
def surrogate():
    return Deidentifier(mode="surrogate", key="test-key", use_tagger=False)


def _replacements(result, original: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for r in result.replacements:
        out.setdefault(r.span.text, set()).add(r.replacement)
    return out


def test_same_name_gets_the_same_surrogate_within_a_document(surrogate):
    result = surrogate.deidentify(NOTE, patient_id="p1")
    mapping = _replacements(result, NOTE)
    assert len(mapping["Jones"]) == 1 and len(mapping["Przybylo"]) == 1
    fake = next(iter(mapping["Jones"]))
    assert fake != "Jones" and fake[0].isupper() and result.text.count(fake) == 2
    assert "Jones" not in result.text and "Przybylo" not in result.text and "410-322-1419" not in result.text


def test_dates_shift_by_one_offset_per_patient_and_keep_intervals(surrogate):
    result = surrogate.deidentify(NOTE, patient_id="p1")
    shifted = {r.span.text: r.replacement for r in result.replacements if r.span.type is PHIType.DATE}
    first = date(*map(int, reversed_mdy(shifted["03/14/2019"])))
    second = date(*map(int, reversed_mdy(shifted["03/21/2019"])))
    assert (second - first).days == 7
    offset = SurrogateGenerator("test-key", "p1").date_offset_days
    assert offset != 0 and (first - date(2019, 3, 14)).days == offset
    wordy = shifted["March 28, 2019"]
    assert re.fullmatch(r"[A-Z][a-z]+ \d{1,2}, \d{4}", wordy)


def reversed_mdy(text: str) -> tuple[str, str, str]:
    month, day, year = text.split("/")
    return year, month, day


def test_offsets_differ_between_patients_and_keys():
    offsets = {SurrogateGenerator("k", f"patient-{i}").date_offset_days for i in range(20)}
    assert len(offsets) > 10
    assert SurrogateGenerator("k", "p").date_offset_days == SurrogateGenerator("k", "p").date_offset_days
    assert SurrogateGenerator("k1", "p").name_word("Jones") != SurrogateGenerator("k2", "p").name_word("Jones") or \
        SurrogateGenerator("k1", "p").name_word("Smith") != SurrogateGenerator("k2", "p").name_word("Smith")


def test_surrogates_are_reproducible_with_the_key(surrogate):
    again = Deidentifier(mode="surrogate", key="test-key", use_tagger=False)
    assert surrogate.deidentify(NOTE, "p1").text == again.deidentify(NOTE, "p1").text


@pytest.mark.parametrize(("text", "pattern"), [("8/23", r"\d{1,2}/\d{1,2}"), ("2019-03-04", r"\d{4}-\d{2}-\d{2}"),
                                               ("1957", r"\d{4}"), ("nov. 2016", r"[a-z]{3}\.? \d{4}"),
                                               ("20th Oct, 1989", r"\d{1,2} [A-Z][a-z]{2}, \d{4}")])
def test_date_formats_are_kept(text, pattern):
    assert re.fullmatch(pattern, SurrogateGenerator("k", "p").shift_date(text))


def test_phone_and_ids_keep_their_shape():
    gen = SurrogateGenerator("k", "p")
    fake = gen.replace(PHISpan(0, 12, PHIType.PHONE, "410-322-1419", "rule:phone"))
    assert re.fullmatch(r"\d{3}-\d{3}-\d{4}", fake) and fake != "410-322-1419"
    assert gen.replace(PHISpan(0, 2, PHIType.AGE, "97", "rule:age")) == "90+"


def test_mask_mode_and_surrogate_key_checks():
    assert mask(PHISpan(0, 5, PHIType.NAME, "Jones", "rule:x")) == "[NAME]"
    with pytest.raises(ValueError, match="needs a key"):
        Deidentifier(mode="surrogate", use_tagger=False)
    with pytest.raises(ValueError, match="mode must be"):
        Deidentifier(mode="blur", use_tagger=False)
