"""The LACE index and the Charlson comorbidity index from ICD-9-CM codes, with their points as data.

LACE (van Walraven et al., CMAJ 2010) scores Length of stay, Acuity of admission, Comorbidity
(Charlson index) and Emergency department visits in the previous six months; the point tables are in
``assets/knowledge/readmission/lace.yaml`` and the Charlson ICD-9-CM map (Quan et al. 2005) in
``charlson_icd9.yaml``. On Diabetes 130 it is approximate: the Charlson index sees only the three
recorded diagnoses, and E uses ``number_emergency`` (ED visits in the previous *year*).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from pydantic import Field

from medai.datasets.diabetes130 import DIAGNOSIS_COLUMNS, Diabetes130Table
from medai.explain.types import Explanation, FeatureContribution
from medai.core.knowledge import Citation, Strict, parse_knowledge

FOLDER = "knowledge/readmission"


class Band(Strict):
    """Points for values from ``min`` up to the next band's ``min``."""

    min: float
    points: int = Field(ge=0)


class LaceTable(Strict):
    """The LACE point tables (``lace.yaml``)."""

    version: str
    description: str
    citation: Citation
    length_of_stay_days: list[Band] = Field(min_length=1)
    acute_admission_points: int = Field(ge=0)
    charlson_index: list[Band] = Field(min_length=1)
    ed_visits_6_months: list[Band] = Field(min_length=1)
    acute_admission_type_ids: list[int]
    acute_admission_source_ids: list[int]


class CharlsonCategory(Strict):
    """One Charlson condition: its weight and ICD-9-CM prefixes or ranges."""

    name: str = Field(pattern=r"^[a-z_]+$")
    label: str
    weight: int = Field(ge=1)
    codes: list[str] = Field(min_length=1)
    supersedes: str | None = None


class CharlsonMap(Strict):
    """The Charlson ICD-9-CM map (``charlson_icd9.yaml``)."""

    version: str
    description: str
    citation: Citation
    weights_citation: Citation
    three_digit_fallback: dict[str, str] = Field(default_factory=dict)
    categories: list[CharlsonCategory] = Field(min_length=1)

    def match(self, code: str) -> list[str]:
        """Names of the categories an ICD-9-CM code (any spelling: "38", "038", "250.01") falls in."""
        normal = normalise_icd9(code)
        if not normal:
            return []
        found = [c.name for c in self.categories if any(_in_range(normal, spec) for spec in c.codes)]
        if not found and normal in self.three_digit_fallback:
            found = [self.three_digit_fallback[normal]]
        return found

    def conditions(self, codes: list[str]) -> list[CharlsonCategory]:
        """The distinct conditions among ``codes``, a milder form dropped when its severe form is present."""
        names = {name for code in codes for name in self.match(code)}
        superseded = {c.supersedes for c in self.categories if c.name in names and c.supersedes}
        return [c for c in self.categories if c.name in names and c.name not in superseded]

    def index(self, codes: list[str]) -> int:
        """The Charlson comorbidity index (sum of weights) of a set of diagnoses."""
        return sum(c.weight for c in self.conditions(codes))


def normalise_icd9(code: str) -> str:
    """ICD-9-CM code in ``ddd.dd`` form: leading zeros restored (``"38"`` -> ``"038"``), V/E codes kept; '' if empty."""
    code = code.strip().upper()
    if not code:
        return ""
    head, _, tail = code.partition(".")
    if head[0].isdigit():
        head = head.zfill(3)
    return f"{head}.{tail}" if tail else head


def _in_range(code: str, spec: str) -> bool:
    """Whether a normalised code falls in a spec ("428", "425.4-425.9", "174-195.8", "V42.0")."""
    low, _, high = spec.partition("-")
    high = high or low
    if code[0].isalpha() or low[0].isalpha():
        if code[0] != low[0]:
            return False
    return code[:len(low)] >= low and code[:len(high)] <= high


def _knowledge(name: str, schema):
    text = resources.files("medai.assets").joinpath(f"{FOLDER}/{name}").read_text(encoding="utf-8")
    return parse_knowledge(text, schema, f"{FOLDER}/{name}")


@lru_cache(maxsize=1)
def charlson_map() -> CharlsonMap:
    """The shipped Charlson ICD-9-CM map."""
    return _knowledge("charlson_icd9.yaml", CharlsonMap)


@lru_cache(maxsize=1)
def lace_table() -> LaceTable:
    """The shipped LACE point tables."""
    return _knowledge("lace.yaml", LaceTable)


def band_points(value: float, bands: list[Band]) -> int:
    """Points of the band ``value`` falls in (values below the first band get its points)."""
    points = bands[0].points
    for band in bands:
        if value >= band.min:
            points = band.points
    return points


@dataclass(frozen=True)
class LaceScore:
    """One encounter's LACE points, by component, with the Charlson conditions behind C."""

    length_of_stay: int
    acuity: int
    comorbidity: int
    emergency_visits: int
    charlson_index: int
    conditions: tuple[str, ...]

    @property
    def total(self) -> int:
        return self.length_of_stay + self.acuity + self.comorbidity + self.emergency_visits

    def explain(self) -> Explanation:
        """The points as an explanation (rule points)."""
        parts = [("L", "length of stay", self.length_of_stay), ("A", "acute (emergency) admission", self.acuity),
                 ("C", f"Charlson index {self.charlson_index}" + (f" ({', '.join(self.conditions)})" if self.conditions else ""),
                  self.comorbidity), ("E", "emergency visits before admission", self.emergency_visits)]
        return Explanation(method="rule points (LACE index)", summary=f"LACE {self.total}/19",
                           contributions=[FeatureContribution(feature=key, contribution=points, note=note)
                                          for key, note, points in parts],
                           caveats=["Charlson index from the recorded diagnoses only; ED visits counted over the "
                                    "previous year (the data's proxy for the previous six months)."])


def lace_score(length_of_stay_days: float, acute: bool, diagnoses: list[str], ed_visits: float) -> LaceScore:
    """The LACE index of one encounter."""
    table, charlson = lace_table(), charlson_map()
    conditions = charlson.conditions(diagnoses)
    index = sum(c.weight for c in conditions)
    return LaceScore(band_points(length_of_stay_days, table.length_of_stay_days),
                     table.acute_admission_points if acute else 0, band_points(index, table.charlson_index),
                     band_points(ed_visits, table.ed_visits_6_months), index, tuple(c.label for c in conditions))


def acute_admission(table: Diabetes130Table) -> np.ndarray:
    """Whether each encounter was an emergency admission (admission type or source, per ``lace.yaml``)."""
    spec = lace_table()
    return (np.isin(table["admission_type_id"], spec.acute_admission_type_ids)
            | np.isin(table["admission_source_id"], spec.acute_admission_source_ids))


def encounter_lace(table: Diabetes130Table, row: int) -> LaceScore:
    """The LACE index of one encounter of a Diabetes 130 table, with its components."""
    return lace_score(float(table["time_in_hospital"][row]), bool(acute_admission(table)[row]),
                      [str(table[c][row]) for c in DIAGNOSIS_COLUMNS], float(table["number_emergency"][row]))


def charlson_flags(table: Diabetes130Table) -> np.ndarray:
    """(encounters x Charlson categories) booleans from the three diagnoses, superseded milder forms cleared."""
    charlson = charlson_map()
    names = [c.name for c in charlson.categories]
    flags = np.zeros((len(table), len(names)), dtype=bool)
    for column in DIAGNOSIS_COLUMNS:
        codes, inverse = np.unique(table[column], return_inverse=True)
        per_code = np.array([[name in hits for name in names] for hits in map(charlson.match, codes)], dtype=bool)
        flags |= per_code.reshape(len(codes), len(names))[inverse]
    for k, category in enumerate(charlson.categories):
        if category.supersedes:
            flags[flags[:, k], names.index(category.supersedes)] = False
    return flags


def charlson_index(flags: np.ndarray) -> np.ndarray:
    """The Charlson index of each row of :func:`charlson_flags`."""
    return flags @ np.array([c.weight for c in charlson_map().categories])


def _points(values: np.ndarray, bands: list[Band]) -> np.ndarray:
    edges = np.array([band.min for band in bands[1:]])
    return np.array([band.points for band in bands])[np.searchsorted(edges, values, side="right")]


def lace_scores(table: Diabetes130Table, flags: np.ndarray | None = None) -> np.ndarray:
    """The LACE total (0-19) of every encounter (vectorised :func:`encounter_lace`)."""
    spec = lace_table()
    index = charlson_index(charlson_flags(table) if flags is None else flags)
    return (_points(table["time_in_hospital"], spec.length_of_stay_days)
            + acute_admission(table) * spec.acute_admission_points
            + _points(index, spec.charlson_index) + _points(table["number_emergency"], spec.ed_visits_6_months))
