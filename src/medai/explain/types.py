"""What an explanation is made of, independent of the method that produced it."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FeatureContribution(BaseModel):
    """How much one input moved the prediction (points, log-odds or probability units)."""

    feature: str
    value: float | str | None = None
    unit: str | None = None
    contribution: float
    note: str | None = None


class EvidenceSpan(BaseModel):
    """A span of text that caused a finding (for notes)."""

    start: int
    end: int
    text: str
    label: str


class Explanation(BaseModel):
    """The explanation attached to a prediction: method, summary and its parts."""

    method: str = Field(description="e.g. 'rule points', 'SHAP', 'integrated gradients'.")
    summary: str
    contributions: list[FeatureContribution] = Field(default_factory=list)
    evidence: list[EvidenceSpan] = Field(default_factory=list)
    caveats: list[str] = Field(default_factory=list)
