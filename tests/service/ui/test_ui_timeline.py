"""The vitals timeline SVG: well-formed, one tagged series per vital sign, points where the data are."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest

from medai.service.ui.timeline import VITAL_SIGNS, vitals_timeline

SVG = "{http://www.w3.org/2000/svg}"
END = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
START = END - timedelta(hours=48)


def _parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def test_one_series_per_vital_with_its_points():
    series = {"heart_rate": [(END - timedelta(hours=h), 80.0 + h) for h in range(10)],
              "temperature": [(END - timedelta(hours=3), 38.6)]}
    root = _parse(vitals_timeline(series, START, END, {"heart_rate": (51, 90), "temperature": (36.1, 38.0)}))
    groups = {g.get("data-loinc"): g for g in root.iter(f"{SVG}g") if g.get("data-loinc")}
    assert list(groups) == [v.loinc for v in VITAL_SIGNS]
    assert len(groups["8867-4"].findall(f"{SVG}circle")) == 10
    assert len(groups["8867-4"].findall(f"{SVG}polyline")) == 1
    temperature = groups["8310-5"].findall(f"{SVG}circle")
    assert len(temperature) == 1 and "abnormal" in temperature[0].get("class")
    assert groups["8480-6"].findall(f"{SVG}circle") == []
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Time (UTC)" in texts and "Heart rate" in texts and "no measurements in this window" in texts


def test_points_outside_the_window_are_dropped_and_gaps_break_the_line():
    points = [(START - timedelta(hours=1), 70.0), (START + timedelta(hours=1), 72.0), (START + timedelta(hours=2), 74.0),
              (START + timedelta(hours=20), 75.0), (START + timedelta(hours=21), 76.0)]
    root = _parse(vitals_timeline({"heart_rate": points}, START, END))
    group = next(g for g in root.iter(f"{SVG}g") if g.get("data-loinc") == "8867-4")
    assert len(group.findall(f"{SVG}circle")) == 4
    assert len(group.findall(f"{SVG}polyline")) == 2


def test_points_are_placed_in_time_order_inside_the_plot():
    series = {"systolic_bp": [(START + timedelta(hours=h), 100.0 + 5 * h) for h in range(0, 48, 6)]}
    root = _parse(vitals_timeline(series, START, END))
    xs = [float(c.get("cx")) for c in root.iter(f"{SVG}circle")]
    ys = [float(c.get("cy")) for c in root.iter(f"{SVG}circle")]
    assert xs == sorted(xs) and ys == sorted(ys, reverse=True)  # later = right, higher = up


def test_naive_times_are_utc_and_labels_are_escaped():
    naive = END.replace(tzinfo=None) - timedelta(hours=1)
    markup = vitals_timeline({"heart_rate": [(naive, 88.0)]}, START, END)
    _parse(markup)  # well-formed XML
    assert 'data-time="2026-03-02T11:00:00+00:00"' in str(markup)


def test_an_empty_window_is_refused():
    with pytest.raises(ValueError, match="end > start"):
        vitals_timeline({}, END, END)
