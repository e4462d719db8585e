"""Finding, listing and loading packages through the model registry."""

from __future__ import annotations

import pytest

from medai.config import Settings
from medai.models import (
    ModelNotFoundError,
    ModelPackageError,
    ModelRegistry,
    default_registry,
    save_package,
    shipped_models_dir,
)


@pytest.fixture
def user_dir(tmp_path, make_card):
    """A user folder holding toy-sepsis 1.2.0, 1.10.0 and 1.10.0rc1, other-model 0.1, and a broken package."""
    root = tmp_path / "models"
    for version in ("1.2.0", "1.10.0", "1.10.0rc1"):
        save_package(root / "toy-sepsis" / version, make_card(version=version), {"model.onnx": version.encode()})
    save_package(root / "other-model" / "0.1", make_card(name="other-model", version="0.1"), {"w.safetensors": b"w"})
    broken = save_package(root / "broken" / "1.0", make_card(name="broken", version="1.0"), {"w.onnx": b"w"})
    (broken.path / "w.onnx").write_bytes(b"tampered")
    return root


def test_lists_user_packages_and_reports_broken(user_dir):
    summaries = ModelRegistry([user_dir], shipped=False).list()

    assert [(s.name, s.version, s.ok) for s in summaries] == [
        ("broken", "1.0", False),
        ("other-model", "0.1", True),
        ("toy-sepsis", "1.2.0", True),
        ("toy-sepsis", "1.10.0rc1", True),
        ("toy-sepsis", "1.10.0", True),
    ]
    assert {s.source for s in summaries} == {"user"}
    broken = summaries[0]
    assert broken.task is None and "w.onnx: altered" in broken.error
    assert summaries[1].task == "binary classification: sepsis within 6 hours"
    assert summaries[1].path == user_dir / "other-model" / "0.1"


def test_broken_manifest_listed_under_folder_name(tmp_path):
    (tmp_path / "mystery").mkdir()
    (tmp_path / "mystery" / "card.json").write_text("{}")
    [summary] = ModelRegistry([tmp_path], shipped=False).list()
    assert (summary.name, summary.ok) == ("mystery", False)
    assert "manifest.json: missing" in summary.error


def test_hidden_partial_folders_ignored(tmp_path, make_card):
    save_package(tmp_path / ".pkg.1234.partial", make_card(), {"model.onnx": b"x"})
    assert ModelRegistry([tmp_path], shipped=False).list() == []


def test_get_latest_version(user_dir):
    assert ModelRegistry([user_dir], shipped=False).get("toy-sepsis").version == "1.10.0"


def test_get_explicit_version(user_dir):
    package = ModelRegistry([user_dir], shipped=False).get("toy-sepsis", "1.2.0")
    assert package.file("model.onnx").read_bytes() == b"1.2.0"


def test_get_broken_package_raises_its_error(user_dir):
    with pytest.raises(ModelPackageError, match="w.onnx: altered"):
        ModelRegistry([user_dir], shipped=False).get("broken")


def test_unknown_name_lists_available(user_dir):
    expected = "model 'nope' not found; available models: broken, other-model, toy-sepsis"
    with pytest.raises(ModelNotFoundError, match=expected):
        ModelRegistry([user_dir], shipped=False).get("nope")


def test_unknown_version_lists_versions(user_dir):
    with pytest.raises(ModelNotFoundError, match="available versions: 1.2.0, 1.10.0rc1, 1.10.0"):
        ModelRegistry([user_dir], shipped=False).get("toy-sepsis", "9")


def test_empty_registry_says_how_to_add_models(tmp_path):
    with pytest.raises(ModelNotFoundError, match="MEDAI_MODEL_DIRS"):
        ModelRegistry([tmp_path / "absent"], shipped=False).get("anything")


def test_user_package_wins_over_same_version_elsewhere(tmp_path, make_card):
    save_package(tmp_path / "first" / "m", make_card(), {"model.onnx": b"first"})
    save_package(tmp_path / "second" / "m", make_card(), {"model.onnx": b"second"})
    registry = ModelRegistry([tmp_path / "first", tmp_path / "second"], shipped=False)
    assert registry.get("toy-sepsis").file("model.onnx").read_bytes() == b"first"


def test_shipped_folder_is_searched():
    assert shipped_models_dir().is_dir()
    registry = ModelRegistry()
    assert all(s.source == "shipped" for s in registry.list())


def test_default_registry_uses_settings(user_dir):
    registry = default_registry(Settings(model_dirs=[user_dir]))
    assert registry.dirs == (user_dir,) and registry.shipped
    assert registry.get("other-model").version == "0.1"
