"""ILINet national weeks: MMWR week end dates, not-reported summers read as missing."""

from datetime import date

import pytest

from medai.datasets import ilinet
from medai.errors import InvalidInput

HEADER = ("PERCENTAGE OF VISITS FOR INFLUENZA-LIKE-ILLNESS REPORTED BY SENTINEL PROVIDERS\n"
          "REGION TYPE,REGION,YEAR,WEEK,% WEIGHTED ILI,%UNWEIGHTED ILI,AGE 0-4,AGE 25-49,AGE 25-64,AGE 5-24,AGE 50-64,AGE 65,"
          "ILITOTAL,NUM. OF PROVIDERS,TOTAL PATIENTS\n")


@pytest.mark.parametrize("year,week,end", [(1997, 40, date(1997, 10, 4)), (2024, 1, date(2024, 1, 6)),
                                           (2024, 26, date(2024, 6, 29)), (2021, 1, date(2021, 1, 9))])
def test_mmwr_week_end_dates(year, week, end):
    assert ilinet.mmwr_week_end(year, week) == end


def test_zero_patient_weeks_are_missing_not_zero():
    rows = ilinet.parse(HEADER + "National,X,1999,30,0,0,0,X,0,0,X,0,0,0,0\n"
                                 "National,X,2024,2,4.5,4.4,100,X,200,300,X,50,900,3000,20000\n")
    assert rows[0].weighted_ili is None and rows[0].ili_by_age == {"0-4": None, "5-24": None, "65": None}
    assert rows[1].weighted_ili == 4.5 and rows[1].ili_by_age["65"] == pytest.approx(100 * 50 / 20000)


def test_a_file_without_the_header_is_refused():
    with pytest.raises(InvalidInput, match="REGION TYPE"):
        ilinet.parse("YEAR,WEEK\n2024,1\n")


@pytest.mark.data
def test_reads_the_real_file(data_dir):
    weeks = ilinet.load(data_dir)
    assert len(weeks) == 1396 and weeks[-1].week_end == date(2024, 6, 29)
    assert all((b.week_end - a.week_end).days == 7 for a, b in zip(weeks, weeks[1:]))
    assert sum(w.weighted_ili is None for w in weeks) == 95
