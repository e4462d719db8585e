"""``medai sepsis predict``: challenge-format output, bad files reported and skipped."""

import numpy as np
import pytest
from typer.testing import CliRunner

from medai.cli.main import app
from medai.datasets.physionet2019 import COLUMNS, LABEL

runner = CliRunner()
HEADER = "|".join(COLUMNS + [LABEL])


def _psv(hours: int) -> str:
    rows = []
    for h in range(hours):
        values = ["NaN"] * 41
        values[0], values[3], values[6], values[34], values[35], values[39], values[40] = "88", "120", "18", "65", "1", str(h + 1), "0"
        rows.append("|".join(values))
    return HEADER + "\n" + "\n".join(rows) + "\n"


def test_predict_writes_one_file_per_patient_and_skips_bad_ones(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    (source / "p000001.psv").write_text(_psv(5))
    (source / "p000002.psv").write_text(_psv(3).replace("\n88|", "\nfast|", 1))
    (source / "p000003.psv").write_text(_psv(2))
    result = runner.invoke(app, ["sepsis", "predict", str(source), str(tmp_path / "out"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "out" / "p000001.psv").read_text().splitlines()
    assert lines[0] == "PredictedProbability|PredictedLabel" and len(lines) == 6
    probability, label = lines[1].split("|")
    assert 0 <= float(probability) <= 1 and label in {"0", "1"}
    assert not (tmp_path / "out" / "p000002.psv").exists()
    assert "p000002.psv:row2,fieldHR" in "".join(result.output.split())  # rich wraps long paths anywhere


@pytest.mark.data
def test_predict_on_real_files(tmp_path, data_dir):
    import zipfile

    with zipfile.ZipFile(data_dir / "physionet2019" / "training_setA.zip") as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".psv"))[:40]
        for name in names:
            (tmp_path / name.split("/")[-1]).write_bytes(archive.read(name))
    result = runner.invoke(app, ["sepsis", "predict", str(tmp_path), str(tmp_path / "out"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    outputs = sorted((tmp_path / "out").glob("*.psv"))
    assert len(outputs) == 40
    inputs = (tmp_path / outputs[0].name).read_text().splitlines()
    assert len(outputs[0].read_text().splitlines()) == len(inputs)
    scores = np.array([float(l.split("|")[0]) for l in outputs[0].read_text().splitlines()[1:]])
    assert np.all((scores >= 0) & (scores <= 1))
