"""Free-text prescription directions ("sigs") -> a FHIR R4 ``Dosage`` with the spans that drove it.

"1 tab PO BID x 7 days", "take 2 tablets by mouth every 6 hours as needed for pain", "qhs", "q8h",
"TID with meals", "once daily in the morning". Every recognised phrase is kept as a ``SigSpan`` (text,
offsets, meaning, source); abbreviations on the ISMP error-prone or Joint Commission Do Not Use lists
are read but produce a warning that says what to write instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from medai.assistant.reminders.vocabulary import Vocabulary, load_vocabulary

_NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
                 "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "fourteen": "14", "thirty": "30", "half": "0.5",
                 "½": "0.5"}
_WEEKDAYS = {"mon": "mon", "monday": "mon", "tue": "tue", "tues": "tue", "tuesday": "tue", "wed": "wed", "wednesday": "wed",
             "thu": "thu", "thur": "thu", "thurs": "thu", "thursday": "thu", "fri": "fri", "friday": "fri", "sat": "sat",
             "saturday": "sat", "sun": "sun", "sunday": "sun"}
_UNIT_OF_TIME = {"min": "min", "mins": "min", "minute": "min", "minutes": "min", "h": "h", "hr": "h", "hrs": "h", "hour": "h",
                 "hours": "h", "d": "d", "day": "d", "days": "d", "wk": "wk", "wks": "wk", "week": "wk", "weeks": "wk",
                 "mo": "mo", "mos": "mo", "month": "mo", "months": "mo"}
_UCUM_DISPLAY = {"min": "minutes", "h": "hours", "d": "days", "wk": "weeks", "mo": "months"}
_TIME_UNITS = "|".join(sorted(_UNIT_OF_TIME, key=len, reverse=True))
_B, _E = r"(?<![a-z0-9])", r"(?![a-z0-9])"
_NUM = r"\d+(?:\.\d+)?"
_FILLER = {"take", "takes", "give", "use", "apply", "inhale", "instill", "insert", "chew", "swallow", "by", "of", "and", "then",
           "a", "an", "the", "for", "to", "at", "in", "with", "up", "times", "time", "per", "each", "dose", "doses", "sig",
           "water", "full", "glass", "whole", "do", "not", "crush", "or", "as", "directed", "", "x", "until", "gone", "finished"}
GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"


@dataclass(frozen=True)
class SigSpan:
    """A recognised phrase: where it is in the sig, what it means, and the source of that meaning."""

    text: str
    start: int
    end: int
    kind: str  # dose, route, frequency, interval, event, clock, weekday, duration, count, as-needed
    meaning: str
    source: str | None = None


@dataclass
class ParsedSig:
    """The FHIR ``Dosage`` read from a sig, the spans behind it, warnings and the words left unread."""

    text: str
    dosage: dict
    spans: list[SigSpan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unrecognised: list[str] = field(default_factory=list)

    @property
    def has_timing(self) -> bool:
        """Whether the sig says when to take the medicine."""
        return "timing" in self.dosage

    def to_dict(self) -> dict:
        """A JSON-ready view."""
        return {"text": self.text, "dosage": self.dosage, "warnings": self.warnings, "unrecognised": self.unrecognised,
                "spans": [span.__dict__ for span in self.spans]}


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def _normalise(text: str) -> str:
    """Lower case with number words as digits; the length changes, so spans refer to this form."""
    lowered = text.lower().replace("\u00bd", " half")
    return re.sub(r"[a-z]+", lambda m: _NUMBER_WORDS.get(m.group(0), m.group(0)), lowered)


@lru_cache(maxsize=4)
def _term_pattern(terms: tuple[str, ...]) -> re.Pattern:
    alternatives = "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"{_B}(?:{alternatives}){_E}")


class _Reader:
    """Finds phrases left to right without reusing characters another phrase consumed."""

    def __init__(self, text: str):
        self.text = text
        self.used = [False] * len(text)
        self.spans: list[SigSpan] = []

    def find(self, pattern: re.Pattern) -> list[re.Match]:
        found = []
        for match in pattern.finditer(self.text):
            if match.end() > match.start() and not any(self.used[match.start():match.end()]):
                found.append(match)
                self.used[match.start():match.end()] = [True] * (match.end() - match.start())
        return found

    def add(self, match: re.Match, kind: str, meaning: str, source: str | None = None) -> None:
        self.spans.append(SigSpan(match.group(0), match.start(), match.end(), kind, meaning, source))

    def leftover(self) -> list[str]:
        rest = "".join(" " if used else ch for ch, used in zip(self.text, self.used))
        return [w for w in re.split(r"[\s,;:()/.\-]+", rest) if w not in _FILLER and not re.fullmatch(r"[\d.]+", w)]


def _vocabulary_terms(reader: _Reader, entries, kind: str, warnings: list[str]) -> list:
    """Vocabulary entries whose terms occur in the sig (longest phrase first)."""
    by_term = {term: entry for entry in entries for term in entry.terms}
    hits = []
    for match in reader.find(_term_pattern(tuple(by_term))):
        entry = by_term[re.sub(r"\s+", " ", match.group(0))]
        reader.add(match, kind, getattr(entry, "when", None) or getattr(entry, "code", None) or getattr(entry, "display", None)
                   or str(getattr(entry, "timing", "")), entry.citation.source)
        if entry.error_prone:
            warnings.append(f"{match.group(0)!r}: {entry.error_prone}")
        hits.append(entry)
    return hits


def _as_needed(reader: _Reader, vocabulary: Vocabulary) -> dict:
    terms = "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in sorted(vocabulary.as_needed.terms, key=len, reverse=True))
    pattern = re.compile(rf"{_B}(?:{terms}){_E}(?:(?:\s+(?:for|if))?\s+(?!\d|(?:every|each|q\d|max|up|not|daily|twice|once|take|with|at|and)\b)([a-z][a-z ]*?)(?=\s*(?:[,.;]|$|{_B}(?:every|q\d|x\s*\d|for\s+\d|up\s+to|max)))|)")
    matches = reader.find(pattern)
    if not matches:
        return {}
    match = matches[0]
    reason = (match.group(1) or "").strip()
    reader.add(match, "as-needed", f"as needed{' for ' + reason if reason else ''}", vocabulary.as_needed.citation.source)
    return {"asNeededCodeableConcept": {"text": reason}} if reason else {"asNeededBoolean": True}


def _interval(reader: _Reader) -> dict:
    pattern = re.compile(rf"{_B}(?:q|every|each)\s*({_NUM})(?:\s*(?:-|to)\s*({_NUM}))?\s*({_TIME_UNITS}){_E}")
    matches = reader.find(pattern)
    if not matches:
        return {}
    match = matches[0]
    unit = _UNIT_OF_TIME[match.group(3)]
    repeat = {"frequency": 1, "period": _number(match.group(1)), "periodUnit": unit}
    if match.group(2):
        repeat["periodMax"] = _number(match.group(2))
    reader.add(match, "interval", f"every {match.group(1)}{'-' + match.group(2) if match.group(2) else ''} {_UCUM_DISPLAY[unit]}",
               "HL7 FHIR R4 Timing (frequency 1 per period)")
    return repeat


def _clock_times(reader: _Reader) -> list[str]:
    pattern = re.compile(rf"{_B}(?:at\s+)?(\d{{1,2}})(?::(\d{{2}}))?\s*(a\.?m\.?|p\.?m\.?){_E}|{_B}(?:at\s+)?(\d{{1,2}}):(\d{{2}}){_E}")
    times = []
    for match in reader.find(pattern):
        if match.group(3):
            hour = int(match.group(1)) % 12 + (12 if match.group(3).startswith("p") else 0)
            minute = int(match.group(2) or 0)
        else:
            hour, minute = int(match.group(4)), int(match.group(5))
        if hour > 23 or minute > 59:
            continue
        times.append(f"{hour:02d}:{minute:02d}:00")
        reader.add(match, "clock", times[-1])
    return sorted(set(times))


def _weekdays(reader: _Reader) -> list[str]:
    names = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
    days = []
    for match in reader.find(re.compile(rf"{_B}(?:on\s+|every\s+)?({names})s?{_E}")):
        days.append(_WEEKDAYS[match.group(1)])
        reader.add(match, "weekday", days[-1])
    return [d for d in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] if d in days]


def _duration_and_count(reader: _Reader) -> dict:
    out: dict = {}
    for match in reader.find(re.compile(rf"{_B}(?:x|for|times|total\s+of)\s*({_NUM})\s*(doses?){_E}")):
        out["count"] = int(float(match.group(1)))
        reader.add(match, "count", f"{out['count']} doses in all")
    for match in reader.find(re.compile(rf"{_B}(?:x|for|times|during|over\s+the\s+next)\s*({_NUM})\s*({_TIME_UNITS}){_E}")):
        unit = _UNIT_OF_TIME[match.group(2)]
        out["boundsDuration"] = {"value": _number(match.group(1)), "unit": _UCUM_DISPLAY[unit], "system": UCUM, "code": unit}
        reader.add(match, "duration", f"for {match.group(1)} {_UCUM_DISPLAY[unit]}")
    return out


def _maximum(reader: _Reader) -> dict:
    pattern = re.compile(rf"{_B}(?:max|maximum|no\s+more\s+than|not\s+to\s+exceed)(?:\s+of)?\s*({_NUM})\s*([a-z]+\s+)?"
                         rf"(?:per|a|in|/|each)\s*(day|24\s*h(?:ours|rs)?){_E}")
    matches = reader.find(pattern)
    if not matches:
        return {}
    match = matches[0]
    reader.add(match, "maximum", f"at most {match.group(1)} per day")
    return {"maxDosePerPeriod": {"numerator": {"value": _number(match.group(1))},
                                 "denominator": {"value": 1, "unit": "day", "system": UCUM, "code": "d"}}}


def _dose(reader: _Reader, vocabulary: Vocabulary, warnings: list[str]) -> dict:
    by_term = {t: e for e in vocabulary.dose_units for t in e.terms}
    units = "|".join(re.escape(t) for t in sorted(by_term, key=len, reverse=True))
    pattern = re.compile(rf"{_B}({_NUM}|\d+/\d+)(?:\s*(?:-|to|or)\s*({_NUM}))?\s*({units}){_E}")
    matches = reader.find(pattern)
    if not matches:
        bare = reader.find(re.compile(rf"{_B}(?:take|give|inhale|use|instill|apply|chew)\s+({_NUM})(?:\s*(?:-|to|or)\s*({_NUM}))?{_E}"))
        if not bare:
            return {}
        match, unit = bare[0], None
    else:
        match = matches[0]
        entry = by_term[match.group(3)]
        unit = entry.unit
        if entry.error_prone:
            warnings.append(f"{match.group(3)!r}: {entry.error_prone}")
    low = match.group(1)
    value = float(low.split("/")[0]) / float(low.split("/")[1]) if "/" in low else float(low)
    def quantity(number: float) -> dict:
        return {"value": int(number) if number.is_integer() else number, **({"unit": unit} if unit else {})}

    if match.group(2):
        rate = {"doseRange": {"low": quantity(value), "high": quantity(float(match.group(2)))}}
        meaning = f"{value:g}-{float(match.group(2)):g} {unit or ''}".strip()
    else:
        rate = {"doseQuantity": quantity(value)}
        meaning = f"{value:g} {unit or ''}".strip()
    reader.add(match, "dose", meaning)
    return {"doseAndRate": [rate]}


def _timing(frequency_hits: list, interval: dict, event_hits: list, clock: list[str], weekdays: list[str], bounds: dict,
            vocabulary: Vocabulary, warnings: list[str]) -> dict | None:
    repeat: dict = {}
    code = None
    if interval:
        repeat.update(interval)
        if frequency_hits:
            warnings.append("both an interval and a frequency are written: the interval is used")
    elif frequency_hits:
        entry = frequency_hits[0]
        repeat.update(entry.timing)
        code = entry.code
        if len({str(h.timing) for h in frequency_hits}) > 1:
            warnings.append("more than one frequency is written: the first is used")
    when = list(dict.fromkeys(e.when for e in event_hits))
    if when and "frequency" in repeat and repeat.get("periodUnit") not in ("d", None) and repeat.get("periodUnit") != "wk":
        warnings.append("events (bedtime, meals) with an hourly interval: the interval is used")
        when = []
    if when:
        repeat["when"] = when
    if clock:
        repeat["timeOfDay"] = clock
        repeat.pop("when", None)
    if (when or clock) and "period" not in repeat and "count" not in repeat:
        per_day = len(clock) if clock else sum(max(1, len(vocabulary.event_clock(w))) for w in when)
        repeat.update({"frequency": per_day, "period": 1, "periodUnit": "d"})
    if weekdays:
        repeat["dayOfWeek"] = weekdays
        if "period" not in repeat:
            repeat.update({"frequency": 1, "period": 1, "periodUnit": "d"})
    if not repeat and "count" not in bounds:
        return None
    repeat.update(bounds)
    timing: dict = {"repeat": repeat}
    if code and not interval and not when and not clock:
        timing["code"] = {"coding": [{"system": GTS, "code": code}]}
    return timing


def parse_sig(text: str, vocabulary: Vocabulary | None = None) -> ParsedSig:
    """Read a free-text sig into a FHIR R4 ``Dosage`` (text, timing, asNeeded, route, dose) with its evidence."""
    vocabulary = vocabulary or load_vocabulary()
    reader = _Reader(_normalise(text))
    warnings: list[str] = []
    as_needed = _as_needed(reader, vocabulary)
    maximum = _maximum(reader)
    bounds = _duration_and_count(reader)
    interval = _interval(reader)
    clock = _clock_times(reader)
    dose = _dose(reader, vocabulary, warnings)
    frequency_hits = _vocabulary_terms(reader, vocabulary.frequencies, "frequency", warnings)
    event_hits = _vocabulary_terms(reader, vocabulary.events, "event", warnings)
    route_hits = _vocabulary_terms(reader, vocabulary.routes, "route", warnings)
    weekdays = _weekdays(reader)
    for entry in frequency_hits:
        if "count" in entry.timing:
            bounds.setdefault("count", entry.timing["count"])
    frequency_hits = [e for e in frequency_hits if "count" not in e.timing]
    dosage: dict = {"text": text.strip()}
    timing = _timing(frequency_hits, interval, event_hits, clock, weekdays, bounds, vocabulary, warnings)
    if timing is not None:
        dosage["timing"] = timing
    dosage.update(as_needed)
    if route_hits:
        route = route_hits[0]
        dosage["route"] = {"coding": [{"system": SNOMED, "code": route.code, "display": route.display}]}
    dosage.update(dose)
    dosage.update(maximum)
    spans = sorted(reader.spans, key=lambda s: s.start)
    return ParsedSig(text.strip(), dosage, spans, warnings, reader.leftover())
