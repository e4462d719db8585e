"""``medai readmission predict``: encounter_id,probability output; clear errors for bad files."""

import csv
import zipfile

import numpy as np
import pytest
from typer.testing import CliRunner

from medai.cli.readmission import readmission_app
from tests.risk.readmission.conftest import HEADER, encounter, synthetic_rows, to_csv

runner = CliRunner()


def test_predict_writes_exactly_encounter_id_and_probability(tmp_path):
    rows = synthetic_rows(25, seed=7)
    source = tmp_path / "encounters.csv"
    source.write_text(to_csv(rows, [c for c in HEADER if c != "readmitted"]))
    result = runner.invoke(readmission_app, ["predict", str(source), "--out", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    with (tmp_path / "out.csv").open() as handle:
        reader = csv.reader(handle)
        assert next(reader) == ["encounter_id", "probability"]
        out = list(reader)
    assert [int(r[0]) for r in out] == [int(r["encounter_id"]) for r in rows]
    probability = np.array([float(r[1]) for r in out])
    assert ((probability >= 0) & (probability <= 1)).all() and probability.std() > 0


def test_predict_history_comes_from_the_file(tmp_path):
    """The same encounter scores differently alone and after the patient's earlier admissions."""
    history = [encounter(100, 1, number_inpatient=0), encounter(200, 1, number_inpatient=1),
               encounter(300, 1, number_inpatient=2, discharge_disposition_id=3)]
    alone, full = tmp_path / "alone.csv", tmp_path / "full.csv"
    alone.write_text(to_csv(history[-1:]))
    full.write_text(to_csv(history))
    for source in (alone, full):
        assert runner.invoke(readmission_app, ["predict", str(source), "--out", str(source.with_suffix(".out"))]).exit_code == 0
    last_alone = alone.with_suffix(".out").read_text().splitlines()[1]
    last_full = full.with_suffix(".out").read_text().splitlines()[3]
    assert last_alone.split(",")[0] == last_full.split(",")[0] == "300" and last_alone != last_full


def test_explanations_file_carries_model_identity(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text(to_csv([encounter(5, 6, discharge_disposition_id=11), encounter(7, 8, number_inpatient=4)]))
    result = runner.invoke(readmission_app, ["predict", str(source), "--out", str(tmp_path / "o.csv"),
                                             "--explanations", str(tmp_path / "e.jsonl")])
    assert result.exit_code == 0, result.output
    import json

    lines = [json.loads(line) for line in (tmp_path / "e.jsonl").read_text().splitlines()]
    assert [line["encounter_id"] for line in lines] == [5, 7]
    assert lines[0]["value"] == 0.0 and "Expired" in lines[0]["explanation"]["summary"]
    assert all(line["model"]["model_id"] == "readmission-diabetes" and line["model"]["model_version"] == "1.0.0" for line in lines)
    assert lines[1]["explanation"]["contributions"]


@pytest.mark.parametrize(("change", "expected"), [
    ({"drop": "number_inpatient"}, "column number_inpatient: is missing"),
    ({"row": {"number_emergency": "lots"}}, "line 3, column number_emergency: 'lots' is not a whole number"),
    ({"row": {"A1Cresult": "7.2"}}, "line 3, column A1Cresult: '7.2' is not one of"),
])
def test_bad_files_give_a_clear_error_and_no_output(tmp_path, change, expected):
    header = [c for c in HEADER if c != change.get("drop")]
    rows = [encounter(1, 2), encounter(2, 2, **change.get("row", {}))]
    source = tmp_path / "bad.csv"
    source.write_text(to_csv(rows, header))
    result = runner.invoke(readmission_app, ["predict", str(source), "--out", str(tmp_path / "out.csv")])
    assert result.exit_code == 2
    assert expected in " ".join(result.output.split())
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.data
def test_predict_on_real_encounters(tmp_path, data_dir):
    with zipfile.ZipFile(data_dir / "diabetes130" / "dataset_diabetes.zip") as archive:
        lines = archive.read("dataset_diabetes/diabetic_data.csv").decode().splitlines()[:301]
    source = tmp_path / "real.csv"
    source.write_text("\n".join(lines) + "\n")
    result = runner.invoke(readmission_app, ["predict", str(source), "--out", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    out = (tmp_path / "out.csv").read_text().splitlines()
    assert out[0] == "encounter_id,probability" and len(out) == 301


@pytest.mark.data
def test_evaluate_writes_the_report_and_comparison(tmp_path, data_dir):
    result = runner.invoke(readmission_app, ["evaluate", "--data", str(data_dir), "--out", str(tmp_path / "r"), "--n-boot", "20"])
    assert result.exit_code == 0, result.output
    import json

    assert (tmp_path / "r" / "report.json").exists() and (tmp_path / "r" / "report.html").exists()
    rows = {row["name"]: row for row in json.loads((tmp_path / "r" / "comparison.json").read_text())["rows"]}
    assert set(rows) == {"Shipped: LightGBM + MLP blend, calibrated", "LightGBM alone", "MLP (embeddings) alone",
                         "LACE index (anchor)", "Logistic regression baseline"}
    assert rows["LACE index (anchor)"]["auroc"] < rows["Shipped: LightGBM + MLP blend, calibrated"]["auroc"]
    assert "Validation patients" in result.output
