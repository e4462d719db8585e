"""Saving and loading model packages: round trip, atomic writes and every integrity failure."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import pytest

from medai.errors import Problem
from medai.models import (
    ModelCardError,
    ModelNotFoundError,
    ModelPackageError,
    ModelPackageWarning,
    load_package,
    save_package,
)
from medai.models import package as package_module

WEIGHTS = b"\x00\x01fake safetensors bytes"


def _save(tmp_path, card, **extra_files):
    files = {"model.safetensors": WEIGHTS, **extra_files}
    return save_package(tmp_path / "pkg", card, files)


def _rewrite_manifest_hash(directory, relpath):
    """Make the manifest agree with a file changed on purpose, so only the next check can fail."""
    manifest_path = directory / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][relpath] = hashlib.sha256((directory / relpath).read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest))


def test_round_trip(tmp_path, make_card, png_bytes):
    plot_source = tmp_path / "roc.png"
    plot_source.write_bytes(png_bytes)
    card = make_card(plots=[{"title": "ROC", "file": "plots/roc.png"}])

    saved = save_package(tmp_path / "pkg", card, {"model.safetensors": WEIGHTS, "plots/roc.png": plot_source})
    loaded = load_package(tmp_path / "pkg")

    assert loaded.card == card
    assert loaded.manifest == saved.manifest
    assert (loaded.name, loaded.version) == ("toy-sepsis", "1.0.0")
    assert loaded.path == tmp_path / "pkg"
    assert set(loaded.manifest.files) == {"card.json", "model.safetensors", "plots/roc.png"}
    assert loaded.weights_files == ("model.safetensors",)
    assert loaded.file("plots/roc.png").read_bytes() == png_bytes
    assert loaded.extra_files == ()
    assert loaded.identity() == {
        "model_id": "toy-sepsis",
        "model_version": "1.0.0",
        "weights_sha256": saved.weights_sha256,
    }


def test_weights_digest_depends_only_on_weights(tmp_path, make_card):
    one = save_package(tmp_path / "a", make_card(), {"model.safetensors": WEIGHTS})
    two = save_package(tmp_path / "b", make_card(summary="Another summary."), {"model.safetensors": WEIGHTS})
    three = save_package(tmp_path / "c", make_card(), {"model.safetensors": WEIGHTS + b"!"})
    assert one.weights_sha256 == two.weights_sha256 != three.weights_sha256


def test_rule_based_package_with_yaml_weights(tmp_path, make_card):
    package = save_package(tmp_path / "rules", make_card(training_data=[]), {"rules.yaml": b"steps: []\n"})
    assert load_package(package.path).weights_files == ("rules.yaml",)


def test_altered_file_named_with_hashes(tmp_path, make_card):
    package = _save(tmp_path, make_card())
    expected = package.manifest.files["model.safetensors"]
    (package.path / "model.safetensors").write_bytes(b"tampered")
    actual = hashlib.sha256(b"tampered").hexdigest()

    with pytest.raises(ModelPackageError, match="model.safetensors: altered") as info:
        load_package(package.path)
    assert expected[:12] in str(info.value) and actual[:12] in str(info.value)


def test_missing_file_named(tmp_path, make_card):
    package = _save(tmp_path, make_card())
    (package.path / "model.safetensors").unlink()
    with pytest.raises(ModelPackageError, match="model.safetensors: missing"):
        load_package(package.path)


def test_every_problem_reported(tmp_path, make_card):
    package = _save(tmp_path, make_card(), **{"extra.onnx": b"onnx"})
    (package.path / "model.safetensors").unlink()
    (package.path / "extra.onnx").write_bytes(b"changed")
    with pytest.raises(ModelPackageError) as info:
        load_package(package.path)
    assert len(info.value.problems) == 2
    assert "extra.onnx: altered" in str(info.value) and "model.safetensors: missing" in str(info.value)


def test_extra_file_reported(tmp_path, make_card):
    package = _save(tmp_path, make_card())
    (package.path / "notes.txt").write_text("not listed")
    with pytest.warns(ModelPackageWarning, match="notes.txt"):
        loaded = load_package(package.path)
    assert loaded.extra_files == ("notes.txt",)
    with pytest.raises(ModelPackageError, match="notes.txt: not listed"):
        loaded.file("notes.txt")


def test_invalid_card_names_field(tmp_path, make_card):
    package = _save(tmp_path, make_card())
    card = json.loads((package.path / "card.json").read_text())
    del card["intended_use"]
    (package.path / "card.json").write_text(json.dumps(card))
    _rewrite_manifest_hash(package.path, "card.json")

    with pytest.raises(ModelPackageError, match="card.json: invalid .*intended_use: required field is missing"):
        load_package(package.path)


def test_card_edited_without_manifest_is_altered(tmp_path, make_card):
    package = _save(tmp_path, make_card())
    card = json.loads((package.path / "card.json").read_text())
    card["metrics"][0]["value"] = 0.99
    (package.path / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelPackageError, match="card.json: altered"):
        load_package(package.path)


def test_card_must_match_manifest_identity(tmp_path, make_card):
    package = _save(tmp_path, make_card())
    card = json.loads((package.path / "card.json").read_text())
    card["version"] = "2.0.0"
    (package.path / "card.json").write_text(json.dumps(card))
    _rewrite_manifest_hash(package.path, "card.json")
    with pytest.raises(ModelPackageError, match="names toy-sepsis 2.0.0 but manifest.json names toy-sepsis 1.0.0"):
        load_package(package.path)


@pytest.mark.parametrize("content", [b"{broken", b'{"name": "x"}'])
def test_manifest_unreadable(tmp_path, make_card, content):
    package = _save(tmp_path, make_card())
    (package.path / "manifest.json").write_bytes(content)
    with pytest.raises(ModelPackageError, match="manifest.json: unreadable"):
        load_package(package.path)


def test_manifest_missing(tmp_path, make_card):
    package = _save(tmp_path, make_card())
    (package.path / "manifest.json").unlink()
    with pytest.raises(ModelPackageError, match="manifest.json: missing"):
        load_package(package.path)


def test_manifest_path_escaping_package_rejected(tmp_path, make_card):
    package = _save(tmp_path, make_card())
    manifest = json.loads((package.path / "manifest.json").read_text())
    manifest["files"]["../outside.onnx"] = "0" * 64
    (package.path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelPackageError, match=r"manifest.json: unreadable .*\.\./outside\.onnx"):
        load_package(package.path)


def test_not_a_folder(tmp_path):
    with pytest.raises(ModelPackageError, match="not a folder"):
        load_package(tmp_path / "nowhere")


def test_save_refuses_existing_folder(tmp_path, make_card):
    (tmp_path / "pkg").mkdir()
    with pytest.raises(ModelPackageError, match="already exists"):
        _save(tmp_path, make_card())


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"plot.png": b"png"}, "no weights file"),
        ({"model.onnx": b"x", "card.json": b"{}"}, "card.json: written by save_package"),
        ({"../model.onnx": b"x"}, "normalised relative path"),
        ({"model.onnx": "text"}, "must be bytes or a Path"),
    ],
)
def test_save_rejects_bad_files(tmp_path, make_card, files, message):
    with pytest.raises(ModelPackageError, match=message):
        save_package(tmp_path / "pkg", make_card(), files)
    assert list(tmp_path.iterdir()) == []


def test_save_rejects_card_plot_not_among_files(tmp_path, make_card):
    card = make_card(plots=[{"title": "ROC", "file": "roc.png"}])
    with pytest.raises(ModelPackageError, match="roc.png: plot named in the card"):
        save_package(tmp_path / "pkg", card, {"model.onnx": b"x"})


def test_failed_save_leaves_nothing(tmp_path, make_card, monkeypatch):
    real_write = package_module._write
    calls = []

    def failing_write(path, content):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_write(path, content)

    monkeypatch.setattr(package_module, "_write", failing_write)
    with pytest.raises(OSError, match="disk full"):
        save_package(tmp_path / "pkg", make_card(), {"a.onnx": b"a", "b.onnx": b"b"})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "error",
    [
        ModelPackageError(Path("pkg"), ["model.onnx: missing"]),
        ModelCardError(Problem("summary", "required field is missing", code="required")),
        ModelNotFoundError("model 'x'", "available models: y"),
    ],
)
def test_errors_survive_pickling(error):
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error)
