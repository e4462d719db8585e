"""FHIR R4 ``Timing`` -> the concrete dose times inside a window.

Handles ``event``, ``code`` (BID, TID, Q4H ...) and ``repeat``: ``frequency`` / ``period`` / ``periodUnit``
(s, min, h, d, wk, mo, a), ``timeOfDay``, ``when`` (+ ``offset``), ``dayOfWeek``, ``boundsDuration`` /
``boundsPeriod`` / ``boundsRange`` and ``count``. Clock times are the patient's local times (``tz``); when
the order names none, the institution-style times of the sig vocabulary are used (09:00, 09:00 + 21:00 ...).
An every-N-hours order whose N divides 24 follows a fixed daily grid from the vocabulary's anchor (06:00),
any other interval runs on from the start of therapy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from medai.assistant.reminders.vocabulary import Vocabulary, load_vocabulary

_SUBDAILY = {"s": timedelta(seconds=1), "min": timedelta(minutes=1), "h": timedelta(hours=1)}
_DAYS = {"d": 1, "wk": 7}
_MONTHS = {"mo": 1, "a": 12}
_WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MAX_DOSES = 5000


@dataclass
class TimingResult:
    """Dose times in the window, or the reason there are none; notes on choices made (default clock times ...)."""

    times: list[datetime] = field(default_factory=list)
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    bounds_end: datetime | None = None


def parse_datetime(value: str, tz: ZoneInfo | timezone = timezone.utc) -> datetime:
    """A FHIR date or dateTime as an aware datetime (dates and naive values are read in ``tz``)."""
    if len(value) == 4:
        value += "-01-01"
    elif len(value) == 7:
        value += "-01"
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def duration_delta(quantity: dict, start: datetime) -> timedelta | None:
    """A FHIR Duration (value + UCUM unit) as the time it spans from ``start``; None for unknown units."""
    value, unit = quantity.get("value"), quantity.get("code") or quantity.get("unit")
    if value is None or unit is None:
        return None
    unit = {"hour": "h", "hours": "h", "day": "d", "days": "d", "week": "wk", "weeks": "wk", "month": "mo",
            "months": "mo", "year": "a", "years": "a", "minute": "min", "minutes": "min"}.get(str(unit).lower(), unit)
    if unit in _SUBDAILY:
        return _SUBDAILY[unit] * float(value)
    if unit in _DAYS:
        return timedelta(days=_DAYS[unit] * float(value))
    if unit in _MONTHS:
        return add_months(start, round(_MONTHS[unit] * float(value))) - start
    return None


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus whole calendar months (the day is clipped to the month's last day)."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


def _clock(value: str) -> time:
    return time.fromisoformat(value)


def _pick(times: list[time], count: int) -> list[time]:
    """``count`` of ``times`` spread evenly (first and last kept): BID with meals -> breakfast and dinner."""
    if count >= len(times):
        return times
    if count == 1:
        return [times[0]]
    return [times[round(i * (len(times) - 1) / (count - 1))] for i in range(count)]


def _daily_clock(repeat: dict, per_day: int | None, vocabulary: Vocabulary, notes: list[str]) -> list[time] | None:
    """Clock times on a dose day: timeOfDay, else ``when`` events, else the standard times for ``per_day`` doses."""
    if repeat.get("timeOfDay"):
        return sorted({_clock(t) for t in repeat["timeOfDay"]})
    if repeat.get("when"):
        offset = timedelta(minutes=int(repeat.get("offset") or 0))
        times: list[time] = []
        for code in repeat["when"]:
            clock = vocabulary.event_clock(code)
            if not clock:
                notes.append(f"event {code!r} has no default clock time")
            times += [(datetime.combine(date(2000, 1, 1), t) + offset).time() for t in clock]
        times = sorted(set(times))
        if times and per_day and per_day < len(times):
            notes.append(f"{per_day} dose(s) a day at {'/'.join(repeat['when'])}: using {len(_pick(times, per_day))} of its times")
            return _pick(times, per_day)
        if times and (not per_day or per_day == len(times)):
            return times
        if times:
            notes.append(f"{per_day} doses a day but {'/'.join(repeat['when'])} names {len(times)} time(s): standard times used")
    standard = vocabulary.standard_clock(per_day or 1)
    if standard is not None:
        notes.append(f"no clock times in the order: standard times {', '.join(t.strftime('%H:%M') for t in standard)}")
    return standard


def _grid(interval: timedelta, anchor: time) -> list[time] | None:
    """The daily clock grid of an every-N-hours order when N divides a day, else None."""
    day = timedelta(days=1)
    if interval <= timedelta(0) or interval < timedelta(minutes=15) or day % interval:
        return None
    first = datetime.combine(date(2000, 1, 1), anchor)
    return sorted({(first + k * interval).time() for k in range(day // interval)})


def _days(first: date, step_days: int, weekdays: set[int] | None) -> Iterator[date]:
    day = first
    while True:
        if weekdays is None or day.weekday() in weekdays:
            yield day
        day += timedelta(days=step_days if weekdays is None else 1)


def _calendar_doses(days: Iterator[date], clock: list[time], tz, lower: datetime, upper: datetime) -> Iterator[datetime]:
    for day in days:
        if datetime.combine(day, time(0), tzinfo=tz) >= upper:
            return
        for t in clock:
            moment = datetime.combine(day, t, tzinfo=tz)
            if lower <= moment < upper:
                yield moment


def _first_day(bounds_start: datetime, clock: time, tz) -> date:
    """The first dose day of a cycle: the start day, or the next day when its dose time has already passed."""
    first = bounds_start.astimezone(tz).date()
    return first if datetime.combine(first, clock, tzinfo=tz) >= bounds_start else first + timedelta(days=1)


def _start_day(bounds_start: datetime, window_start: datetime, step_days: int, tz, counted: bool,
               clock: time | None = None) -> date:
    """The first dose day to enumerate: the therapy's first day, or the first day of the cycle in the window."""
    first = _first_day(bounds_start, clock, tz) if clock is not None and step_days > 1 else bounds_start.astimezone(tz).date()
    if counted or window_start <= bounds_start:
        return first
    skip = (window_start.astimezone(tz).date() - first).days // step_days
    return first + timedelta(days=max(0, skip - 1) * step_days)


def _repeat_doses(repeat: dict, bounds_start: datetime, window_start: datetime, upper: datetime, tz,
                  vocabulary: Vocabulary, notes: list[str]) -> Iterator[datetime] | str:
    """Every dose from therapy start (or the window's cycle) up to ``upper``; a reason string when it cannot."""
    frequency = int(repeat.get("frequency") or 1)
    stated = repeat.get("frequency") is not None
    if repeat.get("frequencyMax"):
        notes.append(f"frequency {frequency}-{repeat['frequencyMax']}: reminders use the lower {frequency}")
    period, unit = repeat.get("period"), repeat.get("periodUnit")
    weekdays = {_WEEKDAYS.index(d) for d in repeat.get("dayOfWeek") or []} or None
    counted = repeat.get("count") is not None
    if period is None:
        if counted and repeat.get("count") == 1:
            return iter([bounds_start])
        if repeat.get("timeOfDay") or repeat.get("when") or weekdays:
            period, unit = 1, "d"
        else:
            return "Timing.repeat has no period (how often is not stated)"
    if unit not in _SUBDAILY and unit not in _DAYS and unit not in _MONTHS:
        return f"Timing.repeat.periodUnit {unit!r} is not a UCUM unit of time (s, min, h, d, wk, mo, a)"
    if repeat.get("periodMax"):
        notes.append(f"period {period}-{repeat['periodMax']} {unit}: reminders use the shorter {period} {unit}")
    if float(period) <= 0:
        return "Timing.repeat.period must be positive"
    if unit in _SUBDAILY:
        interval = _SUBDAILY[unit] * float(period) / frequency
        grid = _grid(interval, vocabulary.standard_times.interval_anchor)
        if grid is not None:
            if interval >= timedelta(hours=1):
                notes.append(f"every {interval.total_seconds() / 3600:g} h on a daily grid from "
                             f"{vocabulary.standard_times.interval_anchor.strftime('%H:%M')}")
            days = _days(_start_day(bounds_start, window_start, 1, tz, counted), 1, weekdays)
            return _calendar_doses(days, grid, tz, bounds_start, upper)
        if interval < timedelta(minutes=15):
            return f"every {interval} is too frequent for reminders (continuous administration)"
        skip = 0 if counted or window_start <= bounds_start else int((window_start - bounds_start) / interval)
        return (bounds_start + k * interval for k in range(skip, skip + MAX_DOSES) if bounds_start + k * interval < upper)
    if unit in _DAYS and (weekdays or frequency == 1 or (_DAYS[unit] * float(period) == 1)):
        step = round(_DAYS[unit] * float(period))
        if weekdays and unit == "wk" and period != 1:
            notes.append("dayOfWeek with a multi-week period: every listed day is used")
        per_day = frequency if (step == 1 or weekdays and unit == "d") else 1
        if not stated:
            per_day = None  # "at bedtime and with meals": a dose at each named event
        clock = _daily_clock(repeat, per_day, vocabulary, notes)
        if clock is None:
            interval = timedelta(days=1) / frequency
            clock = _grid(interval, vocabulary.standard_times.interval_anchor)
            if clock is None:
                return f"{frequency} doses a day do not fit a daily clock grid"
            notes.append(f"{frequency} doses a day: every {interval.total_seconds() / 3600:g} h")
        if step < 1:
            return f"period {period} {unit} is shorter than a day; give it in hours"
        days = _days(_start_day(bounds_start, window_start, step if not weekdays else 1, tz, counted, clock[0]),
                     1 if weekdays else step, weekdays)
        return _calendar_doses(days, clock, tz, bounds_start, upper)
    # several doses spread over days, weeks, months or years: evenly spaced day offsets from the start
    span_days = (_DAYS[unit] * float(period)) if unit in _DAYS else None
    clock = _daily_clock(repeat, 1, vocabulary, notes) or [time(9)]
    return _spread(bounds_start, window_start, upper, tz, frequency, span_days, _MONTHS.get(unit, 0) * float(period), clock, counted)


def _spread(bounds_start: datetime, window_start: datetime, upper: datetime, tz, frequency: int, span_days: float | None,
            span_months: float, clock: list[time], counted: bool) -> Iterator[datetime]:
    """``frequency`` doses per cycle (days, or calendar months), each on an evenly spaced day at ``clock[0]``."""
    first_day = datetime.combine(_first_day(bounds_start, clock[0], tz), time(0), tzinfo=tz)
    cycle = 0
    while True:
        cycle_start = first_day + timedelta(days=span_days * cycle) if span_days else add_months(first_day, round(span_months * cycle))
        cycle_end = first_day + timedelta(days=span_days * (cycle + 1)) if span_days else add_months(first_day, round(span_months * (cycle + 1)))
        if cycle_start >= upper:
            return
        cycle += 1
        if not counted and cycle_end < window_start:
            continue
        length = (cycle_end - cycle_start).days
        for i in range(frequency):
            day = (cycle_start + timedelta(days=round(i * length / frequency))).date()
            moment = datetime.combine(day, clock[0], tzinfo=tz)
            if bounds_start <= moment < upper:
                yield moment


def _bounds(timing_repeat: dict, therapy_start: datetime, tz) -> tuple[datetime, datetime | None, str | None]:
    start, end = therapy_start, None
    if period := timing_repeat.get("boundsPeriod"):
        start = parse_datetime(period["start"], tz) if period.get("start") else therapy_start
        end = parse_datetime(period["end"], tz) if period.get("end") else None
        if end is not None and len(period["end"]) == 10:
            end += timedelta(days=1)  # an end date includes that whole day
    elif duration := (timing_repeat.get("boundsDuration") or (timing_repeat.get("boundsRange") or {}).get("high")):
        delta = duration_delta(duration, start)
        if delta is None:
            return start, None, f"bounds duration unit {duration.get('code') or duration.get('unit')!r} is not a unit of time"
        end = start + delta
    return start, end, None


def expand_timing(timing: dict, window_start: datetime, window_end: datetime, therapy_start: datetime,
                  tz: ZoneInfo | timezone = timezone.utc, vocabulary: Vocabulary | None = None) -> TimingResult:
    """The dose times of ``timing`` in ``[window_start, window_end)``, therapy starting at ``therapy_start``.

    ``count`` is counted from the start of therapy, bounds clip the course; a result with no times carries
    the reason (e.g. the course ended before the window, no period given).
    """
    vocabulary = vocabulary or load_vocabulary()
    result = TimingResult()
    times: set[datetime] = set()
    for event in timing.get("event") or []:
        moment = parse_datetime(event, tz)
        if window_start <= moment < window_end:
            times.add(moment)
    repeat = dict(timing.get("repeat") or {})
    code = ((timing.get("code") or {}).get("coding") or [{}])[0].get("code") or (timing.get("code") or {}).get("text")
    if not repeat and code:
        known = next((f for f in vocabulary.frequencies if f.code and f.code.lower() == str(code).lower()), None)
        interval = str(code).upper()
        if known is not None:
            repeat = dict(known.timing)
        elif interval.startswith("Q") and interval.endswith("H") and interval[1:-1].isdigit():
            repeat = {"frequency": 1, "period": int(interval[1:-1]), "periodUnit": "h"}
        elif interval in ("AM", "PM"):
            repeat = {"when": ["MORN" if interval == "AM" else "AFT"]}
        else:
            result.reason = f"Timing.code {code!r} is not a timing abbreviation medai knows"
            return result
        result.notes.append(f"from Timing.code {code}")
    if not repeat:
        result.times = sorted(times)
        if not times:
            result.reason = "Timing has no repeat, code or event in the window" if not timing.get("event") else "no Timing.event in the window"
        return result
    bounds_start, bounds_end, problem = _bounds(repeat, therapy_start, tz)
    if problem:
        result.reason = problem
        return result
    result.bounds_end = bounds_end
    upper = min(window_end, bounds_end) if bounds_end else window_end
    doses = _repeat_doses(repeat, bounds_start, window_start, upper, tz, vocabulary, result.notes)
    if isinstance(doses, str):
        result.reason = doses
        return result
    count = repeat.get("count")
    for index, moment in enumerate(doses):
        if count is not None and index >= int(count) or index >= MAX_DOSES * 4:
            break
        if moment >= upper:
            break
        if moment >= window_start:
            times.add(moment)
    result.times = sorted(times)
    if not result.times:
        if bounds_end is not None and bounds_end <= window_start:
            result.reason = f"the course ended on {bounds_end.date().isoformat()}, before the window"
        elif count is not None and window_start > bounds_start:
            result.reason = f"all {count} doses fall before the window"
        else:
            result.reason = "no dose falls in the window"
    return result
