"""NEWS2 (Royal College of Physicians, 2017) as a rule-based estimator with its explanation.

The scoring bands are data (``assets/knowledge/news2.yaml``). Approximations forced by
typical EHR feeds are explicit parameters: consciousness and supplemental oxygen are
taken as 'alert' and 'room air' unless the caller supplies them.
"""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel

from medai.explain.types import Explanation, FeatureContribution


class News2Parameter(BaseModel):
    loinc: str
    unit: str
    bands: list[tuple[float, float, int]]

    def points(self, value: float) -> int:
        """The points a value scores."""
        for low, high, points in self.bands:
            if low <= value <= high:
                return points
        nearest = min(self.bands, key=lambda band: min(abs(value - band[0]), abs(value - band[1])))
        return nearest[2]


class News2Response(BaseModel):
    min: int
    risk: str
    action: str


class News2RedParameter(BaseModel):
    """The response when a single parameter scores ``points`` (3) while the total is low."""

    points: int
    risk: str
    action: str


class News2Table(BaseModel):
    """The NEWS2 chart as validated data."""

    version: str
    source: str
    parameters: dict[str, News2Parameter]
    supplemental_oxygen_points: int
    new_confusion_points: int
    response: list[News2Response]
    single_parameter_red: News2RedParameter

    @classmethod
    def load(cls, path: Path | None = None) -> "News2Table":
        """Load the table from ``path`` or the shipped knowledge file."""
        text = path.read_text() if path else resources.files("medai.assets").joinpath("knowledge/news2.yaml").read_text()
        return cls.model_validate(yaml.safe_load(text))


PARAMETER_NAMES = {"respiratory_rate": "Respiratory rate", "oxygen_saturation": "SpO2", "systolic_bp": "Systolic BP",
                   "heart_rate": "Heart rate", "temperature": "Temperature"}


class News2Scorer:
    """NEWS2 with scikit-learn's estimator contract (``fit`` loads the chart; nothing is learned)."""

    def __init__(self, table_path: Path | None = None, min_parameters: int = 3):
        self.table_path = table_path
        self.min_parameters = min_parameters

    def fit(self, X=None, y=None) -> "News2Scorer":
        """Load and validate the scoring chart."""
        self.table_ = News2Table.load(self.table_path)
        return self

    def _parameter_points(self, row: dict[str, float | None]) -> dict[str, int]:
        return {name: param.points(float(row[name])) for name, param in self.table_.parameters.items()
                if row.get(name) is not None and not math.isnan(float(row[name]))}

    def score(self, row: dict[str, float | None], supplemental_oxygen: bool = False, new_confusion: bool = False) -> float:
        """The aggregate score of one set of vitals; NaN when too few parameters were measured."""
        points = self._parameter_points(row)
        if len(points) < self.min_parameters:
            return float("nan")
        extra = self.table_.supplemental_oxygen_points * supplemental_oxygen + self.table_.new_confusion_points * new_confusion
        return float(sum(points.values()) + extra)

    def predict(self, rows: list[dict[str, float | None]]) -> np.ndarray:
        """Aggregate scores for many sets of vitals."""
        return np.array([self.score(row) for row in rows], dtype=float)

    def response(self, row: dict[str, float | None]) -> News2Response:
        """The RCP clinical response for a set of vitals (a single red parameter escalates low scores)."""
        total = self.score(row)
        band = next(r for r in self.table_.response if (0 if math.isnan(total) else total) >= r.min)
        red = self.table_.single_parameter_red
        if band.min < 5 and red.points in self._parameter_points(row).values():
            return News2Response(min=red.points, risk=red.risk, action=red.action)
        return band

    def explain(self, row: dict[str, float | None]) -> Explanation:
        """Each parameter's value and points; missing parameters and assumptions as caveats."""
        points = self._parameter_points(row)
        contributions = [FeatureContribution(feature=PARAMETER_NAMES[name], value=round(float(row[name]), 1),
                                             unit=self.table_.parameters[name].unit, contribution=pts)
                         for name, pts in points.items()]
        contributions.sort(key=lambda c: -c.contribution)
        missing = [PARAMETER_NAMES[n] for n in self.table_.parameters if n not in points]
        caveats = ["Consciousness assumed Alert and breathing room air (not recorded in the feed)."]
        if missing:
            caveats.append("Not measured recently: " + ", ".join(missing) + ".")
        total = self.score(row)
        drivers = ", ".join(f"{c.feature} {c.value} (+{c.contribution:g})" for c in contributions if c.contribution > 0)
        summary = f"NEWS2 {total:g}" + (f": {drivers}" if drivers else ": all measured parameters in the normal band")
        return Explanation(method="rule points (RCP NEWS2 chart)", summary=summary, contributions=contributions, caveats=caveats)
