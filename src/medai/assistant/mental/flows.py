"""The flow definitions (``assets/knowledge/assistant/mental/flows.yaml``): pydantic schema and scoring."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from medai.assistant.safety.knowledge import Citation, Strict, load_assistant_knowledge

FILE = "mental/flows.yaml"


class Option(Strict):
    """One answer of a choice step."""

    label: str = Field(min_length=1)
    value: int


class Step(Strict):
    """One question or instruction of a flow."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["text", "scale", "choice", "info", "distortion", "topic"]
    prompt: str = Field(min_length=3)
    options: list[Option] = Field(default_factory=list)
    min: int | None = None
    max: int | None = None
    optional: bool = False
    safety_item: bool = Field(default=False, description="A choice whose value > 0 raises the safety layer.")
    source: str | None = Field(default=None, description="For a distortion step: the step whose answer is analysed.")

    @model_validator(mode="after")
    def _kind_fields(self) -> Step:
        if self.kind == "choice" and len(self.options) < 2:
            raise ValueError("a choice step needs at least two options")
        if self.kind == "scale" and (self.min is None or self.max is None or self.min >= self.max):
            raise ValueError("a scale step needs min < max")
        if self.kind == "distortion" and not self.source:
            raise ValueError("a distortion step needs the source step whose answer it analyses")
        return self


class Band(Strict):
    """A severity band of a questionnaire score (inclusive bounds)."""

    min: int = Field(ge=0)
    max: int
    label: str
    advice: str


class Scoring(Strict):
    """Sum of the item values, cut into bands; an optional item that raises the safety layer when > 0."""

    items: list[str] = Field(min_length=1)
    bands: list[Band] = Field(min_length=1)
    safety_item: str | None = None


class Flow(Strict):
    """One conversation flow."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    kind: Literal["check_in", "questionnaire", "thought_record", "planning", "exercise", "psychoeducation"]
    description: str
    citation: Citation
    preamble: str | None = None
    steps: list[Step] = Field(min_length=1)
    scoring: Scoring | None = None
    closing: str

    @model_validator(mode="after")
    def _consistent(self) -> Flow:
        ids = [s.id for s in self.steps]
        if len(set(ids)) != len(ids):
            raise ValueError(f"step ids repeat in flow {self.id!r}")
        for step in self.steps:
            if step.source and step.source not in ids[: ids.index(step.id)]:
                raise ValueError(f"step {step.id!r}: source {step.source!r} is not an earlier step")
        if self.scoring:
            unknown = [i for i in self.scoring.items if i not in ids]
            if unknown:
                raise ValueError(f"scoring items {unknown} are not steps of flow {self.id!r}")
            top = sum(max(o.value for o in self._step(i).options) for i in self.scoring.items)
            covered = sorted(v for b in self.scoring.bands for v in range(b.min, b.max + 1))
            if covered != list(range(0, top + 1)):
                raise ValueError(f"bands must cover 0..{top} once each, without gaps or overlaps")
        return self

    def _step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)


class FlowFile(Strict):
    """The whole flows file."""

    version: str
    description: str
    references: dict[str, Citation] = Field(default_factory=dict)
    frequency: list[Option] = Field(default_factory=list)
    distortions: dict[str, str] = Field(min_length=1)
    flows: list[Flow] = Field(min_length=1)

    def flow(self, flow_id: str) -> Flow:
        """The flow ``flow_id``; ``KeyError`` lists the known ones."""
        for flow in self.flows:
            if flow.id == flow_id:
                return flow
        raise KeyError(f"unknown flow {flow_id!r}; known: {', '.join(f.id for f in self.flows)}")


def load_flows(path: str | Path | None = None) -> FlowFile:
    """The shipped flows, or the file at ``path`` (validated; errors name the file and field)."""
    return load_assistant_knowledge(FILE, FlowFile, path)


@dataclass(frozen=True)
class QuestionnaireScore:
    """A questionnaire's total, its band and whether the safety item was endorsed."""

    instrument: str
    total: int
    band: str
    advice: str
    safety_item_value: int | None

    @property
    def safety_positive(self) -> bool:
        """Whether the safety item (PHQ-9 item 9) was answered above 0."""
        return bool(self.safety_item_value)


def score_questionnaire(flow: Flow, answers: dict[str, int]) -> QuestionnaireScore:
    """Score complete ``answers`` (item id -> value); ``ValueError`` names a missing or out-of-range item."""
    if flow.scoring is None:
        raise ValueError(f"flow {flow.id!r} is not a scored questionnaire")
    total = 0
    for item in flow.scoring.items:
        if item not in answers:
            raise ValueError(f"{flow.id}: answer to {item} is missing")
        allowed = {o.value for o in flow._step(item).options}
        if answers[item] not in allowed:
            raise ValueError(f"{flow.id}: {item} = {answers[item]!r} is not one of {sorted(allowed)}")
        total += answers[item]
    band = next(b for b in flow.scoring.bands if b.min <= total <= b.max)
    safety = answers[flow.scoring.safety_item] if flow.scoring.safety_item else None
    return QuestionnaireScore(flow.id, total, band.label, band.advice, safety)
