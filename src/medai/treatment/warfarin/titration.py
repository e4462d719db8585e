"""INR-guided maintenance titration of warfarin per a published nomogram (``warfarin_titration.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import model_validator

from medai.errors import InvalidInput, Problem
from medai.treatment.knowledge import Citation, KnowledgeFile, Strict, load_knowledge


class InrBand(Strict):
    """INR values (one decimal, inclusive bounds) and the weekly-dose change they call for."""

    low: float | None
    high: float | None
    change_percent: float
    hold: bool
    text: str


class Nomogram(KnowledgeFile):
    """Schema of ``warfarin_titration.yaml``: bands must tile the INR axis in steps of 0.1."""

    citation: Citation
    target_range: tuple[float, float]
    bands: list[InrBand]

    @model_validator(mode="after")
    def _contiguous(self) -> Nomogram:
        for before, after in zip(self.bands, self.bands[1:]):
            if before.high is None or after.low is None or round(after.low - before.high, 1) != 0.1:
                raise ValueError(f"INR bands must follow each other in steps of 0.1 (after {before.high} comes {after.low})")
        if self.bands[0].low is not None or self.bands[-1].high is not None:
            raise ValueError("the first band must be open below and the last open above")
        return self


def nomogram() -> Nomogram:
    """The shipped titration nomogram."""
    return load_knowledge("warfarin_titration.yaml", Nomogram)


@dataclass(frozen=True)
class TitrationStep:
    """The next weekly dose and what to do now."""

    inr: float
    current_weekly_dose_mg: float
    new_weekly_dose_mg: float
    change_percent: float
    hold: bool
    instruction: str
    citation: str


def titrate(current_weekly_dose_mg: float, inr: float, target_range: tuple[float, float] = (2.0, 3.0)) -> TitrationStep:
    """Adjust the total weekly maintenance dose for a measured INR."""
    table = nomogram()
    problems = []
    if not 0.8 <= inr <= 20:
        problems.append(Problem("inr", f"{inr} is not a plausible INR (0.8-20)", "value"))
    if not 0 < current_weekly_dose_mg <= 150:
        problems.append(Problem("current_weekly_dose_mg", f"{current_weekly_dose_mg} mg/week is not a plausible warfarin dose (0-150)", "value"))
    if tuple(target_range) != tuple(table.target_range):
        problems.append(Problem("target_range", f"the nomogram covers target INR {table.target_range[0]}-{table.target_range[1]} only; "
                                f"{target_range[0]}-{target_range[1]} needs clinician titration", "not-supported"))
    if problems:
        raise InvalidInput(problems)
    reported = round(inr, 1)
    band = next(b for b in table.bands if (b.low is None or reported >= b.low) and (b.high is None or reported <= b.high))
    new_dose = round(current_weekly_dose_mg * (1 + band.change_percent / 100), 1)
    return TitrationStep(inr=reported, current_weekly_dose_mg=current_weekly_dose_mg, new_weekly_dose_mg=new_dose,
                         change_percent=band.change_percent, hold=band.hold, instruction=band.text, citation=str(table.citation))
