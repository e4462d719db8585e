"""Ray Data batch scoring gives the single-process predictions, and an interrupted run resumes cleanly.

All tests share one local Ray (module fixture); inputs are small subsets so each stays fast.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from medai.distributed.batch import read_output, run_job
from medai.distributed.partitions import DONE_FILE
from tests.conftest import make_bundle
from tests.distributed.conftest import psv_subset


class Interrupted(Exception):
    """Stands for the driver being killed."""


@pytest.mark.data
def test_sepsis_psv_on_ray_matches_single_process_and_resumes(ray_local, tmp_path, data_dir):
    from medai.distributed.sepsis import SepsisPsvJob
    from medai.risk.sepsis.predict import load_shipped_model, predict_folder

    source = psv_subset(data_dir, tmp_path / "subset.zip", 40)
    predict_folder(load_shipped_model, source, tmp_path / "single", n_jobs=1)
    job, out = SepsisPsvJob(str(source), partition_size=10), tmp_path / "ray"

    seen = []

    def stop_after_first(record):
        seen.append(record["partition"])
        raise Interrupted

    with pytest.raises(Interrupted):
        run_job(job, out, ray=True, workers=2, on_partition=stop_after_first)
    first = out / f"{seen[0]}.parquet"
    kept = first.stat().st_mtime_ns
    (out / ".tmp-part-00003-killed.parquet").write_bytes(b"PAR1 half")  # a worker killed mid-write
    summary = run_job(job, out, ray=True, workers=2)

    assert summary["partitions"] == 4 and summary["resumed_partitions"] >= 1 and summary["items"] == 40
    assert first.stat().st_mtime_ns == kept  # a finished partition is not recomputed
    done = [json.loads(line)["partition"] for line in (out / DONE_FILE).read_text().splitlines()]
    assert sorted(done) == [f"part-{i:05d}" for i in range(4)]  # each partition exactly once
    assert not list(out.glob(".tmp-*"))
    rows = read_output(out)
    assert len({(r["patient_id"], r["hour"]) for r in rows}) == len(rows)
    by_patient: dict[str, list[float]] = {}
    for row in rows:
        by_patient.setdefault(row["patient_id"], []).append(row["probability"])
    assert len(by_patient) == 40
    for patient, probabilities in by_patient.items():
        lines = (tmp_path / "single" / f"{patient}.psv").read_text().splitlines()[1:]
        single = np.array([float(line.split("|")[0]) for line in lines])
        np.testing.assert_allclose(probabilities, single, atol=1e-6)  # the single-process file keeps 6 decimals


def _bulk_export(folder: Path, bundles: list[dict]) -> None:
    from medai.core.fhir.ndjson import NdjsonWriter

    with NdjsonWriter(folder) as writer:
        for bundle in bundles:
            patient_id = bundle["entry"][0]["resource"]["id"]
            text = json.dumps(bundle).replace(f"urn:uuid:{patient_id}", f"Patient/{patient_id}")
            for entry in json.loads(text)["entry"]:
                writer.write(entry["resource"])


def test_sepsis_bulk_export_on_ray_matches_the_stored_patient_path(ray_local, tmp_path, engine):
    from medai.distributed.sepsis import SepsisBulkJob
    from medai.risk.sepsis.patient import patient_timeline
    from medai.risk.sepsis.predict import load_shipped_model
    from medai.store.ingest import ingest_bundle

    now = datetime(2026, 3, 1, 12, 17, tzinfo=timezone.utc)
    bundles = [make_bundle(hours=4 + i, sick=i % 2 == 0, now=now) for i in range(6)]
    _bulk_export(tmp_path / "export", bundles)
    summary = run_job(SepsisBulkJob(str(tmp_path / "export" / "manifest.json"), partitions=3), tmp_path / "out",
                      ray=True, workers=2)
    assert summary["partitions"] == 3 and not summary["problems"]
    rows = read_output(tmp_path / "out")

    model = load_shipped_model()
    for bundle in bundles:
        with engine.begin() as connection:
            ingest_bundle(connection, bundle)
    for bundle in bundles:
        patient_id = bundle["entry"][0]["resource"]["id"]
        last = max(datetime.fromisoformat(e["resource"]["effectiveDateTime"]) for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "Observation")
        with engine.connect() as connection:
            timeline = patient_timeline(connection, patient_id, model, now=last)
        ray_risks = [r["probability"] for r in sorted(rows, key=lambda r: r["hour"]) if r["patient_id"] == patient_id]
        np.testing.assert_allclose(ray_risks, timeline.risks, rtol=1e-9, atol=1e-12)


@pytest.mark.data
def test_readmission_on_ray_matches_single_process(ray_local, tmp_path, data_dir):
    import csv
    import zipfile

    from medai.distributed.readmission import ReadmissionJob
    from medai.risk.readmission.predict import load_shipped_model, predict_csv

    with zipfile.ZipFile(data_dir / "diabetes130" / "dataset_diabetes.zip") as archive:
        member = next(n for n in archive.namelist() if n.endswith("diabetic_data.csv"))
        lines = archive.read(member).decode("utf-8").splitlines()[:601]  # 600 encounters, some patients repeat
    source = tmp_path / "encounters.csv"
    source.write_text("\n".join(lines) + "\n")
    predict_csv(load_shipped_model(), source, tmp_path / "single.csv")
    run_job(ReadmissionJob(str(source), partitions=4), tmp_path / "out", ray=True, workers=2)
    ray_rows = {row["encounter_id"]: row["probability"] for row in read_output(tmp_path / "out")}
    with (tmp_path / "single.csv").open() as handle:
        single = {int(row["encounter_id"]): float(row["probability"]) for row in csv.DictReader(handle)}
    assert ray_rows.keys() == single.keys()
    np.testing.assert_allclose([ray_rows[k] for k in single], list(single.values()), atol=1e-6)


@pytest.mark.data
def test_imaging_on_ray_matches_the_predict_command(ray_local, tmp_path, data_dir):
    import csv

    from PIL import Image
    from typer.testing import CliRunner

    from medai.cli.main import app
    from medai.distributed.imaging import ImagingJob

    images = np.load(data_dir / "medmnist_pneumoniamnist_variant" / "pneumoniamnist_trainval.npz")["val_images"][:12]
    (tmp_path / "png").mkdir()
    for i, image in enumerate(images):
        Image.fromarray(image).save(tmp_path / "png" / f"cxr{i:02d}.png")
    result = CliRunner().invoke(app, ["imaging", "predict", str(tmp_path / "png"), "-m", "pneumonia-cxr",
                                      "-o", str(tmp_path / "single.csv")])
    assert result.exit_code == 0, result.output
    run_job(ImagingJob((str(tmp_path / "png"),), "pneumonia-cxr", partition_size=5), tmp_path / "out", ray=True, workers=2)
    ray_rows = {row["path"]: row for row in read_output(tmp_path / "out")}
    with (tmp_path / "single.csv").open() as handle:
        single = list(csv.DictReader(handle))
    assert len(single) == len(ray_rows) == 12
    for row in single:
        assert int(row["prediction"]) == ray_rows[row["path"]]["prediction"]
        np.testing.assert_allclose(ray_rows[row["path"]]["prob_1"], float(row["prob_1"]), atol=1e-6)


def _notes(tmp_path: Path, count: int = 8) -> list[str]:
    fixture = Path(__file__).parents[1] / "notes" / "fixtures" / "followup_dev.jsonl"
    texts = [json.loads(line)["text"] for line in fixture.read_text().splitlines()[:count]]
    texts[0] = "Seen by Dr. Alice Moreno on 03/14/2024 at Mercy Hospital, MRN 4471823. " + texts[0]
    return texts


def test_notes_extract_and_deid_on_ray_match_the_notes_commands(ray_local, tmp_path):
    import base64

    from typer.testing import CliRunner

    from medai.cli.main import app
    from medai.core.fhir.ndjson import NdjsonWriter
    from medai.distributed.notes import NotesJob

    texts = _notes(tmp_path)
    (tmp_path / "txt").mkdir()
    with NdjsonWriter(tmp_path / "export") as writer:
        for i, text in enumerate(texts):
            (tmp_path / "txt" / f"note{i}.txt").write_text(text)
            writer.write({"resourceType": "DocumentReference", "id": f"note{i}", "status": "current",
                          "subject": {"reference": f"Patient/pt{i % 3}"},
                          "content": [{"attachment": {"contentType": "text/plain",
                                                      "data": base64.b64encode(text.encode()).decode()}}]})
    runner = CliRunner()
    extracted = runner.invoke(app, ["notes", "extract", str(tmp_path / "txt"), "--out", str(tmp_path / "single.jsonl"),
                                    "--no-tagger"])
    assert extracted.exit_code == 0, extracted.output
    run_job(NotesJob((str(tmp_path / "txt"),), task="extract", use_tagger=False, partition_size=3), tmp_path / "ex",
            ray=True, workers=2)
    single = {json.loads(line)["path"]: json.loads(line)["entities"] for line in (tmp_path / "single.jsonl").read_text().splitlines()}
    assert {row["source"]: row["entities"] for row in read_output(tmp_path / "ex")} == single

    deid = runner.invoke(app, ["notes", "deid", str(tmp_path / "txt"), "--out", str(tmp_path / "single-deid"), "--rules-only",
                               "--patient-id", "pt0"])
    assert deid.exit_code == 0, deid.output
    run_job(NotesJob((str(tmp_path / "export"),), task="deid", use_tagger=False, partition_size=3), tmp_path / "deid",
            ray=True, workers=2)
    rows = {row["source"]: row for row in read_output(tmp_path / "deid")}
    assert len(rows) == len(texts)
    for i in range(0, len(texts), 3):  # the notes of patient pt0 shift dates like the command run for pt0
        row = rows[f"DocumentReference/note{i}"]
        assert row["patient_id"] == "pt0"
        assert row["text"] == (tmp_path / "single-deid" / f"note{i}.txt").read_text()
        assert row["phi"] == json.loads((tmp_path / "single-deid" / f"note{i}.txt.phi.json").read_text())
    assert "Moreno" not in rows["DocumentReference/note0"]["text"]


def test_sepsis_predict_command_with_ray_option(ray_local, tmp_path):
    from typer.testing import CliRunner

    from medai.cli.main import app

    now = datetime(2026, 3, 1, 12, 17, tzinfo=timezone.utc)
    _bulk_export(tmp_path / "export", [make_bundle(hours=3, now=now), make_bundle(hours=5, sick=True, now=now)])
    result = CliRunner().invoke(app, ["sepsis", "predict", str(tmp_path / "export"), str(tmp_path / "out"), "--ray", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "_summary.json").read_text())
    assert summary["engine"] == "ray" and summary["rows"] == 8 and summary["job"]["kind"] == "sepsis-bulk"
