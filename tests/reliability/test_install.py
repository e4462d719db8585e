"""``medai models install``: verified, atomic, idempotent, and recoverable after an interrupted replace."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from medai.cli.main import app
from medai.models import ModelPackageError, ModelRegistry
from medai.models.install import install_package, recover
from tests.reliability.crash import _make_package


def test_install_copies_a_verified_package_and_is_idempotent(tmp_path):
    source = _make_package(tmp_path, "A", 1)
    first = install_package(source, tmp_path / "models")
    assert first.action == "installed" and first.package.path == tmp_path / "models" / "crash-test-1.0.0"
    assert install_package(source, tmp_path / "models").action == "unchanged"
    assert [s.ok for s in ModelRegistry([tmp_path / "models"], shipped=False).list()] == [True]


def test_an_altered_package_is_refused_and_nothing_is_installed(tmp_path):
    source = _make_package(tmp_path, "A", 1)
    (source / "weights.safetensors").write_bytes(b"tampered")
    with pytest.raises(ModelPackageError, match="weights.safetensors: altered"):
        install_package(source, tmp_path / "models")
    assert not (tmp_path / "models").exists()


def test_a_different_package_needs_force(tmp_path):
    install_package(_make_package(tmp_path, "A", 1), tmp_path / "models")
    other = _make_package(tmp_path, "B", 1)
    with pytest.raises(ModelPackageError, match="--force"):
        install_package(other, tmp_path / "models")
    assert install_package(other, tmp_path / "models", force=True).action == "replaced"


def test_recover_restores_a_package_set_aside_by_an_interrupted_replace(tmp_path):
    models = tmp_path / "models"
    install_package(_make_package(tmp_path, "A", 1), models)
    (models / "crash-test-1.0.0").rename(models / ".crash-test-1.0.0.0123456789ab.old")  # killed between the renames
    (models / ".crash-test-1.0.0.ba9876543210.partial").mkdir()
    done = recover(models)
    assert len(done) == 2 and (models / "crash-test-1.0.0" / "manifest.json").is_file()
    assert not [p for p in models.glob(".*") if p.is_dir()]


def test_cli_install(tmp_path):
    result = CliRunner().invoke(app, ["models", "install", str(_make_package(tmp_path, "A", 1)), "--dir", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    assert "crash-test 1.0.0 installed" in result.output
