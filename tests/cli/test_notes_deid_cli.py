"""``medai notes deid``: redacted text and <name>.phi.json per file, surrogate options, clear errors."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from medai.cli.notes_deid import register

NOTE = "Mr. Przybylo seen by Dr. Jones on 03/14/2019. Call 410-322-1419.\n"


@pytest.fixture
def app():
    group = typer.Typer()
    register(group)

    @group.callback()
    def notes() -> None:
        """Clinical notes."""

    return group


def test_mask_mode_writes_text_and_spans(app, tmp_path):
    note = tmp_path / "note1.txt"
    note.write_text(NOTE)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["deid", str(note), "--out", str(out), "--rules-only"])
    assert result.exit_code == 0, result.output
    redacted = (out / "note1.txt").read_text()
    assert redacted == "Mr. [NAME] seen by Dr. [NAME] on [DATE]. Call [PHONE].\n"
    spans = json.loads((out / "note1.txt.phi.json").read_text())
    assert [(s["type"], s["text"]) for s in spans] == [("NAME", "Przybylo"), ("NAME", "Jones"), ("DATE", "03/14/2019"),
                                                       ("PHONE", "410-322-1419")]
    assert all(NOTE[s["start"]:s["end"]] == s["text"] for s in spans)


def test_surrogate_mode_is_reproducible_with_the_key(app, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text(NOTE)
    (folder / "b.txt").write_text(NOTE)
    runs = []
    for name in ("o1", "o2"):
        result = CliRunner().invoke(app, ["deid", str(folder), "--out", str(tmp_path / name), "--mode", "surrogate",
                                          "--key", "secret", "--patient-id", "p1", "--rules-only"])
        assert result.exit_code == 0, result.output
        runs.append((tmp_path / name / "a.txt").read_text())
    assert runs[0] == runs[1] == (tmp_path / "o1" / "b.txt").read_text()
    assert "Jones" not in runs[0] and "[NAME]" not in runs[0]


def test_surrogate_without_key_and_bad_mode_are_usage_errors(app, tmp_path):
    note = tmp_path / "n.txt"
    note.write_text(NOTE)
    result = CliRunner().invoke(app, ["deid", str(note), "--out", str(tmp_path / "o"), "--mode", "surrogate"],
                                env={"MEDAI_DEID_KEY": ""})
    assert result.exit_code == 2 and "--key" in result.output
    result = CliRunner().invoke(app, ["deid", str(note), "--out", str(tmp_path / "o"), "--mode", "blur"])
    assert result.exit_code == 2 and "--mode" in result.output


def test_unreadable_file_is_named_and_others_still_processed(app, tmp_path):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text(NOTE)
    bad.write_bytes(b"\xff\xfe\x00bad")
    result = CliRunner().invoke(app, ["deid", str(good), str(bad), "--out", str(tmp_path / "o"), "--rules-only"])
    assert result.exit_code == 1
    assert "bad.txt" in result.output and (tmp_path / "o" / "good.txt").exists()


def test_default_run_uses_the_shipped_tagger(app, tmp_path):
    note = tmp_path / "n.txt"
    note.write_text("Spoke with wife Suzette at bedside; seen by Dr. Sullivan.\n")
    result = CliRunner().invoke(app, ["deid", str(note), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    sources = {s["source"] for s in json.loads((tmp_path / "o" / "n.txt.phi.json").read_text())}
    assert "Suzette" not in (tmp_path / "o" / "n.txt").read_text()
    assert sources
