"""Panels and the flu task: gaps stay missing, bad rows are refused by name, as-of dates and vintages."""

from datetime import date, timedelta

import numpy as np
import pytest

from medai.datasets.flusight import WeeklyCount
from medai.errors import InvalidInput
from medai.forecast.panel import build_panel
from medai.forecast.task import Vintages, check_as_of, flu_panel, reference_date_for

from .conftest import START, flu_rows


def test_gaps_stay_missing_never_zero():
    panel = build_panel([("a", date(2024, 1, 6), 5.0), ("a", date(2024, 1, 20), 7.0), ("b", date(2024, 1, 13), None)], 7)
    assert panel.ids == ("a", "b") and panel.n_times == 3
    assert panel.values[0].tolist()[0] == 5.0 and np.isnan(panel.values[0, 1]) and panel.values[0, 2] == 7.0
    assert np.isnan(panel.values[1]).tolist() == [True, True, True]
    assert panel.last_observed().tolist() == [2, -1]


@pytest.mark.parametrize("records,fragment", [
    ([("a", date(2024, 1, 6), 5.0), ("a", date(2024, 1, 6), 6.0)], "a 2024-01-06: duplicated date"),
    ([("a", date(2024, 1, 6), -1.0)], "a 2024-01-06: negative value -1"),
    ([("a", date(2024, 1, 6), 1.0), ("a", date(2024, 1, 10), 1.0)], "off the 7-day grid"),
    ([], "no rows"),
])
def test_bad_records_are_named(records, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        build_panel(records, 7)


def test_unknown_locations_are_refused():
    rows = [WeeklyCount(START, "US", 1.0), WeeklyCount(START, "99", 2.0)]
    with pytest.raises(InvalidInput, match="unknown location code"):
        flu_panel(rows)


def test_week_ending_dates_must_be_saturdays():
    with pytest.raises(InvalidInput, match="must be Saturdays"):
        flu_panel([WeeklyCount(date(2024, 1, 3), "US", 1.0)])


def test_rows_after_the_as_of_date_are_not_used():
    rows = flu_rows(weeks=20)
    panel = flu_panel(rows, as_of=START + timedelta(weeks=9, days=3))
    assert panel.end == START + timedelta(weeks=9)
    with pytest.raises(InvalidInput, match="before the first week"):
        flu_panel(rows, as_of=START - timedelta(days=1))


def test_reference_date_is_the_saturday_ending_the_as_of_week():
    assert reference_date_for(date(2024, 1, 6)) == date(2024, 1, 6)      # a Saturday
    assert reference_date_for(date(2024, 1, 3)) == date(2024, 1, 6)      # Wednesday -> that week's Saturday
    assert reference_date_for(date(2024, 1, 7)) == date(2024, 1, 13)     # Sunday -> the next Saturday


def test_an_as_of_date_far_past_the_data_is_an_error():
    panel = flu_panel(flu_rows(weeks=20))
    check_as_of(panel, panel.end + timedelta(weeks=2))
    with pytest.raises(InvalidInput, match="3 weeks after the last week in the data"):
        check_as_of(panel, panel.end + timedelta(weeks=3))


def test_a_vintage_is_used_only_from_the_saturday_after_its_last_week():
    early, late = flu_rows(weeks=10), flu_rows(weeks=11, seed=5)
    vintages = Vintages({START + timedelta(weeks=9): early, START + timedelta(weeks=10): late})
    last_week_of_late = START + timedelta(weeks=10)
    assert vintages.available(last_week_of_late) == START + timedelta(weeks=9)          # published after it
    assert vintages.available(last_week_of_late + timedelta(days=6)) == START + timedelta(weeks=9)
    assert vintages.available(last_week_of_late + timedelta(days=7)) == last_week_of_late
    assert vintages.panel(last_week_of_late).end == START + timedelta(weeks=9)
    with pytest.raises(InvalidInput, match="no vintage was published"):
        vintages.available(START)
