"""FluSight hub files: target data, vintages, locations and the hub's forecasts; bad rows are named."""

from datetime import date

import pytest

from medai.datasets import flusight
from medai.datasets.registry import verify
from medai.errors import InvalidInput
from medai.forecast.knowledge import hub_locations


def test_parses_the_hub_layout_including_na_and_index_columns():
    text = ('"X","date","location","location_name","value","weekly_rate"\n'
            '1,"2024-04-27","02","Alaska",3,0.42\n2,"2024-04-27","6","California",NA,NA\n')
    rows = flusight.parse_target_csv(text)
    assert rows == [flusight.WeeklyCount(date(2024, 4, 27), "02", 3.0), flusight.WeeklyCount(date(2024, 4, 27), "06", None)]


@pytest.mark.parametrize("text,fragment", [
    ("date,location\n2024-01-06,US\n", "missing columns value"),
    ("date,location,value\n2024-01-06,US,-2\n", "row 2, field value: counts cannot be negative"),
    ("date,location,value\n06/01/2024,US,2\n", "row 2, field date"),
    ("date,location,value\n2024-01-06,US,lots\n", "row 2, field value: 'lots' is not a number"),
    ("date,location,value\n2024-01-06,,2\n", "empty location code"),
])
def test_bad_rows_are_named(text, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        flusight.parse_target_csv(text, "t.csv")


def test_hub_forecast_rows_keep_only_incidence_quantiles():
    text = ("reference_date,horizon,target,target_end_date,location,output_type,output_type_id,value\n"
            "2024-01-06,0,wk inc flu hosp,2024-01-06,US,quantile,0.5,100\n"
            "2024-01-06,0,wk flu hosp rate change,2024-01-06,US,pmf,large_increase,0.2\n")
    assert flusight.parse_hub_csv(text) == [flusight.HubQuantile(date(2024, 1, 6), 0, date(2024, 1, 6), "US", 0.5, 100.0)]


@pytest.mark.data
def test_reads_the_real_hub_files(data_dir):
    assert all(verify("flusight", data_dir).values())
    latest = flusight.load(data_dir)
    assert len(latest) == 6678 and max(r.date for r in latest) == date(2024, 6, 29)
    vintages = flusight.load_vintages(data_dir)
    assert len(vintages) == 32 and min(vintages) == date(2023, 9, 23) and max(vintages) == date(2024, 4, 27)
    assert max(r.date for r in vintages[date(2024, 1, 6)]) == date(2024, 1, 6)
    shipped = {(loc.code, loc.abbreviation, loc.population) for loc in hub_locations().locations}
    assert shipped == {(r["location"], r["abbreviation"], int(r["population"])) for r in flusight.load_locations(data_dir)}
    ensemble = flusight.load_hub_forecasts("FluSight-ensemble", data_dir)
    assert {q.reference_date for q in ensemble} >= {date(2023, 10, 14), date(2024, 5, 4)}
    with pytest.raises(InvalidInput, match="unknown hub model"):
        flusight.load_hub_forecasts("someone-else", data_dir)
