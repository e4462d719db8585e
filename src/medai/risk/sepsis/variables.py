"""The challenge's clinical variables as validated data: names, units, LOINC codes, labels."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml
from pydantic import BaseModel


class SepsisVariable(BaseModel):
    name: str
    label: str
    unit: str
    loinc: list[str]


class SepsisVariables(BaseModel):
    version: str
    variables: list[SepsisVariable]

    def by_loinc(self) -> dict[str, SepsisVariable]:
        """Variables keyed by each of their LOINC codes."""
        return {code: v for v in self.variables for code in v.loinc}


@lru_cache(maxsize=1)
def sepsis_variables() -> SepsisVariables:
    """The shipped variable table."""
    text = resources.files("medai.assets").joinpath("knowledge/sepsis_variables.yaml").read_text()
    return SepsisVariables.model_validate(yaml.safe_load(text))
