"""PhysioNet deid corpus: records and gold phrases parse, mismatches are named, the real zip loads."""

from __future__ import annotations

import pytest

from medai.datasets import physionet_deid
from medai.datasets.registry import DATASETS, verify
from medai.errors import InvalidInput

TEXT = ("START_OF_RECORD=7||||1||||\nMr. Logan seen 8/23.\n||||END_OF_RECORD\n"
        "START_OF_RECORD=7||||2||||\nNo PHI here.\n||||END_OF_RECORD\n"
        "START_OF_RECORD=9||||1||||\nWife Janet called.\n||||END_OF_RECORD\n")
PHRASES = "7 1 4 9 PTName Logan\n7 1 15 19 Date 8/23\n9 1 5 10 RelativeProxyName Janet\n"


def test_records_and_phrases_parse():
    notes = physionet_deid.parse_notes(TEXT)
    physionet_deid.attach_phrases(notes, PHRASES)
    assert [n.id for n in notes] == ["7-1", "7-2", "9-1"]
    assert notes[0].text == "Mr. Logan seen 8/23.\n"
    assert [(s.category, s.text) for s in notes[0].spans] == [("PTName", "Logan"), ("Date", "8/23")]
    assert notes[1].spans == []


def test_a_phrase_that_does_not_match_the_text_is_named():
    notes = physionet_deid.parse_notes(TEXT)
    with pytest.raises(InvalidInput, match="line 2: text '8/24' does not match"):
        physionet_deid.attach_phrases(notes, "7 1 4 9 PTName Logan\n7 1 15 19 Date 8/24\n")
    with pytest.raises(InvalidInput, match="patient 3 note 1 is not in the text file"):
        physionet_deid.attach_phrases(notes, "3 1 0 2 Date 12\n")
    with pytest.raises(InvalidInput, match="expected 'patient note start end category text'"):
        physionet_deid.attach_phrases(notes, "garbage\n")


def test_text_without_records_is_an_error():
    with pytest.raises(InvalidInput, match="no START_OF_RECORD"):
        physionet_deid.parse_notes("just text")


def test_split_keeps_patients_on_one_side():
    notes = physionet_deid.parse_notes(TEXT * 1)
    train, dev = physionet_deid.split_patients(notes, dev_fraction=0.5)
    assert {n.patient for n in train}.isdisjoint({n.patient for n in dev})
    assert len(train) + len(dev) == len(notes)
    with pytest.raises(ValueError, match="dev_fraction"):
        physionet_deid.split_patients(notes, dev_fraction=1.0)


def test_registry_entry():
    dataset = DATASETS["physionet_deid"]
    assert set(dataset.files) == {physionet_deid.ZIP_FILE} and "GPL" in dataset.licence and "Neamatullah" in dataset.citation


@pytest.mark.data
def test_the_shared_half_loads_with_its_published_counts(data_dir):
    assert verify("physionet_deid", data_dir) == {physionet_deid.ZIP_FILE: True}
    corpus = physionet_deid.load(data_dir)
    assert len(corpus.notes) == 1242 and len(corpus.patients) == 90
    assert sum(len(n.spans) for n in corpus.notes) == 929
    assert {s.category for n in corpus.notes for s in n.spans} <= set(physionet_deid.CATEGORIES)
    train, dev = physionet_deid.split_patients(corpus.notes)
    assert {n.patient for n in train}.isdisjoint({n.patient for n in dev}) and len(dev) == 327
