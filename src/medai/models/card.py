"""Model cards: the schema every model package carries, and its Markdown and HTML renderings."""

from __future__ import annotations

import base64
import json
import mimetypes
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, model_validator

from medai.errors import Problem
from medai.models._relpath import RelPath
from medai.models.card_templates import HTML_TEMPLATE, MARKDOWN_TEMPLATE
from medai.models.errors import ModelCardError, validation_problems

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
VERSION_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z.+_-]*$"


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSource(_Schema):
    """A data set the model was trained or evaluated on."""

    name: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    licence: str = Field(min_length=1, description="Licence of the data set (not of the model).")
    url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    n: int = Field(ge=1, description="Number of examples used (patients, images, notes, ...).")


class Metric(_Schema):
    """A performance estimate with its 95% confidence interval."""

    name: str = Field(min_length=1)
    value: float
    ci_low: float
    ci_high: float
    dataset: str = Field(min_length=1, description="Name of one of the card's data sets.")
    split: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered_interval(self) -> Metric:
        if self.ci_low > self.ci_high:
            raise ValueError(f"ci_low ({self.ci_low}) is above ci_high ({self.ci_high})")
        return self


class SubgroupResult(_Schema):
    """One metric on one subgroup (for example sex = female)."""

    attribute: str = Field(min_length=1)
    group: str = Field(min_length=1)
    n: int = Field(ge=1)
    metric: str = Field(min_length=1)
    value: float
    ci_low: float | None = None
    ci_high: float | None = None


class OperatingPoint(_Schema):
    """The decision threshold the model ships with, and why it was chosen."""

    threshold: float
    rationale: str = Field(min_length=1)
    sensitivity: float | None = None
    specificity: float | None = None


class Plot(_Schema):
    """A figure stored in the package, e.g. a ROC or calibration curve."""

    title: str = Field(min_length=1)
    file: RelPath = Field(description="Path of the image relative to the package folder.")


class ModelCard(_Schema):
    """What a model is for, what it was trained and evaluated on, how well it does and where it fails."""

    name: str = Field(pattern=NAME_PATTERN, description="Model id: lower case letters, digits, '.', '_' or '-'.")
    version: str = Field(pattern=VERSION_PATTERN)
    task: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    intended_use: str = Field(min_length=1)
    out_of_scope_use: list[str]
    training_data: list[DataSource] = Field(description="Empty for rule-based models.")
    evaluation_data: list[DataSource] = Field(min_length=1)
    metrics: list[Metric] = Field(min_length=1)
    calibration: dict[str, JsonValue] | None = None
    subgroups: list[SubgroupResult] | None = None
    operating_point: OperatingPoint | None = None
    limitations: list[str] = Field(min_length=1)
    ethical_considerations: str = Field(min_length=1)
    authors: list[str] = Field(min_length=1)
    licence: str = Field(min_length=1, description="Licence of the model itself.")
    created: datetime
    medai_version: str = Field(min_length=1)
    plots: list[Plot] = Field(default_factory=list)

    @model_validator(mode="after")
    def _metrics_name_known_datasets(self) -> ModelCard:
        known = {source.name for source in (*self.training_data, *self.evaluation_data)}
        for i, metric in enumerate(self.metrics):
            if metric.dataset not in known:
                raise ValueError(
                    f"metrics[{i}].dataset {metric.dataset!r} is not one of the card's data sets: {sorted(known)}"
                )
        return self


def parse_card(data: str | bytes | Mapping[str, Any]) -> ModelCard:
    """Validate a card given as JSON text or a mapping; raise :class:`ModelCardError` naming each bad field."""
    try:
        if isinstance(data, str | bytes):
            return ModelCard.model_validate_json(data)
        return ModelCard.model_validate(data)
    except ValidationError as exc:
        raise ModelCardError(validation_problems(exc, root="card")) from exc


def render_markdown(card: ModelCard, package_dir: str | os.PathLike[str] | None = None) -> str:
    """The card as Markdown. With ``package_dir`` plots are embedded as data URIs, else linked by relative path."""
    return _MARKDOWN.render(card=card, plots=_plot_sources(card, package_dir))


def render_html(card: ModelCard, package_dir: str | os.PathLike[str] | None = None) -> str:
    """The card as one self-contained HTML page; with ``package_dir`` its plots are embedded as base64 images."""
    return _HTML.render(card=card, plots=_plot_sources(card, package_dir))


def _plot_sources(card: ModelCard, package_dir: str | os.PathLike[str] | None) -> list[tuple[str, str]]:
    if package_dir is None:
        return [(plot.title, plot.file) for plot in card.plots]
    return [(plot.title, _data_uri(Path(package_dir), plot.file)) for plot in card.plots]


def _data_uri(package_dir: Path, relpath: str) -> str:
    path = package_dir / relpath
    if not path.is_file():
        raise ModelCardError(Problem(f"plots: {relpath}", f"plot file not found in {package_dir}", code="not-found"))
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _number(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 100 else f"{value:,.1f}"


def _estimate(value: float, low: float | None = None, high: float | None = None) -> str:
    """``0.912 (0.890–0.931)``: a point estimate and its interval when there is one."""
    text = _number(value)
    if low is not None and high is not None:
        text += f" ({_number(low)}–{_number(high)})"
    return text


def _plain(value: JsonValue) -> str:
    if isinstance(value, float):
        return _number(value)
    return value if isinstance(value, str) else json.dumps(value)


def _markdown_cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _environment(autoescape: bool) -> Environment:
    env = Environment(autoescape=autoescape, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(estimate=_estimate, number=_number, plain=_plain, cell=_markdown_cell)
    return env


_MARKDOWN = _environment(autoescape=False).from_string(MARKDOWN_TEMPLATE)
_HTML = _environment(autoescape=True).from_string(HTML_TEMPLATE)
