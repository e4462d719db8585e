"""The outbreak-forecast task: hub target rows -> a weekly panel as known on the as-of date.

Dates and horizons follow the FluSight hub. Weeks end on Saturdays (MMWR weeks). A forecast made
as of date D has the *reference date* R = the Saturday on or after D; horizon h (0-3) forecasts
the week ending R + 7h. Only rows dated on or before D are used. In the hub, data for the week
ending R - 7 are the newest when R's forecasts are due, so horizon 0 is one week past the data;
when the input already holds the week ending R, horizon 0 is that observed value.

Vintages: a vintage holds the series as published after the week it is named after (its last
week, V). It is taken to be available from V + 7 days, the hub's next reference date (NHSN
released it mid-week), so a forecast as of D never sees a vintage published after D.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from medai.datasets.flusight import WeeklyCount
from medai.errors import InvalidInput, Problem
from medai.forecast.knowledge import hub_locations
from medai.forecast.panel import Panel, build_panel

SATURDAY = 5
HORIZONS = (0, 1, 2, 3)
VINTAGE_AVAILABLE_AFTER_DAYS = 7
MAX_DATA_LAG_WEEKS = 2
"""The newest data may end at most this many weeks before the reference date (else the as-of date is past the data)."""


def reference_date_for(as_of: date) -> date:
    """The hub reference date of a forecast made on ``as_of``: the Saturday on or after it."""
    return as_of + timedelta(days=(SATURDAY - as_of.weekday()) % 7)


def location_codes() -> list[str]:
    """Every hub location code (US first, then states, DC and PR by FIPS code)."""
    return [location.code for location in hub_locations().locations]


def flu_panel(rows: Iterable[WeeklyCount], as_of: date | None = None, what: str = "target data") -> Panel:
    """The weekly admissions panel from rows dated on or before ``as_of`` (all rows when ``None``).

    Raises ``InvalidInput`` for week-ending dates that are not Saturdays, duplicated location-weeks,
    negative counts, unknown locations, and when no row is left on or before ``as_of``.
    """
    rows = list(rows)
    not_saturday = sorted({r.date for r in rows if r.date.weekday() != SATURDAY})
    if not_saturday:
        raise InvalidInput(Problem(f"{what}: date", "week-ending dates must be Saturdays (MMWR weeks); got "
                                   + ", ".join(d.isoformat() for d in not_saturday[:5]), "value"))
    kept = [r for r in rows if as_of is None or r.date <= as_of]
    if rows and not kept:
        first = min(r.date for r in rows)
        raise InvalidInput(Problem("as_of", f"{as_of} is before the first week in the data ({first})", "value"))
    return build_panel(((r.location, r.date, r.value) for r in kept), 7, what, known_ids=location_codes())


def check_as_of(panel: Panel, reference_date: date) -> None:
    """Refuse an as-of date far past the data: the newest week must end within ``MAX_DATA_LAG_WEEKS`` of the reference date."""
    lag_weeks = (reference_date - panel.end).days // 7
    if lag_weeks > MAX_DATA_LAG_WEEKS:
        raise InvalidInput(Problem("as_of", f"reference date {reference_date} is {lag_weeks} weeks after the last week in the "
                                   f"data ({panel.end}); at most {MAX_DATA_LAG_WEEKS} are allowed. Pass newer data or an "
                                   "earlier as-of date", "value"))


@dataclass(frozen=True)
class Vintages:
    """Weekly as-of versions of the target series, keyed by their last week."""

    versions: Mapping[date, list[WeeklyCount]]

    def available(self, as_of: date) -> date:
        """The newest vintage published by ``as_of``."""
        usable = [v for v in self.versions if v + timedelta(days=VINTAGE_AVAILABLE_AFTER_DAYS) <= as_of]
        if not usable:
            first = min(self.versions)
            raise InvalidInput(Problem("as_of", f"no vintage was published by {as_of}; the first ({first}) became "
                                       f"available on {first + timedelta(days=VINTAGE_AVAILABLE_AFTER_DAYS)}", "value"))
        return max(usable)

    def panel(self, as_of: date) -> Panel:
        """The panel as it was known on ``as_of`` (the newest vintage published by then)."""
        vintage = self.available(as_of)
        return flu_panel(self.versions[vintage], as_of, what=f"vintage {vintage}")
