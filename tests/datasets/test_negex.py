"""NegEx / ConText kit loader (and the IU chest X-ray report loader): parsing, inner split, scoring, real files."""

from __future__ import annotations

import zipfile

import pytest

from medai.datasets import iu_cxr, negex
from medai.datasets.registry import verify
from medai.errors import InvalidInput

HEADER = ("line number\tCondition\tsentence\tnegation_status (negated, affirmed, possible)\t"
          "temporality (historical, recent, hypothetical)\texperiencer (patient, other)\n")
ROWS = ("5\trales\tThe lungs are clear, no wheezes or   RALES.\tNegated\tRecent\tPatient\n"
        "7\tcolon cancer\tFamily history of COLON CANCER.\tAffirmed\tHistorical\tFamily member\n"
        "9\tvomiting\tReturn if VOMITING.\tAffirmed\tNot particular\tPatient\n")


class _Flags:
    def __init__(self, negated=False, historical=False, hypothetical=False, family=False):
        self.negated, self.historical, self.hypothetical, self.family = negated, historical, hypothetical, family


def test_parse_labels_and_target_span():
    rows = negex.parse(HEADER + ROWS)
    assert [(r.line, r.negation, r.temporality_class, r.experiencer) for r in rows] == [
        (5, "negated", "recent", "patient"), (7, "affirmed", "historical", "family member"),
        (9, "affirmed", "hypothetical", "patient")]
    start, end = rows[0].target_span
    assert rows[0].sentence[start:end] == "RALES"


def test_parse_rejects_bad_files():
    with pytest.raises(InvalidInput):
        negex.parse("no header\n")
    with pytest.raises(InvalidInput, match="row 2"):
        negex.parse(HEADER + "5\trales\tonly three\n")


def test_split_is_deterministic_and_keeps_sentences_together():
    rows = negex.parse(HEADER + ROWS * 3)
    fit, held = negex.split(rows, 0.5)
    assert negex.split(rows, 0.5) == (fit, held)
    assert not {r.sentence for r in fit} & {r.sentence for r in held}


def test_score():
    rows = negex.parse(HEADER + ROWS)
    perfect = {5: _Flags(negated=True), 7: _Flags(historical=True, family=True), 9: _Flags(hypothetical=True)}
    figures = negex.score(rows, lambda r: perfect[r.line])
    assert figures["negation_accuracy"] == figures["temporality_accuracy"] == figures["experiencer_accuracy"] == 1.0
    none = negex.score(rows, lambda r: None)
    assert none["negation_sensitivity"] == 0.0 and none["negation_specificity"] == 1.0


def test_load_reads_the_zip(tmp_path):
    folder = tmp_path / "negex"
    folder.mkdir()
    with zipfile.ZipFile(folder / negex.FILE, "w") as archive:
        archive.writestr("kit/" + negex.ANNOTATIONS, HEADER + ROWS)
        archive.writestr("kit/genConText/negex_triggers.txt", "no\t\t[PREN]\r\nbut\t\t[CONJ]\r\n")
    assert len(negex.load(tmp_path)) == 3
    assert negex.trigger_list(root=tmp_path) == [("no", "PREN"), ("but", "CONJ")]


def test_iu_cxr_parse_and_load(tmp_path):
    text = ("uid,MeSH,Problems,image,indication,comparison,findings,impression\n"
            "1,normal,normal,Xray Chest,TB test,None.,No effusion.,Normal chest.\n")
    (report,) = iu_cxr.parse(text)
    assert report.normal and report.field("impression") == "Normal chest."
    with pytest.raises(KeyError):
        report.field("uid")
    with pytest.raises(InvalidInput):
        iu_cxr.parse("uid,MeSH\n1,normal\n")
    folder = tmp_path / "iu_cxr_reports"
    folder.mkdir()
    with zipfile.ZipFile(folder / iu_cxr.FILE, "w") as archive:
        archive.writestr(iu_cxr.REPORTS, text)
    assert [r.uid for r in iu_cxr.load(tmp_path)] == ["1"]


@pytest.mark.data
def test_real_negex_kit(data_dir):
    assert all(verify("negex", data_dir).values())
    rows = negex.load(data_dir)
    assert len(rows) == 1019 and sum(r.negation == "negated" for r in rows) == 222
    assert sum(r.target_span is not None for r in rows) >= 1000
    triggers = dict(negex.trigger_list(root=data_dir))
    assert triggers["no"] == "PREN" and triggers["but"] == "CONJ"
    assert ("history", "PREN") in negex.trigger_list("history_triggers.txt", data_dir)


@pytest.mark.data
def test_real_iu_cxr_reports(data_dir):
    assert all(verify("iu_cxr", data_dir).values())
    reports = iu_cxr.load(data_dir)
    assert len(reports) == 3079 and len({r.uid for r in reports}) == 3079
    assert sum(r.normal for r in reports) > 1000
