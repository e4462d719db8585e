"""The observation catalogue: known vital signs and labs, their canonical units and ranges.

The catalogue is data (``assets/knowledge/observation_catalog.yaml``) validated by
the pydantic schema below.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, Field, model_validator


class ObservationKind(BaseModel):
    """One catalogued observation: a LOINC code with its unit rules."""

    code: str
    name: str
    kind: Literal["vital", "lab"]
    unit: str = Field(description="Canonical UCUM unit.")
    units: dict[str, tuple[float, float]] = Field(description="Accepted unit -> (factor, offset) to canonical.")
    range: tuple[float, float] = Field(description="Physiologically possible values, canonical unit.")

    @model_validator(mode="after")
    def _canonical_unit_is_accepted(self) -> "ObservationKind":
        if self.unit not in self.units:
            raise ValueError(f"{self.code}: canonical unit {self.unit!r} missing from accepted units")
        return self


class ObservationCatalog(BaseModel):
    """The whole catalogue file."""

    version: str
    sources: dict[str, str]
    observations: list[ObservationKind]

    def by_code(self) -> dict[str, ObservationKind]:
        """Entries keyed by LOINC code."""
        return {o.code: o for o in self.observations}


@lru_cache(maxsize=1)
def observation_catalog() -> ObservationCatalog:
    """The shipped observation catalogue (parsed once)."""
    text = resources.files("medai.assets").joinpath("knowledge/observation_catalog.yaml").read_text()
    return ObservationCatalog.model_validate(yaml.safe_load(text))


def lookup(code: str) -> ObservationKind | None:
    """The catalogue entry for a LOINC code, or None when it is not catalogued."""
    return observation_catalog().by_code().get(code)
