"""``medai notes extract``: one JSON line per input file with the exact entity schema."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from medai.cli.notes_extract import register

ENTITY_KEYS = ["start", "end", "text", "label", "negated", "uncertain", "historical", "family", "hypothetical", "codes"]


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_extract_writes_one_line_per_file(tmp_path):
    notes = {"a.txt": "No chest pain. Known CHF with shortness of breath.", "b.txt": "Nothing of note."}
    for name, text in notes.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(_app(), ["extract", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [list(r) for r in records] == [["path", "entities"], ["path", "entities"]]
    assert records[0]["path"].endswith("a.txt") and records[1]["entities"] == []
    entities = records[0]["entities"]
    assert all(list(e) == ENTITY_KEYS for e in entities)
    text = notes["a.txt"]
    assert all(text[e["start"]:e["end"]] == e["text"] and e["label"] == "condition" for e in entities)
    by_text = {e["text"]: e for e in entities}
    assert by_text["chest pain"]["negated"] is True
    assert by_text["shortness of breath"]["codes"][0]["code"] == "R06.02"
    code = by_text["CHF"]["codes"][0]
    assert {"code", "description", "score", "system", "version", "billable", "evidence"} <= set(code)
    assert (code["system"], code["version"]) == ("ICD-10-CM", "2026")


def test_unreadable_file_is_named_and_exit_code_is_1(tmp_path):
    contents = {"bad.txt": b"\xff\xfe\xfa", "good.txt": b"Fever."}
    for name, raw in contents.items():
        (tmp_path / name).write_bytes(raw)
    args = [str(tmp_path / name) for name in contents]
    result = CliRunner().invoke(_app(), ["extract", *args, "--out", str(tmp_path / "out.jsonl"), "--no-tagger"])
    assert result.exit_code == 1
    assert "bad.txt" in result.output
    (record,) = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert record["path"].endswith("good.txt") and record["entities"][0]["codes"][0]["code"] == "R50.9"
