"""Cognitive-distortion loader: parsing, stratified split keeping identical texts together, real file."""

import zipfile

import pytest

from medai.datasets import cognitive_distortions as cd
from medai.datasets.registry import verify
from medai.errors import InvalidInput

HEADER = "row,Patient Question,Distorted part,Dominant Distortion,Secondary Distortion (Optional)\n"
ROWS = ('0,"I failed once, so I will always fail.",I will always fail,Overgeneralization,Fortune-telling\n'
        "1,I went to the shop today.,,No Distortion,\n")


def test_parse():
    rows = cd.parse(HEADER + ROWS)
    assert [(r.row, r.dominant, r.secondary, r.distorted) for r in rows] == [
        (0, "Overgeneralization", "Fortune-telling", True), (1, cd.NONE, None, False)]
    assert rows[1].distorted_part is None


def test_parse_names_bad_labels_and_rows():
    with pytest.raises(InvalidInput, match="row 2: Dominant Distortion"):
        cd.parse(HEADER + "0,text,,Sadness,\n")
    with pytest.raises(InvalidInput, match="row 2: row"):
        cd.parse(HEADER + "x,text,,No Distortion,\n")


def test_split_keeps_identical_statements_together():
    rows = [cd.DistortionExample(i, f"statement {i % 30}", None, cd.LABELS[i % 3], None) for i in range(90)]
    train, validation = cd.split(rows)
    assert cd.split(rows) == (train, validation)
    assert not {r.text for r in train} & {r.text for r in validation} and validation


def test_load_reads_the_zip(tmp_path):
    folder = tmp_path / "cognitive_distortions"
    folder.mkdir()
    with zipfile.ZipFile(folder / cd.FILE, "w") as archive:
        archive.writestr(cd.MEMBER, HEADER + ROWS)
    assert len(cd.load(tmp_path)) == 2


@pytest.mark.data
def test_real_cognitive_distortions(data_dir):
    assert all(verify("cognitive_distortions", data_dir).values())
    rows = cd.load(data_dir)
    assert len(rows) == 2022 and sum(not r.distorted for r in rows) == 745
    assert {r.dominant for r in rows} == set(cd.LABELS)
    train, validation = cd.split(rows)
    assert (len(train), len(validation)) == (1619, 403)
