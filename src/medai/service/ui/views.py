"""What the UI pages show, read from the store: patient list rows, a patient's chart, sepsis risk, the ward, past predictions.

Plain functions over a SQLAlchemy connection, so the page handlers in ``routes.py`` stay thin
and these can be tested without HTTP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Connection, desc, func, select

from medai.core import records
from medai.core.catalog import lookup
from medai.core.fhir import record_from_fhir
from medai.core.prediction import ModelIdentity, Prediction
from medai.models.errors import ModelPackageError
from medai.errors import NotFound
from medai.risk.news2 import News2Scorer, News2Table
from medai.risk.sepsis.model import SepsisModel
from medai.risk.sepsis.monitor import risk_level
from medai.risk.sepsis.patient import LOOKBACK as SEPSIS_LOOKBACK
from medai.risk.sepsis.patient import RiskTimeline, patient_timeline
from medai.risk.sepsis.variables import sepsis_variables
from medai.risk.task import latest_vitals, news2_prediction
from medai.service.ui.timeline import VITAL_BY_LOINC, VITAL_SIGNS, Point
from medai.store.clinical import get_resource, list_patients, patient_records
from medai.store.schema import observations, predictions, resources

NEWS2_WINDOW = timedelta(hours=24)
WARD_WINDOW = timedelta(hours=24)  # the ward scores patients with observations this recent
TIMELINE_WINDOW = timedelta(hours=48)
VITAL_LOINCS = tuple(VITAL_BY_LOINC)


def utc(value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC datetime (SQLite returns naive UTC datetimes)."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


# -- NEWS2 ------------------------------------------------------------------------------------

@dataclass
class News2Model:
    """The loaded NEWS2 package, or why it is unavailable."""

    scorer: News2Scorer | None = None
    identity: ModelIdentity | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.scorer is not None


def load_news2() -> News2Model:
    """The shipped NEWS2 model; a missing or broken package is reported instead of raised."""
    from medai.service.routers.risk import news2_model

    try:
        scorer, identity = news2_model()
    except (NotFound, ModelPackageError, OSError, ValueError) as error:
        return News2Model(error=str(error))
    return News2Model(scorer, identity)


def risk_class(score: float | None, risk: str | None) -> str:
    """The CSS class of a NEWS2 badge: zero, low, low-medium, medium or high."""
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return "none"
    if score == 0:
        return "zero"
    return (risk or "low").replace(" ", "-")


@dataclass
class News2Result:
    """A NEWS2 score with its RCP response, for display."""

    prediction: Prediction
    risk: str
    action: str
    badge: str
    measured_at: datetime | None


def score_news2(connection: Connection, patient_id: str, model: News2Model, now: datetime) -> News2Result | None:
    """NEWS2 from the patient's latest vitals of the last 24 h; None when fewer than 3 were measured."""
    if not model.ok:
        return None
    vitals = latest_vitals(connection, patient_id, now=now, max_age=NEWS2_WINDOW, scorer=model.scorer)
    prediction = news2_prediction(vitals, model.scorer, model.identity, patient_id)
    if prediction is None:
        return None
    response = model.scorer.response(vitals)
    measured = vitals.get("measured_at")
    return News2Result(prediction, response.risk, response.action, risk_class(prediction.value, response.risk),
                       datetime.fromisoformat(measured) if isinstance(measured, str) else None)


def normal_bands(model: News2Model) -> dict[str, tuple[float, float]]:
    """Per NEWS2 parameter, the value range scoring 0 points (from the model's chart, else the shipped one)."""
    table = model.scorer.table_ if model.ok else News2Table.load()
    bands = {}
    for name, parameter in table.parameters.items():
        zero = [(low, high) for low, high, points in parameter.bands if points == 0]
        if zero:
            low, high = zero[0]
            bands[name] = (max(low, 0.0), min(high, 100.0) if name == "oxygen_saturation" else high)
    return bands


# -- sepsis -----------------------------------------------------------------------------------

SEPSIS_NOT_INSTALLED = "the 'sepsis-ews' model package is not installed"
LEVEL_BADGE = {"high": "high", "moderate": "medium", "low": "low"}  # sepsis level -> NEWS2 badge colour


@dataclass
class SepsisStatus:
    """The loaded sepsis model, or why it is unavailable (``installed`` False: no package at all)."""

    model: SepsisModel | None = None
    error: str | None = None
    installed: bool = True

    @property
    def ok(self) -> bool:
        return self.model is not None


def load_sepsis() -> SepsisStatus:
    """The installed sepsis model (through the sepsis router's cached loader); missing or broken is reported, not raised."""
    from medai.service.routers import sepsis as sepsis_router

    try:
        model = sepsis_router.sepsis_model()
    except (NotFound, ModelPackageError, OSError, ValueError) as error:
        return SepsisStatus(error=str(error))
    if model is None:
        return SepsisStatus(error=SEPSIS_NOT_INSTALLED, installed=False)
    return SepsisStatus(model)


@dataclass
class SepsisResult:
    """A patient's sepsis risk timeline and its latest prediction, for display."""

    timeline: RiskTimeline
    level: str  # high / moderate / low

    @property
    def prediction(self) -> Prediction:
        return self.timeline.prediction

    @property
    def probability(self) -> float:
        return float(self.timeline.prediction.value)

    @property
    def threshold(self) -> float:
        return float(self.timeline.prediction.threshold)

    @property
    def badge(self) -> str:
        """The CSS risk class of the level (high red, moderate orange, low green)."""
        return LEVEL_BADGE[self.level]

    @property
    def as_of(self) -> datetime:
        """The hour of the latest score."""
        return utc(self.timeline.hours[-1])

    @property
    def points(self) -> int:
        return len(self.timeline.risks)

    @property
    def alert_hours(self) -> int:
        return int(sum(bool(a) for a in self.timeline.alerts))

    @property
    def factors(self) -> list:
        """The explanation's contributions pushing the risk up, largest first."""
        return list(self.timeline.prediction.explanation.contributions)

    @property
    def top_factor(self) -> str | None:
        return self.factors[0].note if self.factors else None

    def recent(self, hours: int = 24) -> list[float]:
        """The risks of the last ``hours`` hourly scores."""
        return [float(r) for r in self.timeline.risks[-hours:]]


def score_sepsis(connection: Connection, patient_id: str, status: SepsisStatus, now: datetime) -> SepsisResult | None:
    """The patient's hourly sepsis risk over the last week; None without a model or without usable vitals and labs."""
    if not status.ok:
        return None
    timeline = patient_timeline(connection, patient_id, status.model, now=now)
    if timeline is None or not len(timeline.risks):
        return None
    return SepsisResult(timeline, risk_level(float(timeline.prediction.value), float(timeline.prediction.threshold)))


def sepsis_window(result: SepsisResult | None, now: datetime) -> tuple[datetime, datetime]:
    """The risk timeline's window: the last week up to now (widened to take every score)."""
    start, end = now - SEPSIS_LOOKBACK, now
    if result is not None:
        start = min(start, utc(result.timeline.hours[0]))
        end = max(end, result.as_of)
    return start, end


def sepsis_loincs() -> tuple[str, ...]:
    """Every LOINC code the sepsis model reads."""
    return tuple(sepsis_variables().by_loinc())


# -- the patient list -------------------------------------------------------------------------

@dataclass
class PatientRow:
    """One row of the patient list."""

    patient: records.Patient
    age: int | None
    location: str | None
    admitted: datetime | None
    news2: News2Result | None = None


def age_on(birth: date | None, today: date) -> int | None:
    """Age in whole years on ``today``."""
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def current_encounters(connection: Connection, patient_ids: list[str] | None = None) -> dict[str, records.Encounter]:
    """Each patient's latest in-progress Encounter (one query)."""
    query = select(resources.c.body).where(resources.c.resource_type == "Encounter",
                                          resources.c.body["status"].as_string() == "in-progress")
    if patient_ids is not None:
        if not patient_ids:
            return {}
        query = query.where(resources.c.patient_id.in_(patient_ids))
    latest: dict[str, records.Encounter] = {}
    floor = datetime.min.replace(tzinfo=timezone.utc)
    for (body,) in connection.execute(query):
        encounter = record_from_fhir(body)
        if encounter.patient_id is None:
            continue
        held = latest.get(encounter.patient_id)
        if held is None or (utc(encounter.start) or floor) > (utc(held.start) or floor):
            latest[encounter.patient_id] = encounter
    return latest


def patients_with_recent_vitals(connection: Connection, since: datetime, loincs: tuple[str, ...]) -> set[str]:
    """Ids of patients with at least one of the ``loincs`` measured since ``since`` (one query)."""
    query = select(observations.c.patient_id).where(observations.c.effective >= since,
                                                   observations.c.loinc.in_(loincs)).distinct()
    return {row[0] for row in connection.execute(query)}


def patient_list(connection: Connection, model: News2Model, now: datetime, limit: int = 500) -> list[PatientRow]:
    """Patients with age, current location and a live NEWS2 (only for those with vitals in the last 24 h)."""
    patients = list_patients(connection, limit=limit)
    encounters = current_encounters(connection, [p.id for p in patients]) if patients else {}
    recent: set[str] = set()
    if model.ok:
        codes = tuple({p.loinc for p in model.scorer.table_.parameters.values()} | set(VITAL_LOINCS))
        recent = patients_with_recent_vitals(connection, now - NEWS2_WINDOW, codes)
    rows = []
    for patient in patients:
        encounter = encounters.get(patient.id)
        row = PatientRow(patient, age_on(patient.birth_date, now.date()), encounter.location if encounter else None,
                         utc(encounter.start) if encounter else None)
        if patient.id in recent:
            row.news2 = score_news2(connection, patient.id, model, now)
        rows.append(row)
    return rows


# -- one patient's chart ----------------------------------------------------------------------

def get_patient(connection: Connection, patient_id: str) -> records.Patient:
    """The patient record, or ``NotFound``."""
    record = record_from_fhir(get_resource(connection, "Patient", patient_id))
    assert isinstance(record, records.Patient)
    return record


@dataclass
class VitalsView:
    """The timeline window, its points per NEWS2 parameter and the latest value of each vital sign."""

    start: datetime
    end: datetime
    series: dict[str, list[Point]]
    latest: list[dict]
    anchored: bool = False  # True when the window ends at the last measurement, not now
    count: int = 0


def vitals_view(connection: Connection, patient_id: str, now: datetime, window: timedelta = TIMELINE_WINDOW) -> VitalsView:
    """The vital signs of the ``window`` before now; if none, of the window before the last measurement."""
    last = utc(connection.execute(select(func.max(observations.c.effective)).where(
        observations.c.patient_id == patient_id, observations.c.loinc.in_(VITAL_LOINCS),
        observations.c.value.is_not(None))).scalar())
    anchored = last is not None and last < now - window
    end = last if anchored else now
    start = end - window
    query = (select(observations.c.loinc, observations.c.effective, observations.c.value)
             .where(observations.c.patient_id == patient_id, observations.c.loinc.in_(VITAL_LOINCS),
                    observations.c.value.is_not(None), observations.c.effective >= start, observations.c.effective <= end)
             .order_by(observations.c.effective))
    series: dict[str, list[Point]] = {v.parameter: [] for v in VITAL_SIGNS}
    count = 0
    for loinc, effective, value in connection.execute(query):
        series[VITAL_BY_LOINC[loinc].parameter].append((utc(effective), value))
        count += 1
    latest = []
    for vital in VITAL_SIGNS:
        points = series[vital.parameter]
        values = [v for _, v in points]
        latest.append({"vital": vital, "value": points[-1][1] if points else None,
                       "time": points[-1][0] if points else None,
                       "min": min(values) if values else None, "max": max(values) if values else None,
                       "count": len(points)})
    return VitalsView(start, end, series, latest, anchored, count)


def latest_labs(connection: Connection, patient_id: str) -> list[dict]:
    """Each laboratory test's latest value, with the previous value for the trend (one query)."""
    query = (select(observations.c.loinc, observations.c.display, observations.c.effective, observations.c.value,
                    observations.c.unit, observations.c.value_text)
             .where(observations.c.patient_id == patient_id, observations.c.category == "laboratory")
             .order_by(observations.c.effective))
    by_code: dict[str, list] = {}
    for row in connection.execute(query):
        by_code.setdefault(row.loinc or row.display or "?", []).append(row)
    labs = []
    for code, rows in by_code.items():
        last, previous = rows[-1], rows[-2] if len(rows) > 1 else None
        kind = lookup(code) if code else None
        labs.append({"code": code, "name": kind.name if kind else (last.display or code),
                     "value": last.value, "value_text": last.value_text, "unit": last.unit, "time": utc(last.effective),
                     "previous": previous.value if previous is not None else None,
                     "delta": (last.value - previous.value) if previous is not None and last.value is not None
                     and previous.value is not None else None,
                     "count": len(rows)})
    return sorted(labs, key=lambda lab: lab["name"].lower())


def _by_time(items: list, attribute: str) -> list:
    floor = datetime.min.replace(tzinfo=timezone.utc)
    return sorted(items, key=lambda r: utc(getattr(r, attribute)) or floor, reverse=True)


@dataclass
class ChartLists:
    """The patient's problems, medications, allergies and notes."""

    problems: list[records.Condition] = field(default_factory=list)
    medications: list[records.MedicationRequest] = field(default_factory=list)
    allergies: list[records.AllergyIntolerance] = field(default_factory=list)
    notes: list[records.DocumentReference] = field(default_factory=list)


def chart_lists(connection: Connection, patient_id: str) -> ChartLists:
    """Conditions (active first), medication requests (active first), allergies and notes (newest first)."""
    active_first = {"active": 0, "recurrence": 0, "relapse": 0}
    problems = _by_time(patient_records(connection, "Condition", patient_id), "recorded")
    problems.sort(key=lambda c: active_first.get(c.clinical_status or "", 1))
    meds = _by_time(patient_records(connection, "MedicationRequest", patient_id), "authored_on")
    meds.sort(key=lambda m: 0 if m.status in ("active", "on-hold", "draft") else 1)
    allergies = patient_records(connection, "AllergyIntolerance", patient_id)
    notes = _by_time(patient_records(connection, "DocumentReference", patient_id), "date")
    return ChartLists(problems, meds, allergies, notes)


def past_predictions(connection: Connection, patient_id: str, limit: int = 25) -> list[dict]:
    """The patient's stored predictions, newest first."""
    query = (select(predictions.c.id, predictions.c.created, predictions.c.model_id, predictions.c.model_version,
                    predictions.c.weights_sha256, predictions.c.value, predictions.c.label, predictions.c.threshold)
             .where(predictions.c.patient_id == patient_id).order_by(desc(predictions.c.created)).limit(limit))
    return [{**row._asdict(), "created": utc(row.created)} for row in connection.execute(query)]


# -- the ward ---------------------------------------------------------------------------------

@dataclass
class WardRow:
    """One patient of the ward view: where they are, their current sepsis risk and NEWS2."""

    patient: records.Patient
    age: int | None
    location: str | None
    sepsis: SepsisResult | None = None
    news2: News2Result | None = None
    last_data: datetime | None = None

    @property
    def sort_key(self) -> tuple:
        """Highest sepsis risk first, then highest NEWS2, then name; patients without a risk last."""
        risk = self.sepsis.probability if self.sepsis else -1.0
        score = self.news2.prediction.value if self.news2 else -1.0
        return (-risk, -score, self.patient.family_name or "", self.patient.given_names)


def ward_list(connection: Connection, sepsis: SepsisStatus, news2: News2Model, now: datetime,
              limit: int = 500) -> tuple[list[WardRow], int]:
    """The patients with vitals or labs in the last 24 h, highest sepsis risk first; and how many others there are."""
    patients = list_patients(connection, limit=limit)
    codes = set(sepsis_loincs()) | set(VITAL_LOINCS)
    if news2.ok:
        codes |= {p.loinc for p in news2.scorer.table_.parameters.values()}
    since = now - WARD_WINDOW
    latest = dict(connection.execute(
        select(observations.c.patient_id, func.max(observations.c.effective))
        .where(observations.c.effective >= since, observations.c.effective <= now,
               observations.c.loinc.in_(tuple(codes)))
        .group_by(observations.c.patient_id)).all())
    recent = [p for p in patients if p.id in latest]
    encounters = current_encounters(connection, [p.id for p in recent]) if recent else {}
    rows = []
    for patient in recent:
        encounter = encounters.get(patient.id)
        rows.append(WardRow(patient, age_on(patient.birth_date, now.date()), encounter.location if encounter else None,
                            score_sepsis(connection, patient.id, sepsis, now),
                            score_news2(connection, patient.id, news2, now), utc(latest[patient.id])))
    rows.sort(key=lambda row: row.sort_key)
    return rows, len(patients) - len(recent)
