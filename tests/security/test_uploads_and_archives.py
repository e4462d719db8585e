"""Path traversal and zip-slip: client file names never become paths; zip members are never extracted."""

import io
import zipfile

import pytest
from starlette.datastructures import UploadFile

from medai.core.fhir import files
from medai.errors import InvalidInput
from medai.service.uploads import safe_filename, save_upload

TRAVERSALS = ["../../../../tmp/evil.png", "..\\..\\windows\\system32\\evil.dcm", "/etc/passwd", "C:\\evil.csv", "....//....//evil",
              "evil\x00.png", "%2e%2e%2fevil", "", ".", "..", "\u202egnp.exe", "a" * 500]


@pytest.mark.parametrize("name", TRAVERSALS)
def test_client_file_names_are_sanitised(name):
    cleaned = safe_filename(name)
    assert "/" not in cleaned and "\\" not in cleaned and "\x00" not in cleaned
    assert cleaned not in ("", ".", "..") and len(cleaned) <= 120


def test_saved_upload_stays_in_its_folder(tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    for name in TRAVERSALS:
        saved = save_upload(UploadFile(io.BytesIO(b"data"), filename=name), folder, ".png")
        assert saved.path.parent == folder and saved.path.name == "upload.png"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["upload.png", "uploads"]
    with pytest.raises(ValueError):
        save_upload(UploadFile(io.BytesIO(b"x"), filename="a"), folder, "/../../evil")


def test_forecast_upload_with_traversal_name_writes_nothing_outside(service, tmp_path):
    target = tmp_path / "evil.csv"
    response = service.client.post("/api/v1/forecast/census", headers=service.headers("clinician", None),
                                   files={"file": (str(target), b"not,a,census\n1,2,3\n", "text/csv")}, data={"as_of": "2024-03-30"})
    assert 400 <= response.status_code < 500
    assert not target.exists()


def _zip(tmp_path, members: dict[str, bytes]) -> "files.Path":
    path = tmp_path / "bundles.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_zip_slip_members_are_read_never_extracted(tmp_path):
    bundle = b'{"resourceType": "Bundle", "type": "transaction", "entry": []}'
    archive = _zip(tmp_path / "", {"../../evil.json": bundle, "/abs/evil.json": bundle, "ok.json": bundle})
    before = set(tmp_path.parent.rglob("evil.json"))
    read = [files.read_bundle(name, source) for name, source in files.bundle_files(archive)]
    assert len(read) == 3 and all(b["resourceType"] == "Bundle" for b in read)
    assert set(tmp_path.parent.rglob("evil.json")) == before


@pytest.mark.parametrize("data,fragment", [
    (b"\xff\xfe\x00{", "not UTF-8"), (b"{not json", "malformed JSON"), (b"[1, 2]", "must be a JSON object"),
    (b"[" * 100_000, "nested too deeply"),
])
def test_malformed_bundles_are_invalid_input_naming_the_file(tmp_path, data, fragment):
    path = tmp_path / "b.json"
    path.write_bytes(data)
    with pytest.raises(InvalidInput) as error:
        files.read_bundle(str(path), path)
    assert fragment in str(error.value) and "b.json" in str(error.value)


def test_zip_bomb_member_is_refused_before_inflating(tmp_path, monkeypatch):
    archive = _zip(tmp_path, {"big.json": b" " * 10_000})
    monkeypatch.setattr(files, "MAX_MEMBER_BYTES", 1_000)
    [(name, source)] = files.bundle_files(archive)
    with pytest.raises(InvalidInput, match="over the limit"):
        files.read_bundle(name, source)


def test_not_a_zip_is_invalid_input(tmp_path):
    path = tmp_path / "fake.zip"
    path.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(InvalidInput, match="not a readable zip"):
        files.bundle_files(path)
