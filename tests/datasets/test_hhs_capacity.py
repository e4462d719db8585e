"""The reduced HHS state capacity file: thousands separators, slashed dates, unsorted rows, empty fields."""

from datetime import date

import pytest

from medai.datasets import hhs_capacity
from medai.errors import InvalidInput
from tests.forecast.test_census import HHS_HEADER


def test_parses_separators_and_sorts_by_state_and_date():
    text = HHS_HEADER + '\nTX,2021/01/02,1,"5,000","4,100",,,30,,,1,1,0\nCA,2021/01/01,1,"2,000","1,500",10,1,50,300,4,1,1,3\n'
    days = hhs_capacity.parse(text)
    assert [(d.state, d.date) for d in days] == [("CA", date(2021, 1, 1)), ("TX", date(2021, 1, 2))]
    assert days[1].values["inpatient_beds_used"] == 4100 and days[1].values["covid_adult_admissions"] is None


def test_bad_numbers_are_named():
    with pytest.raises(InvalidInput, match="row 2, field inpatient_beds_used"):
        hhs_capacity.parse(HHS_HEADER + "\nCA,2021/01/01,1,10,many,,,,,,1,1,0\n")


@pytest.mark.data
def test_reads_the_real_file(data_dir):
    days = hhs_capacity.load(data_dir)
    assert len(days) == 26039 and len({d.state for d in days}) == 53
    assert min(d.date for d in days) == date(2020, 1, 1) and max(d.date for d in days) == date(2021, 6, 30)
    assert len({(d.state, d.date) for d in days}) == len(days)
