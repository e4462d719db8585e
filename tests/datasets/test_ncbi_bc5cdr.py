"""IOB reading (NCBI Disease, BC5CDR) on built fixtures, and the real files under $MEDAI_DATA_DIR."""

from __future__ import annotations

import pytest

from medai.datasets import bc5cdr, mtsamples, ncbi_disease
from medai.datasets.iob import TaggedSentence, read_iob, spans
from medai.datasets.registry import verify
from medai.errors import InvalidInput

IOB = "The\tO\nadenomatous\tB-Disease\npolyposis\tI-Disease\ncoli\tI-Disease\n.\tO\n\nNo\tO\ncancer\tB-Disease\n"


def test_read_iob_splits_sentences_at_blank_lines():
    sentences = read_iob(IOB)
    assert sentences == [TaggedSentence(("The", "adenomatous", "polyposis", "coli", "."), ("O", "B-Disease", "I-Disease", "I-Disease", "O")),
                         TaggedSentence(("No", "cancer"), ("O", "B-Disease"))]


def test_read_iob_names_the_bad_line():
    with pytest.raises(InvalidInput, match="line 2"):
        read_iob("a\tO\nb c\n", source="x.tsv")


def test_spans_follow_conlleval():
    assert spans(("O", "B-Disease", "I-Disease", "O", "B-Disease")) == [(1, 3, "Disease"), (4, 5, "Disease")]
    assert spans(("O", "I-Disease", "I-Disease")) == [(1, 3, "Disease")]  # I after O opens a mention
    assert spans(("B-Disease", "B-Disease")) == [(0, 1, "Disease"), (1, 2, "Disease")]


def test_held_back_split_is_refused():
    with pytest.raises(ValueError, match="held back"):
        ncbi_disease.load("test")
    with pytest.raises(ValueError, match="held back"):
        bc5cdr.load("test")


def test_mtsamples_csv_and_distinct_notes():
    text = (",description,medical_specialty,sample_name,transcription,keywords,source_url\n"
            '0,d, Surgery,n,"HISTORY: Chest pain.",k,u\n1,d, Cardiology,n,"history:  chest pain.",k,u\n2,d,X,n,"",k,u\n')
    rows = mtsamples.read_csv(text)
    assert [r.specialty for r in rows] == ["Surgery", "Cardiology"]
    assert len(mtsamples.distinct_notes(rows)) == 1


def _mentions(sentences):
    return sum(len(spans(s.tags)) for s in sentences)


@pytest.mark.data
def test_ncbi_disease_counts_match_the_paper(data_dir):
    assert all(verify("ncbi_disease", data_dir).values())
    assert _mentions(ncbi_disease.load("train", data_dir)) == 5145
    assert _mentions(ncbi_disease.load("devel", data_dir)) == 787
    assert "United States Government Work" in ncbi_disease.licence_notice(data_dir)


@pytest.mark.data
def test_bc5cdr_disease_counts(data_dir):
    assert all(verify("bc5cdr", data_dir).values())
    assert _mentions(bc5cdr.load("train", "disease", data_dir)) == 4182
    assert _mentions(bc5cdr.load("devel", "disease", data_dir)) == 4246
    assert _mentions(bc5cdr.load("train", "chemical", data_dir)) == 5203


@pytest.mark.data
def test_mtsamples_rows(data_dir):
    assert all(verify("mtsamples", data_dir).values())
    rows = mtsamples.load(data_dir)
    assert len(rows) == 4066
    assert len(mtsamples.distinct_notes(rows)) == 1889
