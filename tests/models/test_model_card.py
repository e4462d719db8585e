"""Model card schema validation and its Markdown / HTML renderings."""

from __future__ import annotations

import base64

import pytest

from medai.models import ModelCardError, parse_card, render_html, render_markdown


def test_card_json_round_trip(make_card):
    card = make_card()
    assert parse_card(card.model_dump_json()) == card


def test_missing_field_is_named(card_data):
    data = card_data()
    del data["summary"]
    with pytest.raises(ModelCardError, match=r"summary: required field is missing"):
        parse_card(data)


def test_missing_nested_field_is_named_with_its_path(card_data):
    data = card_data()
    del data["metrics"][0]["ci_high"]
    with pytest.raises(ModelCardError, match=r"metrics\[0\]\.ci_high: required field is missing") as info:
        parse_card(data)
    assert info.value.problems[0].code == "required"


def test_unknown_field_is_named(card_data):
    with pytest.raises(ModelCardError, match=r"summmary: unknown field"):
        parse_card(card_data(summmary="typo"))


def test_inverted_interval_rejected(card_data):
    metrics = [{"name": "AUROC", "value": 0.9, "ci_low": 0.95, "ci_high": 0.85, "dataset": "toy-test", "split": "test"}]
    with pytest.raises(ModelCardError, match=r"metrics\[0\].*ci_low"):
        parse_card(card_data(metrics=metrics))


def test_metric_must_name_a_known_dataset(card_data):
    metrics = [{"name": "AUROC", "value": 0.9, "ci_low": 0.8, "ci_high": 0.95, "dataset": "elsewhere", "split": "test"}]
    with pytest.raises(ModelCardError, match="'elsewhere' is not one of the card's data sets"):
        parse_card(card_data(metrics=metrics))


@pytest.mark.parametrize("file", ["../escape.png", "/abs.png", "a/./b.png", "a\\b.png"])
def test_plot_path_must_stay_inside_package(card_data, file):
    with pytest.raises(ModelCardError, match=r"plots\[0\]\.file"):
        parse_card(card_data(plots=[{"title": "ROC", "file": file}]))


def test_invalid_json_reported():
    with pytest.raises(ModelCardError, match="card: Invalid JSON"):
        parse_card(b"{not json")


def test_markdown_has_metrics_with_ci_and_embedded_plot(make_card, tmp_path, png_bytes):
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "roc.png").write_bytes(png_bytes)
    card = make_card(plots=[{"title": "ROC curve", "file": "plots/roc.png"}])

    text = render_markdown(card, package_dir=tmp_path)

    assert "| AUROC | 0.912 (0.890–0.931) | toy-test | test |" in text
    assert "| sex | female | 25 | AUROC | 0.900 (0.850–0.950) |" in text
    assert "[toy-test](https://example.org/toy)" in text
    assert f"![ROC curve](data:image/png;base64,{base64.b64encode(png_bytes).decode()})" in text


def test_markdown_without_package_dir_links_plots(make_card):
    card = make_card(plots=[{"title": "ROC curve", "file": "plots/roc.png"}])
    assert "![ROC curve](plots/roc.png)" in render_markdown(card)


def test_markdown_escapes_table_pipes(make_card):
    text = render_markdown(make_card(task="a | b"))
    assert "| Task | a \\| b |" in text


def test_html_is_self_contained_with_metrics_and_plot(make_card, tmp_path, png_bytes):
    (tmp_path / "roc.png").write_bytes(png_bytes)
    card = make_card(plots=[{"title": "ROC curve", "file": "roc.png"}], summary="<script>alert(1)</script>")

    html = render_html(card, package_dir=tmp_path)

    assert html.startswith("<!DOCTYPE html>")
    assert "<td>AUROC</td><td>0.912 (0.890–0.931)</td>" in html
    assert f'<img src="data:image/png;base64,{base64.b64encode(png_bytes).decode()}" alt="ROC curve">' in html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_missing_plot_file_named(make_card, tmp_path):
    card = make_card(plots=[{"title": "ROC curve", "file": "roc.png"}])
    with pytest.raises(ModelCardError, match="roc.png"):
        render_html(card, package_dir=tmp_path)


def test_rule_based_card_without_training_data_renders(make_card):
    card = make_card(training_data=[], calibration=None, subgroups=None, operating_point=None)
    assert "None (rule-based model)." in render_markdown(card)
    assert "None (rule-based model)." in render_html(card)
