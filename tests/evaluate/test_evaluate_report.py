"""Reports: JSON that round-trips without NaN, self-contained HTML with three plots and the tables."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from medai.evaluate import Section, Table, evaluate, render_report, save_plots, write_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
VOID_TAGS = {"meta", "img", "br", "hr", "link", "input"}


class _Outline(HTMLParser):
    """Collects images and tables, and checks that every element is closed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.images: list[str] = []
        self.tables = 0
        self.cells: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs)["src"] or "")
        if tag == "table":
            self.tables += 1
        if tag not in VOID_TAGS:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "td":
            self.cells.append(data)


def _outline(html: str) -> _Outline:
    parser = _Outline()
    parser.feed(html)
    parser.close()
    assert parser.stack == [], f"unclosed elements: {parser.stack}"
    return parser


@pytest.fixture
def predictions(make_predictions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, p = make_predictions(600, power=1.5)
    sex = np.random.default_rng(0).choice(["F", "M"], y.size)
    return y, p, sex


def test_write_report_writes_json_and_html(tmp_path: Path, predictions) -> None:
    y, p, sex = predictions
    paths = write_report(tmp_path / "out", "Sepsis <v1>", y, p, 0.5, groups={"sex": sex}, n_boot=100)
    assert set(paths) == {"json", "html"} and all(path.is_file() for path in paths.values())

    data = json.loads(paths["json"].read_text(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert data["title"] == "Sepsis <v1>"
    assert data["metrics"]["threshold"] == 0.5
    assert [row["level"] for row in data["subgroups"]] == ["overall", "F", "M"]
    assert data["calibration"]["ece"] > 0

    html = paths["html"].read_text()
    outline = _outline(html)
    assert len(outline.images) == 3
    for src in outline.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG_SIGNATURE)
    assert outline.tables == 5  # metrics, confusion matrix, calibration, reliability bins, subgroups
    assert "AUROC" in html and "Sensitivity (CI)" in html and "F" in outline.cells
    assert "Sepsis &lt;v1&gt;" in html and "<v1>" not in html
    assert "http://" not in html and "https://" not in html  # self-contained


def test_raw_scores_skip_calibration(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    paths = write_report(tmp_path, "Raw scores", y, rng.normal(y, 1.0), 0.0, n_boot=50)
    data = json.loads(paths["json"].read_text())
    assert data["calibration"] is None and data["subgroups"] == []
    assert any("not probabilities" in note for note in data["notes"])
    assert len(_outline(paths["html"].read_text()).images) == 2


def test_evaluation_result_to_dict_has_no_nan() -> None:
    with pytest.warns(UserWarning, match="PPV is undefined"):  # nobody is called positive
        result = evaluate([0, 0, 0, 0, 1], [0.1, 0.2, 0.3, 0.4, 0.45], 0.5, n_boot=20)
    json.dumps(result.to_dict(), allow_nan=False)
    assert result.to_dict()["metrics"]["ppv"]["value"] is None


def test_save_plots(tmp_path: Path, predictions) -> None:
    y, p, _ = predictions
    paths = save_plots(tmp_path / "plots", y, p, threshold=0.5)
    assert sorted(paths) == ["calibration", "pr", "roc"]
    assert all(path.read_bytes().startswith(PNG_SIGNATURE) for path in paths.values())


def test_render_report_escapes_and_formats_cells() -> None:
    table = Table(columns=["name", "value"], rows=[["<b>x</b>", float("nan")], ["y", 0.12345]], caption="c")
    html = render_report("T", Section("S", text=["a & b"], tables=[table]), meta={"k": 1.5})
    outline = _outline(html)
    assert outline.tables == 1 and outline.images == []
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "a &amp; b" in html
    assert "\u2013" in outline.cells and "0.123" in outline.cells
