"""Vancomycin AUC-guided dosing: population PK prior, Bayesian MAP from measured levels, regimen choice.

The population model and targets are data (``vancomycin_pk.yaml``): a one-compartment model with
clearance proportional to Cockcroft-Gault creatinine clearance and volume proportional to body
weight (Buelga 2005), and the ASHP/IDSA 2020 target AUC24/MIC 400-600. Each new level refines the
individual estimate (:meth:`VancomycinCourse.add_level`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from pydantic import Field

from medai.errors import InvalidInput, Problem
from medai.treatment.knowledge import Citation, KnowledgeFile, Strict, load_knowledge
from medai.treatment.pk.bayes import map_estimate, omega_from_cv
from medai.treatment.pk.onecompartment import Infusion, auc, concentration, steady_state

Z90 = 1.6449


class AssayError(Strict):
    citation: Citation
    proportional: float = Field(ge=0)
    additive_mg_l: float = Field(ge=0)


class PopulationModel(Strict):
    name: str
    citation: Citation
    structure: str
    cl_per_crcl: float = Field(gt=0)
    v_per_kg: float = Field(gt=0)
    iiv_cv: dict[str, float]
    iiv_correlation: float = Field(ge=-1, le=1)
    residual_additive_mg_l: float = Field(ge=0)
    residual_proportional: float = Field(ge=0)
    assay_error: AssayError
    population: dict[str, tuple[float, float]]


class Targets(Strict):
    citation: Citation
    auc24_per_mic: tuple[float, float]
    default_mic_mg_l: float
    aim_auc24: float


class DosingRules(Strict):
    citation: Citation
    max_infusion_rate_mg_per_h: float
    min_infusion_h: float
    dose_step_mg: float
    dose_range_mg: tuple[float, float]
    intervals_h: list[float]
    max_daily_mg: float


class VancomycinKnowledge(KnowledgeFile):
    """Schema of ``vancomycin_pk.yaml``."""

    model: PopulationModel
    targets: Targets
    dosing: DosingRules


def knowledge() -> VancomycinKnowledge:
    """The shipped vancomycin model, targets and dosing rules."""
    return load_knowledge("vancomycin_pk.yaml", VancomycinKnowledge)


@dataclass(frozen=True)
class Level:
    """A measured serum vancomycin concentration at a time (h, same clock as the doses)."""

    time_h: float
    concentration_mg_l: float


def infusion_hours(dose_mg: float) -> float:
    """Infusion time for a dose under the label's rate limit (at least 1 h, at most 600 mg/h)."""
    rules = knowledge().dosing
    return max(rules.min_infusion_h, dose_mg / rules.max_infusion_rate_mg_per_h)


@dataclass(frozen=True)
class PkEstimate:
    """Individual CL and V (MAP, or the population prior without levels) with the uncertainty of log CL."""

    cl_l_h: float
    v_l: float
    log_cl_sd: float
    levels_used: int
    converged: bool

    @property
    def half_life_h(self) -> float:
        return math.log(2) * self.v_l / self.cl_l_h


@dataclass(frozen=True)
class RegimenPrediction:
    """A steady-state regimen with its predicted exposure."""

    dose_mg: float
    interval_h: float
    infusion_h: float
    auc24: float
    auc24_90ci: tuple[float, float]
    trough_mg_l: float
    peak_mg_l: float


@dataclass
class VancomycinCourse:
    """One patient's vancomycin course: covariates, doses given and levels measured (times in hours)."""

    weight_kg: float
    crcl_ml_min: float
    doses: list[Infusion] = field(default_factory=list)
    levels: list[Level] = field(default_factory=list)
    residual_additive_mg_l: float | None = None
    residual_proportional: float | None = None
    """Residual error of the levels; the population model's own when ``None`` (set it to a lab's assay error)."""

    def __post_init__(self) -> None:
        problems = []
        if not 25 <= self.weight_kg <= 350:
            problems.append(Problem("weight_kg", f"{self.weight_kg} kg is not a plausible adult weight (25-350)", "value"))
        if not 5 <= self.crcl_ml_min <= 300:
            problems.append(Problem("crcl_ml_min", f"{self.crcl_ml_min} mL/min is not plausible (5-300); "
                                    "patients on dialysis are out of scope", "value"))
        if problems:
            raise InvalidInput(problems)

    def add_dose(self, start_h: float, amount_mg: float, duration_h: float | None = None) -> None:
        """Record a dose (infusion time from the label's rate limit when not given)."""
        if not 0 < amount_mg <= 4000:
            raise InvalidInput(Problem("dose.amount_mg", f"{amount_mg} mg is not a plausible single vancomycin dose", "value"))
        self.doses.append(Infusion(start_h, amount_mg, duration_h or infusion_hours(amount_mg)))

    def add_level(self, time_h: float, concentration_mg_l: float) -> None:
        """Record a measured level; the next :meth:`estimate` uses it."""
        if not 0 <= concentration_mg_l <= 150:
            raise InvalidInput(Problem("level.concentration_mg_l", f"{concentration_mg_l} mg/L is not a plausible level", "value"))
        if not self.doses or time_h <= min(d.start_h for d in self.doses):
            raise InvalidInput(Problem("level.time_h", f"a level at {time_h} h comes before any recorded dose", "value"))
        self.levels.append(Level(time_h, concentration_mg_l))

    def typical(self) -> tuple[float, float]:
        """Population CL (L/h) and V (L) for this patient's covariates."""
        model = knowledge().model
        return model.cl_per_crcl * self.crcl_ml_min * 0.06, model.v_per_kg * self.weight_kg

    def estimate(self) -> PkEstimate:
        """MAP estimate of CL and V from all levels so far (the population values when there are none)."""
        model = knowledge().model
        cl_pop, v_pop = self.typical()
        omega = omega_from_cv([model.iiv_cv["cl"], model.iiv_cv["v"]], model.iiv_correlation)
        times = np.array([lv.time_h for lv in self.levels])
        observed = np.array([lv.concentration_mg_l for lv in self.levels])

        def predict(eta: np.ndarray) -> np.ndarray:
            return concentration(times, self.doses, cl_pop * math.exp(eta[0]), v_pop * math.exp(eta[1]))

        additive = model.residual_additive_mg_l if self.residual_additive_mg_l is None else self.residual_additive_mg_l
        proportional = model.residual_proportional if self.residual_proportional is None else self.residual_proportional
        fit = map_estimate(predict, observed, omega, additive, proportional)
        sd = math.sqrt(max(fit.covariance[0, 0], 0.0))
        return PkEstimate(cl_l_h=cl_pop * math.exp(fit.eta[0]), v_l=v_pop * math.exp(fit.eta[1]), log_cl_sd=sd,
                          levels_used=len(self.levels), converged=fit.converged)

    def predict(self, estimate: PkEstimate, dose_mg: float, interval_h: float) -> RegimenPrediction:
        """Steady-state exposure of a regimen for the estimated patient."""
        hours = infusion_hours(dose_mg)
        ss = steady_state(dose_mg, interval_h, hours, estimate.cl_l_h, estimate.v_l)
        spread = math.exp(Z90 * estimate.log_cl_sd)
        return RegimenPrediction(dose_mg=dose_mg, interval_h=interval_h, infusion_h=round(hours, 2),
                                 auc24=ss["auc24"], auc24_90ci=(ss["auc24"] / spread, ss["auc24"] * spread),
                                 trough_mg_l=ss["trough_mg_l"], peak_mg_l=ss["peak_mg_l"])

    def observed_auc(self, estimate: PkEstimate, start_h: float, end_h: float) -> float:
        """The estimated AUC over a past window of the actual dosing history."""
        return auc(self.doses, estimate.cl_l_h, estimate.v_l, start_h, end_h)


@dataclass(frozen=True)
class VancomycinRecommendation:
    """The recommended regimen, its predicted AUC24 and trough, the estimate behind it and the sources."""

    regimen: RegimenPrediction
    estimate: PkEstimate
    target_auc24: tuple[float, float]
    mic_mg_l: float
    alternatives: list[RegimenPrediction]
    warnings: list[str]
    citations: list[str]

    def to_dict(self) -> dict:
        """JSON-ready form (half-life included)."""
        data = asdict(self)
        data["estimate"]["half_life_h"] = self.estimate.half_life_h
        return data


def _candidates(course: VancomycinCourse, estimate: PkEstimate) -> list[RegimenPrediction]:
    rules = knowledge().dosing
    low, high = rules.dose_range_mg
    doses = np.arange(low, high + 1e-9, rules.dose_step_mg)
    return [course.predict(estimate, float(d), tau) for tau in rules.intervals_h for d in doses
            if d * 24 / tau <= rules.max_daily_mg]


def recommend(course: VancomycinCourse, mic_mg_l: float | None = None) -> VancomycinRecommendation:
    """Choose the regimen whose predicted AUC24/MIC is nearest the aim (500) within 400-600.

    Among regimens in range, prefer the usual 12-hour interval, then 8 or 24 hours, then longer ones.
    """
    kb = knowledge()
    mic = mic_mg_l or kb.targets.default_mic_mg_l
    if not 0.125 <= mic <= 4:
        raise InvalidInput(Problem("mic_mg_l", f"MIC {mic} mg/L is outside 0.125-4; AUC targets assume MIC <= 2", "value"))
    low, high = (bound * mic for bound in kb.targets.auc24_per_mic)
    aim = kb.targets.aim_auc24 * mic
    estimate = course.estimate()
    preference = {12.0: 0, 8.0: 1, 24.0: 1, 36.0: 2, 48.0: 3}
    options = _candidates(course, estimate)
    in_range = [r for r in options if low <= r.auc24 <= high]
    key = lambda r: (preference.get(r.interval_h, 4), abs(r.auc24 - aim))  # noqa: E731
    ranked = sorted(in_range, key=key) or sorted(options, key=lambda r: abs(r.auc24 - aim))
    warnings = _warnings(course, estimate, bool(in_range))
    citations = [str(kb.model.citation), str(kb.targets.citation), str(kb.dosing.citation)]
    return VancomycinRecommendation(regimen=ranked[0], estimate=estimate, target_auc24=(low, high), mic_mg_l=mic,
                                    alternatives=ranked[1:4], warnings=warnings, citations=citations)


def _warnings(course: VancomycinCourse, estimate: PkEstimate, reachable: bool) -> list[str]:
    model = knowledge().model
    notes = []
    for name, value in (("weight_kg", course.weight_kg), ("crcl_ml_min", course.crcl_ml_min)):
        lo, hi = model.population[name]
        if not lo <= value <= hi:
            notes.append(f"{name} {value:g} is outside the model's population ({lo:g}-{hi:g}): extrapolation.")
    if not course.levels:
        notes.append("No levels yet: the dose comes from the population model only; draw levels to individualise.")
    if not estimate.converged:
        notes.append("The Bayesian fit did not fully converge; check the dose and level times.")
    if not reachable:
        notes.append("No regimen within the dose limits reaches the target AUC range; the closest is shown.")
    return notes


def _number(data: dict, key: str, where: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(Problem(f"{where}{key}", "a number is required", "required"))
    return float(value)


def course_from_dict(data: dict) -> VancomycinCourse:
    """A course from JSON-like data: weight, CrCl (or creatinine, age and sex), doses and levels.

    Every problem names its field (``doses[1].amount_mg``, ``crcl_ml_min`` ...).
    """
    weight = _number(data, "weight_kg", "")
    if "crcl_ml_min" in data:
        crcl = _number(data, "crcl_ml_min", "")
    else:
        from medai.treatment.renal.kidney import cockcroft_gault

        crcl = cockcroft_gault(_number(data, "creatinine_mg_dl", ""), _number(data, "age_years", ""), weight,
                               str(data.get("sex", "")))
    course = VancomycinCourse(weight, crcl)
    doses, levels = data.get("doses") or [], data.get("levels") or []
    if not doses:
        raise InvalidInput(Problem("doses", "at least one dose is needed (empty course: use the population model "
                                   "with a first dose at time 0)", "required"))
    for i, dose in enumerate(doses):
        duration = dose.get("duration_h")
        course.add_dose(_number(dose, "start_h", f"doses[{i}]."), _number(dose, "amount_mg", f"doses[{i}]."),
                        None if duration is None else _number(dose, "duration_h", f"doses[{i}]."))
    for i, level in enumerate(levels):
        course.add_level(_number(level, "time_h", f"levels[{i}]."), _number(level, "concentration_mg_l", f"levels[{i}]."))
    return course
