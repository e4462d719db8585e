"""The knowledge base as a model package: hash-checked, identical to the shipped knowledge, reported by assess."""

from __future__ import annotations

import shutil

import pytest

from medai.assistant.symptoms import assess
from medai.assistant.symptoms.knowledge import load_knowledge
from medai.assistant.symptoms.package import NAME, VERSION, VIGNETTE_SETS, package_dir, package_identity
from medai.models import ModelPackageError, default_registry, load_package


def test_shipped_package_loads_and_matches_the_knowledge_in_use():
    package = load_package(package_dir())
    assert (package.name, package.version) == (NAME, VERSION)
    assert "knowledge/findings.yaml" in package.manifest.files
    assert package_identity(load_knowledge())["packaged"], "knowledge edited: rebuild the package (see docs)"
    metrics = {m.dataset for m in package.card.metrics}
    assert len(metrics) == len(VIGNETTE_SETS) and all(m.ci_low <= m.value <= m.ci_high for m in package.card.metrics)
    assert any(s.name == NAME for s in default_registry().list())


def test_assessment_reports_the_package():
    version = assess("sore throat", semantic=False).version
    assert version["model_id"] == NAME and version["model_version"] == VERSION
    assert version["knowledge_sha256"] == load_knowledge().sha256


def test_tampered_knowledge_fails_the_hash_check(tmp_path):
    copy = tmp_path / "pkg"
    shutil.copytree(package_dir(), copy)
    findings = copy / "knowledge" / "findings.yaml"
    findings.write_text(findings.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    with pytest.raises(ModelPackageError, match="findings.yaml"):
        load_package(copy)
    identity = package_identity(load_knowledge(), copy)
    assert identity["model_version"].endswith("+unpackaged") and not identity["packaged"]
