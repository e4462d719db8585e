"""``medai notes followup`` and ``medai notes assertion`` through a Typer group built by ``register``."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from medai.cli.notes_followup import register

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_followup_writes_one_line_per_file(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text("IMPRESSION: 8 mm nodule. Recommend follow-up CT in 3 months.", encoding="utf-8")
    (notes / "b.txt").write_text("No acute cardiopulmonary abnormality.", encoding="utf-8")
    out = tmp_path / "out" / "followup.jsonl"
    result = runner.invoke(_app(), ["followup", str(notes), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["needs_followup"] for line in lines] == [True, False]
    (item,) = lines[0]["items"]
    text = (notes / "a.txt").read_text(encoding="utf-8")
    assert text[item["start"]:item["end"]] == item["text"]
    assert item["what"] == "follow-up ct" and item["when"] == {"value": 3, "unit": "month"}
    assert lines[1]["items"] == []


def test_followup_reports_unreadable_files(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00bad")
    good = tmp_path / "good.txt"
    good.write_text("Biopsy results pending.", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(_app(), ["followup", str(bad), str(good), "--out", str(out)])
    assert result.exit_code == 1
    (line,) = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert line["path"] == str(good) and line["items"][0]["kind"] == "pending"


def test_assertion_command():
    result = runner.invoke(_app(), ["assertion", "--sentence", "No evidence of pneumonia.", "--target", "pneumonia"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["status"] == "negated" and data["evidence"][0]["text"] == "No evidence of"
    missing = runner.invoke(_app(), ["assertion", "--sentence", "No fever.", "--target", "pneumonia"])
    assert missing.exit_code == 1
