"""The symptom-checker knowledge base: findings vocabulary, conditions and red-flag rules as validated YAML.

Files live in ``assets/knowledge/assistant/symptoms/``: ``index.yaml`` (version and the list of files),
``findings.yaml`` (each finding with lay synonyms and a leak probability), ``red_flags.yaml`` (rules that force
emergency triage) and ``conditions/*.yaml`` (one file per body system). Every condition cites its source.
:func:`load_knowledge` validates the whole set, including cross-references (every finding a condition or rule
names must be in the vocabulary) and ICD-10-CM codes (checked with ``simple_icd_10_cm`` when it is installed).
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from medai.errors import InvalidInput, Problem

FOLDER = "knowledge/assistant/symptoms"
URGENCIES = ("self-care", "routine", "urgent", "emergency")
Urgency = Literal["self-care", "routine", "urgent", "emergency"]
AGE_BANDS = ("infant", "child", "teen", "adult", "middle", "older")
AGE_BAND_LIMITS = ((1, "infant"), (13, "child"), (18, "teen"), (45, "adult"), (65, "middle"))
Probability = float
ICD10CM = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


def urgency_rank(level: str) -> int:
    """0 for self-care up to 3 for emergency."""
    return URGENCIES.index(level)


def age_band(age: float | None) -> str | None:
    """The prior's age band for an age in years (``None`` when unknown)."""
    if age is None:
        return None
    for limit, band in AGE_BAND_LIMITS:
        if age < limit:
            return band
    return "older"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _open_unit(value: float, name: str) -> float:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value}")
    return value


class Finding(_Strict):
    """A symptom, sign, risk factor or context the checker understands, with the words people use for it."""

    label: str = Field(min_length=2, description="Plain-language name.")
    kind: Literal["symptom", "sign", "risk", "context"] = "symptom"
    leak: Probability = Field(default=0.02, description="P(finding) when no listed condition causes it (noisy-OR leak).")
    syn: list[str] = Field(default_factory=list, description="Lay and clinical phrases that mean this finding.")
    question: str | None = Field(default=None, description="How to ask about it (default: 'Do you have <label>?').")
    body: list[str] = Field(default_factory=list, description="Body parts whose pain means this finding ('my X hurts').")
    swollen: list[str] = Field(default_factory=list, description="Body parts whose swelling means this finding ('X is swollen').")

    @field_validator("syn", mode="before")
    @classmethod
    def _phrases(cls, value: list) -> list:
        return [str(v) for v in value] if isinstance(value, list) else value

    @field_validator("leak")
    @classmethod
    def _leak(cls, value: float) -> float:
        return _open_unit(value, "leak")

    def phrases(self) -> list[str]:
        """The label, the synonyms, and the pain / swelling templates filled with ``body`` / ``swollen`` parts."""
        out = [self.label, *self.syn]
        out += [t.format(x=part) for part in self.body for t in PAIN_TEMPLATES]
        out += [t.format(x=part) for part in self.swollen for t in SWELLING_TEMPLATES]
        return list(dict.fromkeys(out))

    def ask(self) -> str:
        """The question put to the user."""
        return self.question or f"Do you have {self.label}?"


PAIN_TEMPLATES = ("{x} pain", "{x} ache", "{x} aches", "{x} aching", "{x} hurts", "{x} hurt", "{x} hurting",
                  "{x} is hurting", "{x} has been hurting", "{x} really hurts", "{x} is sore", "{x} has been sore",
                  "{x} is painful", "{x} is killing me", "{x} is aching", "{x} feels sore", "{x} is tender",
                  "{x} pains", "{x} is so sore", "{x} is really sore", "{x} is really painful",
                  "sore {x}", "painful {x}", "aching {x}", "achy {x}", "tender {x}", "pain in the {x}",
                  "pains in the {x}", "ache in the {x}", "aching in the {x}", "soreness in the {x}", "pain at the {x}",
                  "pain around the {x}", "sharp pain in the {x}", "stabbing pain in the {x}", "throbbing {x}",
                  "bad pain in the {x}", "really bad pain in the {x}", "severe pain in the {x}", "hurts in the {x}",
                  "hurting in the {x}", "pain on the {x}", "discomfort in the {x}", "{x} discomfort")
SWELLING_TEMPLATES = ("swollen {x}", "{x} is swollen", "{x} swollen", "{x} swelling", "swelling of the {x}",
                      "swelling in the {x}", "swelling around the {x}", "{x} swelled up", "{x} has swollen up",
                      "{x} have swollen up", "{x} are swollen", "{x} is puffy", "puffy {x}", "{x} is swelling up",
                      "{x} swelling up", "{x} is red and swollen", "{x} is hot and swollen", "{x} is all swollen",
                      "{x} has swollen", "{x} puffed up", "{x} is big and swollen", "{x} has gone puffy")


class Condition(_Strict):
    """One condition: coding, prior, likelihoods, risk factors, red flags, urgency, advice and its source."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str = Field(min_length=3)
    icd10cm: str
    prior: Probability = Field(description="Base probability among people consulting with symptoms (relative scale).")
    age: dict[str, float] = Field(default_factory=dict, description="Prior multipliers by age band (missing = 1).")
    sex: dict[Literal["female", "male"], float] = Field(default_factory=dict, description="Prior multipliers by sex.")
    urgency: Urgency
    findings: dict[str, Probability] = Field(min_length=1, description="P(finding | condition), noisy-OR link strength.")
    risk: dict[str, float] = Field(default_factory=dict, description="Likelihood ratios of risk factors when present.")
    red_flags: list[str] = Field(default_factory=list, description="Findings that mean this needs checking today.")
    next: str = Field(min_length=10, description="Plain-language next steps.")
    source: str = Field(min_length=5, description="Where the facts come from (guideline or reference page title).")

    @field_validator("icd10cm")
    @classmethod
    def _code(cls, value: str) -> str:
        if not ICD10CM.match(value):
            raise ValueError(f"{value!r} does not look like an ICD-10-CM code (e.g. J06.9)")
        return value

    @field_validator("prior")
    @classmethod
    def _prior(cls, value: float) -> float:
        return _open_unit(value, "prior")

    @field_validator("findings")
    @classmethod
    def _likelihoods(cls, value: dict[str, float]) -> dict[str, float]:
        for name, p in value.items():
            _open_unit(p, f"findings.{name}")
        return value

    @field_validator("age")
    @classmethod
    def _bands(cls, value: dict[str, float]) -> dict[str, float]:
        for band, factor in value.items():
            if band not in AGE_BANDS:
                raise ValueError(f"unknown age band {band!r}; use one of {', '.join(AGE_BANDS)}")
            if factor < 0:
                raise ValueError(f"age multiplier for {band} must be >= 0")
        return value

    @field_validator("risk")
    @classmethod
    def _ratios(cls, value: dict[str, float]) -> dict[str, float]:
        for name, ratio in value.items():
            if ratio <= 0:
                raise ValueError(f"risk.{name}: a likelihood ratio must be > 0")
        return value

    def prior_for(self, age: float | None, sex: str | None) -> float:
        """Prior adjusted for age band and sex."""
        band = age_band(age)
        factor = self.age.get(band, 1.0) if band else 1.0
        if sex in ("female", "male"):
            factor *= self.sex.get(sex, 1.0)  # type: ignore[call-overload]
        return self.prior * factor


class ConditionFile(_Strict):
    """One ``conditions/<system>.yaml`` file."""

    system: str
    conditions: list[Condition] = Field(min_length=1)


class RedFlagRule(_Strict):
    """A presentation that always triages as ``triage``: every finding of ``all`` and one of ``any`` present."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    all: list[str] = Field(default_factory=list)
    any: list[str] = Field(default_factory=list)
    age_max: float | None = Field(default=None, description="Only up to this age (years).")
    age_min: float | None = None
    triage: Urgency = "emergency"
    message: str = Field(min_length=10)
    source: str = Field(min_length=5)

    @model_validator(mode="after")
    def _some_finding(self) -> RedFlagRule:
        if not self.all and not self.any:
            raise ValueError("a rule needs findings in 'all' or 'any'")
        return self


class FindingsFile(_Strict):
    version: str
    description: str
    findings: dict[str, Finding] = Field(min_length=1)


class RedFlagFile(_Strict):
    version: str
    description: str
    rules: list[RedFlagRule] = Field(min_length=1)


class Index(_Strict):
    version: str = Field(min_length=1)
    description: str
    findings: str
    red_flags: str
    conditions: list[str] = Field(min_length=1)


class KnowledgeBase(BaseModel):
    """The validated knowledge base, ready for inference."""

    model_config = ConfigDict(frozen=True)

    version: str
    sha256: str = Field(description="Digest of every file, to tie a prediction to the exact knowledge used.")
    findings: dict[str, Finding]
    conditions: list[Condition]
    red_flags: list[RedFlagRule]

    def __hash__(self) -> int:
        return hash(self.sha256)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KnowledgeBase) and other.sha256 == self.sha256

    def condition(self, condition_id: str) -> Condition:
        """The condition with this id."""
        for condition in self.conditions:
            if condition.id == condition_id:
                return condition
        raise KeyError(condition_id)


def _parse(text: str, schema: type[BaseModel], name: str) -> BaseModel:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(Problem(name, f"not valid YAML: {exc}")) from None
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput([Problem(f"{name}: {'.'.join(str(p) for p in e['loc'])}", e["msg"])
                            for e in exc.errors()[:20]]) from None


def _cross_check(findings: dict[str, Finding], files: dict[str, ConditionFile], rules: RedFlagFile) -> list[Problem]:
    problems, seen = [], set()
    try:
        import simple_icd_10_cm as icd
    except ImportError:  # optional: the pattern check above still applies
        icd = None
    for name, file in files.items():
        for i, c in enumerate(file.conditions):
            where = f"{name}: conditions.{i} ({c.id})"
            if c.id in seen:
                problems.append(Problem(where, "duplicate condition id"))
            seen.add(c.id)
            for ref in [*c.findings, *c.risk, *c.red_flags]:
                if ref not in findings:
                    problems.append(Problem(where, f"finding {ref!r} is not in the vocabulary"))
            for ref in c.risk:
                if ref in findings and findings[ref].kind != "risk":
                    problems.append(Problem(where, f"risk.{ref} is a {findings[ref].kind}, not a risk factor"))
            if icd is not None and not icd.is_valid_item(c.icd10cm):
                problems.append(Problem(where, f"icd10cm {c.icd10cm!r} is not an ICD-10-CM code"))
    for rule in rules.rules:
        for ref in [*rule.all, *rule.any]:
            if ref not in findings:
                problems.append(Problem(f"red_flags: {rule.id}", f"finding {ref!r} is not in the vocabulary"))
    return problems


def read_folder(folder: Path | None = None) -> dict[str, str]:
    """Every knowledge file's text by relative name, from ``folder`` or the shipped assets."""
    base = resources.files("medai.assets").joinpath(FOLDER) if folder is None else folder
    index_text = base.joinpath("index.yaml").read_text(encoding="utf-8")
    index = _parse(index_text, Index, "index.yaml")
    names = [index.findings, index.red_flags, *index.conditions]
    return {"index.yaml": index_text, **{n: base.joinpath(n).read_text(encoding="utf-8") for n in names}}


def build(texts: dict[str, str]) -> KnowledgeBase:
    """Validate the files (as returned by :func:`read_folder`) into a :class:`KnowledgeBase`."""
    index: Index = _parse(texts["index.yaml"], Index, "index.yaml")  # type: ignore[assignment]
    vocab: FindingsFile = _parse(texts[index.findings], FindingsFile, index.findings)  # type: ignore[assignment]
    rules: RedFlagFile = _parse(texts[index.red_flags], RedFlagFile, index.red_flags)  # type: ignore[assignment]
    files = {n: _parse(texts[n], ConditionFile, n) for n in index.conditions}
    problems = _cross_check(vocab.findings, files, rules)  # type: ignore[arg-type]
    if problems:
        raise InvalidInput(problems[:30])
    digest = hashlib.sha256()
    for name in sorted(texts):
        digest.update(name.encode() + b"\0" + texts[name].encode())
    conditions = [c for f in files.values() for c in f.conditions]  # type: ignore[attr-defined]
    return KnowledgeBase(version=index.version, sha256=digest.hexdigest(), findings=vocab.findings,
                         conditions=conditions, red_flags=rules.rules)


@lru_cache(maxsize=4)
def load_knowledge(folder: str | None = None) -> KnowledgeBase:
    """The shipped knowledge base (or the one in ``folder``), validated; cached."""
    return build(read_folder(Path(folder) if folder else None))
