"""The inputs of warfarin dose prediction, validated, and their reading from an IWPC-layout row."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from medai.datasets.warfarin_iwpc import ID, Row
from medai.errors import InvalidInput, Problem

Race = Literal["white", "asian", "black", "unknown"]
Vkorc1 = Literal["G/G", "A/G", "A/A"]
CYP2C9_PATTERN = re.compile(r"^\*(\d+)/\*(\d+)$")

INDICATIONS = {1: "dvt", 2: "pe", 3: "atrial_fibrillation", 4: "heart_valve", 5: "cardiomyopathy", 6: "stroke",
               7: "post_orthopedic", 8: "other"}
"""IWPC codes of the indication for warfarin (data dictionary of the PharmGKB release)."""

RACES = {"White": "white", "Asian": "asian", "Black or African American": "black"}


class WarfarinPatient(BaseModel):
    """One patient's clinical and genetic data for warfarin dosing; ``None`` means not known.

    Plausibility limits reject impossible values with an error naming the field, never a silent default.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    patient_id: str | None = None
    age_years: float | None = Field(default=None, ge=10, le=110, description="Age; only its decade is used by IWPC.")
    age_decade: int | None = Field(default=None, ge=1, le=9, description="IWPC age in decades: 1 for 10-19 ... 9 for 90+.")
    height_cm: float | None = Field(default=None, ge=100, le=230)
    weight_kg: float | None = Field(default=None, ge=25, le=300)
    sex: Literal["male", "female"] | None = None
    race: Race = "unknown"
    hispanic: bool | None = None
    vkorc1: Vkorc1 | None = Field(default=None, description="VKORC1 -1639G>A (rs9923231) genotype.")
    vkorc1_1173: Literal["C/C", "C/T", "T/T"] | None = Field(default=None, description="rs9934438.")
    vkorc1_1542: Literal["G/G", "C/G", "C/C"] | None = Field(default=None, description="rs8050894.")
    vkorc1_2255: Literal["C/C", "C/T", "T/T"] | None = Field(default=None, description="rs2359612.")
    vkorc1_3730: Literal["G/G", "A/G", "A/A"] | None = Field(default=None, description="rs7294.")
    cyp2c9: str | None = Field(default=None, description="CYP2C9 diplotype such as '*1/*3'.")
    cyp4f2: Literal["C/C", "C/T", "T/T"] | None = Field(default=None, description="CYP4F2 rs2108622 (T is *3).")
    rs12777823: Literal["G/G", "A/G", "A/A"] | None = Field(default=None, description="CYP2C cluster rs12777823.")
    amiodarone: bool | None = None
    enzyme_inducer: bool | None = Field(default=None, description="Carbamazepine, phenytoin, rifampin or rifampicin.")
    target_inr: float | None = Field(default=None, ge=1.5, le=4.5)
    smoker: bool | None = None
    diabetes: bool | None = None
    heart_failure: bool | None = None
    valve_replacement: bool | None = None
    aspirin: bool | None = None
    statin: bool | None = None
    azole: bool | None = None
    sulfonamide: bool | None = None
    macrolide: bool | None = None
    indications: tuple[str, ...] = ()

    @field_validator("cyp2c9")
    @classmethod
    def _diplotype(cls, value: str | None) -> str | None:
        if value is None:
            return None
        match = CYP2C9_PATTERN.match(value.replace(" ", ""))
        if not match:
            raise ValueError(f"{value!r} is not a CYP2C9 diplotype like '*1/*3'")
        a, b = sorted((int(match[1]), int(match[2])))
        return f"*{a}/*{b}"

    @property
    def decade(self) -> int | None:
        """Age in decades as IWPC codes it (from ``age_decade`` or ``age_years``)."""
        if self.age_decade is not None:
            return self.age_decade
        return None if self.age_years is None else min(int(self.age_years // 10), 9)

    @classmethod
    def build(cls, **fields: object) -> WarfarinPatient:
        """Validate ``fields``; raise :class:`InvalidInput` naming every bad field."""
        try:
            return cls(**fields)
        except ValidationError as exc:
            raise InvalidInput([Problem(".".join(str(p) for p in err["loc"]) or "patient", err["msg"])
                                for err in exc.errors()]) from None


_AGE = re.compile(r"^(\d+)\s*-\s*\d+$|^(\d+)\+$")


def _age_decade(text: str | None) -> int | None:
    if text is None:
        return None
    match = _AGE.match(text.strip())
    if not match:
        raise InvalidInput(Problem("Age", f"{text!r} is not an IWPC age band such as '60 - 69' or '90+'"))
    return min(int(match[1] or match[2]) // 10, 9)


def _flag(row: Row, column: str) -> bool | None:
    value = row.get(column)
    if value is None:
        return None
    if value not in ("0", "1"):
        raise InvalidInput(Problem(column, f"{value!r} is not 0, 1 or NA"))
    return value == "1"


def _number(row: Row, column: str) -> float | None:
    value = row.get(column)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(Problem(column, f"{value!r} is not a number")) from None


def _any(*flags: bool | None) -> bool | None:
    known = [f for f in flags if f is not None]
    return any(known) if known else None


def _indications(text: str | None) -> tuple[str, ...]:
    codes = {int(c) for c in re.findall(r"\d", text or "")}
    return tuple(INDICATIONS[c] for c in sorted(codes) if c in INDICATIONS)


STATINS = ["Simvastatin (Zocor)", "Atorvastatin (Lipitor)", "Fluvastatin (Lescol)", "Lovastatin (Mevacor)",
           "Pravastatin (Pravachol)", "Rosuvastatin (Crestor)", "Cerivastatin (Baycol)"]
INDUCERS = ["Carbamazepine (Tegretol)", "Phenytoin (Dilantin)", "Rifampin or Rifampicin"]


def from_iwpc_row(row: Row) -> WarfarinPatient:
    """Read one row of an IWPC-layout table; every problem names the row's subject and column."""
    subject = row.get(ID)
    try:
        cyp2c9 = row.get("CYP2C9 consensus") or row.get("Cyp2C9 genotypes")
        fields = dict(
            patient_id=subject, age_decade=_age_decade(row.get("Age")),
            height_cm=_number(row, "Height (cm)"), weight_kg=_number(row, "Weight (kg)"),
            sex=row.get("Gender"), race=RACES.get(row.get("Race") or "", "unknown"),
            hispanic={"Hispanic or Latino": True, "not Hispanic or Latino": False}.get(row.get("Ethnicity") or ""),
            vkorc1=row.get("VKORC1 -1639 consensus"), vkorc1_1173=row.get("VKORC1 1173 consensus"),
            vkorc1_1542=row.get("VKORC1 1542 consensus"), vkorc1_2255=row.get("VKORC1 2255 consensus"),
            vkorc1_3730=row.get("VKORC1 3730 consensus"), cyp2c9=cyp2c9,
            amiodarone=_flag(row, "Amiodarone (Cordarone)"),
            enzyme_inducer=_any(*(_flag(row, c) for c in INDUCERS)),
            target_inr=_number(row, "Target INR"), smoker=_flag(row, "Current Smoker"),
            diabetes=_flag(row, "Diabetes"), heart_failure=_flag(row, "Congestive Heart Failure and/or Cardiomyopathy"),
            valve_replacement=_flag(row, "Valve Replacement"), aspirin=_flag(row, "Aspirin"),
            statin=_any(*(_flag(row, c) for c in STATINS)), azole=_flag(row, "Anti-fungal Azoles"),
            sulfonamide=_flag(row, "Sulfonamide Antibiotics"), macrolide=_flag(row, "Macrolide Antibiotics"),
            indications=_indications(row.get("Indication for Warfarin Treatment")),
        )
        return WarfarinPatient.build(**fields)
    except InvalidInput as exc:
        raise InvalidInput([Problem(f"{ID} {subject}: {p.location}", p.message, p.code) for p in exc.problems]) from None
