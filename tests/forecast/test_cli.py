"""``medai forecast``: flu in the hub layout, census, staffing, scenario and refresh, with bad input named."""

import csv
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from medai.cli.forecast import forecast_app
from medai.forecast.census import parse_census_csv

from .conftest import START, census_model_for, census_text, flu_rows
from .test_store_refresh import _csv

runner = CliRunner()


@pytest.fixture
def models(monkeypatch, flu_model):
    """The CLI loads the tiny test models instead of the installed packages."""
    census = census_model_for(parse_census_csv(census_text()))
    monkeypatch.setattr("medai.forecast.predict.load_trained", lambda name, registry=None: flu_model if name == "flu-forecast" else census)
    return flu_model, census


def test_flu_writes_the_hub_layout(models, tmp_path):
    data, out = tmp_path / "target.csv", tmp_path / "forecast.csv"
    data.write_bytes(_csv(flu_rows()))
    as_of = START + timedelta(weeks=110)
    result = runner.invoke(forecast_app, ["flu", "--data", str(data), "--as-of", as_of.isoformat(), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["reference_date", "target", "horizon", "target_end_date", "location", "output_type",
                             "output_type_id", "value"]
    assert len(rows) == 5 * 4 * 23 and {r["horizon"] for r in rows} == {"0", "1", "2", "3"}
    assert f"reference date {as_of.isoformat()}" in result.output


@pytest.mark.parametrize("content,as_of,fragment", [
    ("date,location,value\n2024-01-06,US,-3\n", "2024-01-06", "counts cannot be negative"),
    ("date,location,value\n2024-01-06,US,3\n2024-01-06,US,4\n", "2024-01-06", "duplicated date"),
    ("date,location,value\n2024-01-06,ZZ,3\n", "2024-01-06", "unknown location"),
    ("date,location,value\n2024-01-06,US,3\n", "2024-03-02", "weeks after the last week"),
])
def test_flu_bad_input_exits_2_with_the_problem(models, tmp_path, content, as_of, fragment):
    data = tmp_path / "target.csv"
    data.write_text(content)
    result = runner.invoke(forecast_app, ["flu", "--data", str(data), "--as-of", as_of, "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 2 and fragment in result.output.replace("\n", " ")


def test_flu_rejects_a_malformed_date(models, tmp_path):
    data = tmp_path / "target.csv"
    data.write_bytes(_csv(flu_rows(weeks=20)))
    result = runner.invoke(forecast_app, ["flu", "--data", str(data), "--as-of", "6/1/2024", "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 2 and "not a date" in result.output


def test_census_staffing_and_scenario(models, tmp_path):
    data = tmp_path / "census.csv"
    data.write_text(census_text())
    as_of = "2024-03-30"
    out = tmp_path / "census-forecast.csv"
    result = runner.invoke(forecast_app, ["census", "--data", str(data), "--as-of", as_of, "--horizon", "14", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 2 * 14 * 23 and rows[0]["reference_date"] == as_of
    plan = tmp_path / "staffing.csv"
    result = runner.invoke(forecast_app, ["staffing", "--data", str(data), "--as-of", as_of, "--out", str(plan)])
    assert result.exit_code == 0, result.output
    staffing = list(csv.DictReader(plan.open()))
    assert len(staffing) == 2 * 7 and {r["unit_type"] for r in staffing} == {"med_surg", "icu"}
    result = runner.invoke(forecast_app, ["scenario", "--data", str(data), "--series", "Ward A/inpatient", "--as-of", as_of,
                                          "--uplift", "0.3", "--horizon", "7"])
    assert result.exit_code == 0, result.output
    assert "+30%" in result.output and "mean LOS" in result.output


def test_refresh_runs_once_into_the_database(models, tmp_path):
    data = tmp_path / "target.csv"
    data.write_bytes(_csv(flu_rows()))
    url = f"sqlite:///{tmp_path / 'm.db'}"
    as_of = (START + timedelta(weeks=110)).isoformat()
    args = ["refresh", "--flu-data", str(data), "--as-of", as_of, "--database-url", url]
    first = runner.invoke(forecast_app, args)
    assert first.exit_code == 0 and "stored" in first.output, first.output
    second = runner.invoke(forecast_app, args)
    assert second.exit_code == 0 and "unchanged" in second.output


def _encounter_bundle(path):
    """Two inpatient admissions a day from 2024-01-01 for 60 days, each staying three days."""
    import json
    from datetime import date

    day0 = date(2024, 1, 1)
    entries = []
    for k in range(120):
        start = day0 + timedelta(days=k // 2)
        entries.append({"resource": {"resourceType": "Encounter", "id": f"e{k}", "status": "finished",
                                     "class": {"code": "IMP"}, "subject": {"reference": f"Patient/p{k}"},
                                     "period": {"start": f"{start}T10:00:00Z", "end": f"{start + timedelta(days=3)}T09:00:00Z"},
                                     "location": [{"location": {"display": "Ward 7B"}}]}})
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
    return path


def test_census_from_fhir_encounters(models, tmp_path):
    bundle = _encounter_bundle(tmp_path / "general.json")
    out = tmp_path / "census.csv"
    result = runner.invoke(forecast_app, ["census", "--fhir", str(bundle), "--as-of", "2024-02-20", "--history-days", "45",
                                          "--horizon", "7", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert {(r["location"], r["unit"]) for r in rows} == {("general", "inpatient")} and len(rows) == 7 * 23
    both = runner.invoke(forecast_app, ["census", "--fhir", str(bundle), "--data", str(bundle), "--as-of", "2024-02-20",
                                        "--out", str(out)])
    assert both.exit_code == 2 and "exactly one of --data and --fhir" in both.output


def test_scenario_from_fhir_stays(tmp_path):
    bundle = _encounter_bundle(tmp_path / "general.json")
    result = runner.invoke(forecast_app, ["scenario", "--data", str(bundle), "--fhir", "--series", "general/inpatient",
                                          "--as-of", "2024-02-20", "--uplift", "0.5", "--horizon", "5"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "mean LOS 3.0 days" in result.output and "+50%" in result.output  # in hospital on days 0, 1 and 2
