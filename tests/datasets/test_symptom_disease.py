"""Kaggle disease-symptom table loader: parsing, name normalisation, errors, and the real file."""

from __future__ import annotations

import zipfile

import pytest

from medai.datasets import symptom_disease as sd
from medai.datasets.registry import DATASETS
from medai.errors import InvalidInput

TRAINING = "itching,skin_rash,spotting_ urination,fluid_overload,prognosis\n1,1,0,0,Fungal infection\n0,0,1,1,UTI\n\n"


def _zip(folder):
    folder.mkdir()
    with zipfile.ZipFile(folder / sd.FILE, "w") as archive:
        archive.writestr(sd.TRAINING, TRAINING)
        archive.writestr(sd.SEVERITY, "itching,1\nskin_rash,3\n")
        archive.writestr(sd.DESCRIPTIONS, "UTI,An infection of the urinary tract.\n")
        archive.writestr(sd.PRECAUTIONS, "UTI,drink water,see a doctor,,\n")


def test_parse_normalises_names():
    symptoms, cases = sd.parse_training(TRAINING)
    assert "spotting_urination" in symptoms
    assert cases == [sd.Case("Fungal infection", frozenset({"itching", "skin_rash"})),
                     sd.Case("UTI", frozenset({"spotting_urination", "fluid_overload"}))]


def test_parse_names_bad_rows():
    with pytest.raises(InvalidInput, match="prognosis"):
        sd.parse_training("a,b\n1,0\n")
    with pytest.raises(InvalidInput, match="row 2"):
        sd.parse_training("a,prognosis\n2,X\n")


@pytest.mark.skipif("symptom_disease" not in DATASETS, reason="registry entry not added yet (lead registers it)")
def test_load_from_a_built_zip(tmp_path):
    _zip(tmp_path / "symptom_disease_kaggle")
    table = sd.load(tmp_path)
    assert table.diseases == ["Fungal infection", "UTI"]
    assert table.severity["skin_rash"] == 3 and table.precautions["UTI"] == ["drink water", "see a doctor"]


@pytest.mark.data
@pytest.mark.skipif("symptom_disease" not in DATASETS, reason="registry entry not added yet (lead registers it)")
def test_real_file(data_dir):
    table = sd.load(data_dir)
    assert len(table.cases) == 4920 and len(table.diseases) == 41
    assert len({(c.disease, c.symptoms) for c in table.cases}) == 304
    assert len(table.symptoms) >= 131
