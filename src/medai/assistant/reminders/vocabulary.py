"""The sig vocabulary (``assets/knowledge/assistant/sig_abbreviations.yaml``): validated, with citations."""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from medai.core.knowledge import Citation, parse_knowledge

FILE = "knowledge/assistant/sig_abbreviations.yaml"
EVENT_CODES = {"MORN", "MORN.early", "MORN.late", "NOON", "AFT", "AFT.early", "AFT.late", "EVE", "EVE.early", "EVE.late",
               "NIGHT", "PHS", "HS", "WAKE", "C", "CM", "CD", "CV", "AC", "ACM", "ACD", "ACV", "PC", "PCM", "PCD", "PCV"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Entry(_Strict):
    """Ways one meaning is written, where the meaning comes from, and the ISMP / Joint Commission warning if any."""

    terms: list[str] = Field(min_length=1)
    citation: Citation
    error_prone: str | None = None

    @field_validator("terms")
    @classmethod
    def _lower(cls, terms: list[str]) -> list[str]:
        return [t.lower() for t in terms]


class FrequencyEntry(Entry):
    """A frequency phrase and the ``Timing.repeat`` elements it stands for."""

    code: str | None = None
    timing: dict[str, int | str]


class EventEntry(Entry):
    """A phrase meaning a ``Timing.repeat.when`` event (bedtime, with meals ...)."""

    when: str

    @field_validator("when")
    @classmethod
    def _known(cls, when: str) -> str:
        if when not in EVENT_CODES:
            raise ValueError(f"{when!r} is not an R4 EventTiming code medai knows")
        return when


class RouteEntry(Entry):
    """A route phrase and its SNOMED CT code."""

    code: str
    display: str


class UnitEntry(Entry):
    """A dose-unit phrase and the unit shown to the patient."""

    unit: str


class ClockTable(_Strict):
    """Clock times (local, HH:MM) for EventTiming codes, with their source."""

    citation: Citation
    times: dict[str, list[time]]


class StandardTimes(_Strict):
    """Clock times for N doses a day, and the first dose of an every-N-hours order, with their source."""

    citation: Citation
    times: dict[int, list[time]]
    interval_anchor: time


class AsNeeded(_Strict):
    terms: list[str]
    citation: Citation


class Vocabulary(_Strict):
    """The whole sig vocabulary file."""

    version: str
    description: str
    sources: dict[str, Citation]
    frequencies: list[FrequencyEntry]
    events: list[EventEntry]
    event_times: ClockTable
    standard_times: StandardTimes
    routes: list[RouteEntry]
    dose_units: list[UnitEntry]
    as_needed: AsNeeded

    def event_clock(self, code: str) -> list[time]:
        """Default clock times of an EventTiming code (empty when medai has none, e.g. ``PCV`` unknown)."""
        return list(self.event_times.times.get(code, []))

    def standard_clock(self, doses_per_day: int) -> list[time] | None:
        """Institution-style clock times for ``doses_per_day`` doses, or None when the table has no row."""
        times = self.standard_times.times.get(doses_per_day)
        return sorted(times) if times else None


def load_vocabulary(path: str | Path | None = None) -> Vocabulary:
    """The shipped vocabulary (cached), or the file at ``path``; errors name the file and field."""
    if path is not None:
        return parse_knowledge(Path(path).read_text(encoding="utf-8"), Vocabulary, str(path))
    return _shipped()


@lru_cache(maxsize=1)
def _shipped() -> Vocabulary:
    text = resources.files("medai.assets").joinpath(FILE).read_text(encoding="utf-8")
    return parse_knowledge(text, Vocabulary, FILE)
