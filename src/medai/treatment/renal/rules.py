"""The renal dosing rule table (``renal_drugs.yaml``): schema, dose strings, and lookup of a drug's regimen."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from medai.errors import InvalidInput, Problem
from medai.treatment.knowledge import Citation, KnowledgeFile, Strict, load_knowledge

_AMOUNT = r"(?P<low>\d+(?:\.\d+)?)(?:-(?P<high>\d+(?:\.\d+)?))?\s*(?P<unit>mg/kg|mcg|mg|g)"
_INTERVAL = r"(?:q(?P<every>\d+(?:\.\d+)?)(?P<every_unit>h|d|wk)|(?P<times>\d+)x/wk)"
DOSE_PATTERN = re.compile(rf"^(?:{_AMOUNT}|(?P<percent>\d+(?:\.\d+)?)%)(?:\s+{_INTERVAL})?$")


class Dose(Strict):
    """A parsed dose: an amount (or range) with unit, or a percentage of the current dose; and an interval."""

    model_config = ConfigDict(frozen=True)
    text: str
    low: float | None = None
    high: float | None = None
    unit: str | None = None
    percent: float | None = None
    frequency: int | None = None
    period: float | None = None
    period_unit: Literal["h", "d", "wk"] | None = None

    @classmethod
    def parse(cls, text: str) -> Dose:
        """Parse ``'75 mg q12h'``, ``'200-700 mg q24h'``, ``'15 mg/kg 3x/wk'``, ``'50% q12h'`` or ``'50%'``."""
        match = DOSE_PATTERN.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not a dose such as '75 mg q12h', '250-500 mg q12h' or '50%'")
        g = match.groupdict()
        if g["percent"] is None and g["every"] is None and g["times"] is None:
            raise ValueError(f"{text!r}: an absolute dose needs an interval (q<N>h, q<N>d, q<N>wk or <n>x/wk)")
        frequency, period, unit = None, None, None
        if g["every"]:
            frequency, period, unit = 1, float(g["every"]), g["every_unit"]
        elif g["times"]:
            frequency, period, unit = int(g["times"]), 1.0, "wk"
        low = float(g["low"]) if g["low"] else None
        return cls(text=text, low=low, high=float(g["high"]) if g["high"] else low, unit=g["unit"],
                   percent=float(g["percent"]) if g["percent"] else None, frequency=frequency, period=period,
                   period_unit=unit)

    def per_day(self) -> float | None:
        """Administrations per day, when an interval is given."""
        if self.period is None:
            return None
        days = {"h": 1 / 24, "d": 1.0, "wk": 7.0}[self.period_unit] * self.period
        return self.frequency / days


class Band(Strict):
    """One range of kidney function and what to do in it; bounds as the source words them."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    action: Literal["usual", "adjust", "avoid", "contraindicated"]
    dose: Dose | None = None
    text: str | None = None

    @field_validator("dose", mode="before")
    @classmethod
    def _parse_dose(cls, value: object) -> object:
        return Dose.parse(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> Band:
        if self.ge is not None and self.gt is not None or self.le is not None and self.lt is not None:
            raise ValueError("give at most one lower bound (ge/gt) and one upper bound (le/lt)")
        if (self.action == "adjust") != (self.dose is not None):
            raise ValueError("a dose is required for action 'adjust' and only for it")
        return self

    @property
    def lower(self) -> tuple[float, bool]:
        """(value, inclusive) of the lower bound; (0, True) when open."""
        return (self.ge, True) if self.ge is not None else (self.gt, False) if self.gt is not None else (0.0, True)

    @property
    def upper(self) -> tuple[float, bool]:
        """(value, inclusive) of the upper bound; (inf, False) when open."""
        return (self.le, True) if self.le is not None else (self.lt, False) if self.lt is not None else (float("inf"), False)

    def contains(self, value: float) -> bool:
        """Whether a kidney-function value falls in this band."""
        (lo, lo_in), (hi, hi_in) = self.lower, self.upper
        return (value >= lo if lo_in else value > lo) and (value <= hi if hi_in else value < hi)

    def describe(self, unit: str) -> str:
        """The band in words, e.g. '15 <= CrCl < 30 mL/min'."""
        (lo, lo_in), (hi, hi_in) = self.lower, self.upper
        left = f"{lo:g} {'<=' if lo_in else '<'} " if lo > 0 or not lo_in else ""
        right = f" {'<=' if hi_in else '<'} {hi:g}" if hi != float("inf") else ""
        return f"{left}{unit}{right}".strip()


class Regimen(Strict):
    """The rules for one drug regimen."""

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    drug: str
    match: list[str] = Field(min_length=1)
    indication: str
    measure: Literal["crcl", "egfr"]
    usual: Dose
    citations: list[Citation] = Field(min_length=1)
    bands: list[Band] = Field(min_length=1)

    @field_validator("usual", mode="before")
    @classmethod
    def _parse_usual(cls, value: object) -> object:
        return Dose.parse(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _tiles(self) -> Regimen:
        bands = sorted(self.bands, key=lambda b: (b.lower[0], not b.lower[1]))
        if bands[0].lower != (0.0, True):
            raise ValueError(f"{self.id}: the lowest band must start at 0")
        for below, above in zip(bands, bands[1:]):
            (hi, hi_in), (lo, lo_in) = below.upper, above.lower
            if hi != lo or hi_in == lo_in:
                raise ValueError(f"{self.id}: bands must meet exactly once at each bound (gap or overlap at {hi} / {lo})")
        if bands[-1].upper[0] != float("inf"):
            raise ValueError(f"{self.id}: the highest band must be open above")
        return self

    def band_for(self, value: float) -> Band:
        """The band a kidney-function value falls in."""
        return next(b for b in self.bands if b.contains(value))

    def matches(self, medication_text: str) -> bool:
        """Whether a medication name/text names this drug (all words of one ``match`` phrase present)."""
        words = set(re.findall(r"[a-z0-9]+", medication_text.lower()))
        return any(all(w in words for w in re.findall(r"[a-z0-9]+", phrase.lower())) for phrase in self.match)


class RenalRules(KnowledgeFile):
    """Schema of ``renal_drugs.yaml``."""

    regimens: list[Regimen] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> RenalRules:
        ids = [r.id for r in self.regimens]
        if len(ids) != len(set(ids)):
            raise ValueError("regimen ids must be unique")
        return self


def rules() -> RenalRules:
    """The shipped renal rule table."""
    return load_knowledge("renal_drugs.yaml", RenalRules)


def find_regimens(medication_text: str) -> list[Regimen]:
    """Every regimen whose drug the medication text names (several when the drug has several regimens)."""
    return [r for r in rules().regimens if r.matches(medication_text)]


def choose_regimen(medication_text: str, current: Dose | None = None, regimen_id: str | None = None) -> Regimen:
    """The regimen for a medication: by id, else the only match, else the one whose usual dose equals ``current``.

    Raises :class:`InvalidInput` for an unknown drug or an ambiguous choice, listing what is known.
    """
    if regimen_id is not None:
        chosen = [r for r in rules().regimens if r.id == regimen_id]
        if not chosen:
            raise InvalidInput(Problem("regimen", f"unknown regimen {regimen_id!r}", "not-found"))
        return chosen[0]
    candidates = find_regimens(medication_text)
    if not candidates:
        raise InvalidInput(Problem("medication", f"{medication_text!r} is not in the renal dosing table "
                                   f"({len(rules().regimens)} regimens); no renal recommendation is made", "not-supported"))
    if len(candidates) == 1:
        return candidates[0]
    if current is not None:
        same = [r for r in candidates if (r.usual.low, r.usual.unit, r.usual.per_day()) == (current.low, current.unit, current.per_day())]
        if len(same) == 1:
            return same[0]
    choices = ", ".join(f"{r.id} ({r.usual.text})" for r in candidates)
    raise InvalidInput(Problem("regimen", f"{medication_text!r} has several regimens; choose one of: {choices}", "required"))
