"""Warfarin dose recommendations: learned model dose + interval + factors, IWPC doses and CPIC interpretation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache

from medai.errors import InvalidInput
from medai.treatment.warfarin.cpic import CpicInterpretation, interpret
from medai.treatment.warfarin.features import feature_matrix
from medai.treatment.warfarin.iwpc import iwpc_dose
from medai.treatment.warfarin.model import Factor, WarfarinDoseModel
from medai.treatment.warfarin.patient import WarfarinPatient

MODEL_NAME = "warfarin-dose"
WEIGHTS_FILE = "model.json"


@dataclass(frozen=True)
class LoadedModel:
    """A fitted model with the identity of the package it came from (for audit)."""

    model: WarfarinDoseModel
    identity: dict[str, str] = field(default_factory=dict)


@lru_cache(maxsize=1)
def load_shipped_model() -> LoadedModel:
    """The installed ``warfarin-dose`` model package (hash-checked), cached."""
    from medai.models import default_registry

    package = default_registry().get(MODEL_NAME)
    model = WarfarinDoseModel.from_json(package.file(WEIGHTS_FILE).read_text(encoding="utf-8"))
    return LoadedModel(model=model, identity=package.identity())


@dataclass(frozen=True)
class WarfarinRecommendation:
    """Predicted stable weekly dose with its interval and the factors that moved it, plus reference doses."""

    patient_id: str | None
    predicted_weekly_dose_mg: float
    interval_mg: tuple[float, float]
    interval_level: float
    factors: list[Factor]
    iwpc_pharmacogenetic_mg: float | None
    iwpc_clinical_mg: float | None
    cpic: CpicInterpretation
    notes: list[str]
    model: dict[str, str]

    @property
    def predicted_daily_dose_mg(self) -> float:
        """The weekly dose spread evenly over seven days."""
        return self.predicted_weekly_dose_mg / 7

    def to_dict(self) -> dict:
        """JSON-ready form."""
        data = asdict(self)
        data["factors"] = [{"factor": f.factor, "percent": round(float(f.percent), 1)} for f in self.factors]
        return data


def _iwpc(patient: WarfarinPatient, algorithm: str, notes: list[str]) -> float | None:
    try:
        estimate = iwpc_dose(patient, algorithm)
    except InvalidInput as exc:
        notes.append(f"IWPC {algorithm} dose not computed: {exc}")
        return None
    notes.extend(n for n in estimate.notes if n not in notes)
    return round(estimate.weekly_dose_mg, 1)


def recommend(patient: WarfarinPatient, loaded: LoadedModel | None = None, max_factors: int = 6) -> WarfarinRecommendation:
    """The full warfarin recommendation for one patient."""
    loaded = loaded or load_shipped_model()
    X = feature_matrix([patient])
    dose = float(loaded.model.predict(X)[0])
    low, high = loaded.model.predict_interval(X)
    notes: list[str] = []
    pg, clinical = _iwpc(patient, "pharmacogenetic", notes), _iwpc(patient, "clinical", notes)
    return WarfarinRecommendation(
        patient_id=patient.patient_id, predicted_weekly_dose_mg=round(dose, 1),
        interval_mg=(round(float(low[0]), 1), round(float(high[0]), 1)), interval_level=loaded.model.interval,
        factors=loaded.model.explain(X)[0][:max_factors], iwpc_pharmacogenetic_mg=pg, iwpc_clinical_mg=clinical,
        cpic=interpret(patient), notes=notes, model=loaded.identity)


def predict_doses(patients: list[WarfarinPatient], loaded: LoadedModel | None = None) -> list[float]:
    """Predicted stable weekly doses (mg/week) for many patients at once."""
    loaded = loaded or load_shipped_model()
    return [float(d) for d in loaded.model.predict(feature_matrix(patients))] if patients else []
