"""FHIR Bulk Data NDJSON: reading exports (file, folder, manifest), writing them, errors naming file and line."""

import gzip
import json

import pytest

from medai.core.fhir.ndjson import NdjsonWriter, ndjson_files, read_ndjson
from medai.errors import InvalidInput

PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female", "name": [{"family": "Ng", "given": ["Zoë"]}]}
OBSERVATION = {"resourceType": "Observation", "id": "o1", "status": "final", "subject": {"reference": "Patient/p1"},
               "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
               "valueQuantity": {"value": 88, "unit": "/min"}}


def test_written_export_reads_back_through_its_manifest(tmp_path):
    with NdjsonWriter(tmp_path / "export") as writer:
        writer.write(PATIENT)
        writer.write(OBSERVATION)
        writer.write({**OBSERVATION, "id": "o2"})
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text())
    assert manifest["requiresAccessToken"] is False and manifest["error"] == []
    assert manifest["output"] == [{"type": "Observation", "url": "Observation.ndjson", "count": 2},
                                  {"type": "Patient", "url": "Patient.ndjson", "count": 1}]
    assert "transactionTime" in manifest and not list((tmp_path / "export").glob(".*part"))
    assert list(read_ndjson(tmp_path / "export" / "manifest.json", types=["Patient"])) == [PATIENT]
    assert [r["id"] for r in read_ndjson(tmp_path / "export")] == ["o1", "o2", "p1"]
    assert (tmp_path / "export" / "Patient.ndjson").read_text(encoding="utf-8").count("\n") == 1  # one resource per line


def test_folder_of_files_without_manifest_and_gzip(tmp_path):
    (tmp_path / "a.ndjson").write_text(json.dumps(PATIENT) + "\n\n" + json.dumps(OBSERVATION) + "\n")
    with gzip.open(tmp_path / "b.ndjson.gz", "wt") as handle:
        handle.write(json.dumps({**OBSERVATION, "id": "o9"}) + "\n")
    assert [kind for kind, _ in ndjson_files(tmp_path)] == [None, None]
    assert [r["id"] for r in read_ndjson(tmp_path, types=["Observation"])] == ["o1", "o9"]


def test_manifest_with_file_urls_relative_to_it(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "Patient-1.ndjson").write_text(json.dumps(PATIENT) + "\n")
    manifest = {"transactionTime": "2026-01-01T00:00:00Z", "request": "x", "requiresAccessToken": True,
                "output": [{"type": "Patient", "url": (tmp_path / "data" / "Patient-1.ndjson").as_uri()},
                           {"type": "Observation", "url": "data/missing.ndjson"}]}
    (tmp_path / "m.json").write_text(json.dumps(manifest))
    assert list(read_ndjson(tmp_path / "m.json", types=["Patient"])) == [PATIENT]  # the Observation file is not opened


@pytest.mark.parametrize("line, where", [("{not json", "line 2"), ('{"id": "x"}', "line 2, resourceType")])
def test_bad_line_names_file_and_line(tmp_path, line, where):
    path = tmp_path / "Observation.ndjson"
    path.write_text(json.dumps(OBSERVATION) + "\n" + line + "\n")
    with pytest.raises(InvalidInput) as error:
        list(read_ndjson(path))
    assert error.value.problems[0].location == f"{path}: {where}"


def test_remote_urls_are_refused_not_fetched(tmp_path):
    (tmp_path / "m.json").write_text(json.dumps({"output": [{"type": "Patient", "url": "https://example.org/p.ndjson"}]}))
    with pytest.raises(InvalidInput, match="not fetched"):
        list(read_ndjson(tmp_path / "m.json"))
