"""Regularly spaced series side by side (weekly admissions, daily census): the input of every forecaster.

A :class:`Panel` holds ``values[i, t]`` for series ``ids[i]`` on ``dates[t] = start + t * step``.
A period a source does not report stays ``NaN``: gaps are never filled with zeros, and models
treat them as missing. :func:`build_panel` refuses duplicated dates, negative values, dates off
the grid and (when a list of known ids is given) unknown series, naming each problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from medai.errors import InvalidInput, Problem

MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Panel:
    """Series on one regular date grid; ``NaN`` marks a period with no report."""

    ids: tuple[str, ...]
    start: date
    step_days: int
    values: np.ndarray

    @property
    def n_times(self) -> int:
        """Number of periods on the grid."""
        return self.values.shape[1]

    @property
    def dates(self) -> list[date]:
        """The date of every period."""
        return [self.start + timedelta(days=self.step_days * t) for t in range(self.n_times)]

    @property
    def end(self) -> date:
        """The date of the last period."""
        return self.start + timedelta(days=self.step_days * (self.n_times - 1))

    def row(self, series_id: str) -> np.ndarray:
        """One series' values."""
        return self.values[self.ids.index(series_id)]

    def until(self, last: date) -> Panel:
        """The periods dated on or before ``last`` (what was known as of ``last``)."""
        keep = max(0, min(self.n_times, (last - self.start).days // self.step_days + 1))
        return Panel(self.ids, self.start, self.step_days, self.values[:, :keep])

    def since(self, first: date) -> Panel:
        """The periods dated on or after ``first`` (moved to the grid)."""
        skip = max(0, -(-(first - self.start).days // self.step_days))
        return Panel(self.ids, self.start + timedelta(days=skip * self.step_days), self.step_days, self.values[:, skip:])

    def select(self, ids: Sequence[str]) -> Panel:
        """Only the series ``ids``, in that order."""
        return Panel(tuple(ids), self.start, self.step_days, self.values[[self.ids.index(i) for i in ids]])

    def last_observed(self) -> np.ndarray:
        """Index of each series' last reported period (-1 when it has none)."""
        observed = ~np.isnan(self.values)
        last = self.n_times - 1 - np.argmax(observed[:, ::-1], axis=1)
        return np.where(observed.any(axis=1), last, -1)

    def value_on(self, series_id: str, when: date) -> float | None:
        """The value of one series on one date (``None`` when off the grid or not reported)."""
        offset = (when - self.start).days
        if offset % self.step_days or not 0 <= offset // self.step_days < self.n_times:
            return None
        value = self.row(series_id)[offset // self.step_days]
        return None if np.isnan(value) else float(value)


def build_panel(records: Iterable[tuple[str, date, float | None]], step_days: int, what: str = "data",
                known_ids: Sequence[str] | None = None) -> Panel:
    """A panel from ``(series id, date, value)`` records; ``None`` values and absent periods become ``NaN``.

    Raises :class:`InvalidInput` for duplicated (series, date) pairs, negative values, dates off the
    series' grid, and ids outside ``known_ids``; a problem names the series and date.
    """
    records = list(records)
    if not records:
        raise InvalidInput(Problem(what, "no rows to forecast from", "required"))
    problems: list[Problem] = []
    start = min(when for _, when, _ in records)
    end = max(when for _, when, _ in records)
    present = {series for series, _, _ in records}
    ids = [s for s in known_ids if s in present] if known_ids is not None else sorted(present)
    unknown = sorted(present - set(ids))
    if unknown:
        known_text = f"; known: {', '.join(known_ids)}" if known_ids is not None else ""
        raise InvalidInput(Problem(f"{what}: location", f"unknown location code(s) {', '.join(unknown[:10])}{known_text}",
                                   "code-invalid"))
    index = {series: i for i, series in enumerate(ids)}
    values = np.full((len(ids), (end - start).days // step_days + 1), np.nan)
    seen = np.zeros(values.shape, dtype=bool)
    for series, when, value in records:
        offset = (when - start).days
        where = f"{what}: {series} {when.isoformat()}"
        if offset % step_days:
            problems.append(Problem(where, f"date is off the {step_days}-day grid that starts {start.isoformat()}", "value"))
        elif seen[index[series], offset // step_days]:
            problems.append(Problem(where, "duplicated date (one row per series and date)", "value"))
        elif value is not None and value < 0:
            problems.append(Problem(where, f"negative value {value:g}", "value"))
        else:
            seen[index[series], offset // step_days] = True
            values[index[series], offset // step_days] = np.nan if value is None else value
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise InvalidInput(problems)
    return Panel(tuple(ids), start, step_days, values)
