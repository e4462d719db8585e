"""What the crisis screen returns: a risk level, the categories at risk, and the spans that caused them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Risk = Literal["none", "low", "moderate", "high", "imminent"]
Category = Literal["suicide_self_harm", "harm_to_others", "abuse", "medical_emergency"]
RISKS: tuple[Risk, ...] = ("none", "low", "moderate", "high", "imminent")
CATEGORIES: tuple[Category, ...] = ("suicide_self_harm", "harm_to_others", "abuse", "medical_emergency")
STOP_AT: Risk = "moderate"
"""Lowest risk at which the conversation flow stops and a crisis response is shown."""


def risk_rank(risk: str) -> int:
    """Position of ``risk`` in :data:`RISKS` (none = 0 ... imminent = 4)."""
    return RISKS.index(risk)  # type: ignore[arg-type]


def max_risk(*risks: str) -> Risk:
    """The highest of the given risk levels (``none`` for none)."""
    return RISKS[max((risk_rank(r) for r in risks), default=0)]


@dataclass(frozen=True)
class Evidence:
    """One reason for the result: a span of the message and the rule or model that fired on it."""

    start: int
    end: int
    text: str
    source: Literal["rule", "model", "questionnaire", "conversation"]
    rule: str
    category: Category
    risk: Risk
    kind: str = ""
    negated: bool = False
    probability: float | None = None


@dataclass(frozen=True)
class ScreenResult:
    """Outcome of screening one message (or a conversation so far)."""

    risk: Risk = "none"
    categories: tuple[Category, ...] = ()
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)

    @property
    def stop(self) -> bool:
        """Whether the flow must stop for a crisis response (risk moderate or above)."""
        return risk_rank(self.risk) >= risk_rank(STOP_AT)

    def to_dict(self) -> dict:
        """``{risk, categories, evidence}`` as plain JSON values."""
        return {"risk": self.risk, "categories": list(self.categories),
                "evidence": [{k: v for k, v in asdict(e).items() if v is not None} for e in self.evidence]}


def combine(results: list[ScreenResult]) -> ScreenResult:
    """The conservative union: highest risk, every category, all evidence (in order)."""
    categories = {c for r in results for c in r.categories}
    return ScreenResult(max_risk(*(r.risk for r in results)), tuple(c for c in CATEGORIES if c in categories),
                        tuple(e for r in results for e in r.evidence))
