"""Census inputs (CSV, the HHS layout, FHIR Encounters), census forecasts and their CSV output."""

import csv
import io
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest

from medai.core.records import Concept, Encounter
from medai.errors import InvalidInput
from medai.forecast.census import census_csv, census_from_encounters, parse_census_csv
from medai.forecast.predict import forecast_census

from .conftest import DAY0, census_model_for, census_text

HHS_HEADER = ("state,date,critical_staffing_shortage_today_yes,inpatient_beds,inpatient_beds_used,"
              "previous_day_admission_adult_covid_confirmed,previous_day_admission_pediatric_covid_confirmed,"
              "staffed_icu_adult_patients_confirmed_covid,total_adult_patients_hospitalized_confirmed_covid,"
              "total_pediatric_patients_hospitalized_confirmed_covid,inpatient_beds_utilization_numerator,"
              "inpatient_beds_utilization_denominator,deaths_covid")


def test_reads_the_census_layout_with_capacity_and_admissions():
    data = parse_census_csv(census_text(days=10))
    assert data.panel.ids == ("Ward A/inpatient", "Ward B/icu") and data.panel.n_times == 10
    assert data.capacity == {"Ward A/inpatient": 24.0, "Ward B/icu": 34.0}
    assert data.admissions is not None and data.admissions.ids == data.panel.ids


def test_reads_the_hhs_layout_with_thousands_separators_and_slashed_dates():
    text = (HHS_HEADER + '\nCA,2021/06/02,1,"2,000","1,500",10,1,50,300,4,"1,500","2,000",3\n'
            + 'CA,2021/06/01,1,"2,000","1,400",12,0,,310,5,"1,400","2,000",2\n')
    data = parse_census_csv(text, "hhs.csv")
    assert data.panel.ids == ("CA/icu_covid", "CA/inpatient") and data.panel.start == date(2021, 6, 1)
    assert data.panel.row("CA/inpatient").tolist() == [1400.0, 1500.0]
    assert np.isnan(data.panel.row("CA/icu_covid")[0]) and data.capacity == {"CA/inpatient": 2000.0}


@pytest.mark.parametrize("text,fragment", [
    ("date,location,census\n2024-01-01,A,5\n2024-01-01,A,6\n", "A/inpatient 2024-01-01: duplicated date"),
    ("date,location,census\n2024-01-01,A,-5\n", "negative value"),
    ("date,location,census\n2024-13-01,A,5\n", "row 2, field date"),
    ("date,location,census\n2024-01-01,A,many\n", "row 2, field census"),
    ("day,ward\n2024-01-01,A\n", "missing columns date, location, census"),
])
def test_bad_census_files_are_named(text, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        parse_census_csv(text)


def test_missing_days_stay_missing():
    data = parse_census_csv("date,location,census\n2024-01-01,A,5\n2024-01-03,A,7\n")
    assert np.isnan(data.panel.values[0, 1]) and data.panel.values[0].tolist()[::2] == [5.0, 7.0]


def _encounter(ident, start, end=None, status="finished", location="Ward 7B", klass="IMP"):
    return Encounter(id=ident, patient_id="p", status=status, class_code=klass, location=location,
                     start=datetime.combine(start, datetime.min.time(), timezone.utc) + timedelta(hours=10),
                     end=None if end is None else datetime.combine(end, datetime.min.time(), timezone.utc) + timedelta(hours=9))


def test_midnight_census_from_encounters_by_hand():
    encounters = [
        _encounter("a", DAY0, DAY0 + timedelta(days=2)),                         # in at midnight of day 1 and day 2
        _encounter("b", DAY0 + timedelta(days=1), None, status="in-progress"),   # in from midnight of day 2 on
        _encounter("c", DAY0, DAY0 + timedelta(days=1), location="Main ICU"),    # the ICU series: midnight of day 1
        _encounter("d", DAY0, None, status="finished"),                          # no end and finished: skipped
        _encounter("e", DAY0, DAY0 + timedelta(days=3), klass="AMB"),            # outpatient: skipped
    ]
    encounters[2].type.append(Concept(text="critical care"))
    data = census_from_encounters(encounters, DAY0, DAY0 + timedelta(days=3), site="General")
    assert data.panel.ids == ("General/icu", "General/inpatient")
    assert data.panel.row("General/inpatient").tolist() == [0, 1, 2, 1]
    assert data.panel.row("General/icu").tolist() == [0, 1, 0, 0]
    assert data.admissions.row("General/inpatient").tolist() == [1, 1, 0, 0]


def test_census_forecast_and_its_csv():
    data = parse_census_csv(census_text())
    model = census_model_for(data)
    as_of = data.panel.end
    forecast = forecast_census(data, as_of, 7, model)
    assert forecast.horizons == tuple(range(1, 8)) and forecast.target_date(1) == as_of + timedelta(days=1)
    rows = list(csv.DictReader(io.StringIO(census_csv(forecast))))
    assert len(rows) == 2 * 7 * 23 and rows[0]["location"] == "Ward A" and rows[0]["unit"] == "inpatient"
    with pytest.raises(InvalidInput, match="horizon"):
        forecast_census(data, as_of, 15, model)
    with pytest.raises(InvalidInput, match="days after the last day"):
        forecast_census(data, as_of + timedelta(days=5), 7, model)
