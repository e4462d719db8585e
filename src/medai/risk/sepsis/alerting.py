"""Turning hourly sepsis risk into alerts, and measuring alert streams.

An :class:`AlertPolicy` says when a risk score becomes a notification: at or above
``threshold``; not again within ``suppression_hours`` of the last alert unless the risk has
risen by ``escalation_delta`` since that alert; and never at all in ``silent_mode`` (a local
silent-validation period: scores and decisions are stored, nobody is paged). In silent mode
each decision still records ``would_notify``, so the policy can be validated before go-live.

:class:`AlertState` applies a policy one score at a time (streaming); ``AlertPolicy.decide``
replays a whole history. The metrics take per-patient 0/1 alert flags (one per monitored
hour, after suppression) and ``SepsisLabel`` arrays; onset is the first positive label + 6
hours (:func:`medai.risk.sepsis.task.onset_hour`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from medai.errors import InvalidInput, Problem
from medai.risk.sepsis.task import onset_hour

Reason = Literal["first alert", "repeat alert", "escalation", "suppressed", "below threshold", "silent mode"]
LATE_HOURS = 3  # alerts up to onset + 3 h still count as detections (the challenge's dt_late)


class AlertDecision(BaseModel):
    """What the policy decided for one score.

    ``notify``: send a notification now. ``would_notify``: the policy fires here (equal to
    ``notify`` except in silent mode, where nothing is sent). ``reason`` says why.
    """

    model_config = ConfigDict(frozen=True)

    hour: float
    score: float | None
    notify: bool
    would_notify: bool
    reason: Reason


class AlertPolicy(BaseModel):
    """When a risk score notifies: threshold, suppression window, escalation and silent mode."""

    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(description="Alert when score >= threshold.")
    silent_mode: bool = Field(False, description="Score and store decisions but never notify (silent validation).")
    suppression_hours: float = Field(6.0, ge=0, description="After an alert, no new alert for this many hours ...")
    escalation_delta: float | None = Field(None, gt=0, description="... unless the score rose by at least this since that alert.")

    @field_validator("threshold")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("threshold must be a finite number")
        return value

    @classmethod
    def from_yaml(cls, path: str | Path) -> "AlertPolicy":
        """A site's policy from a YAML file with the fields of this model."""
        return cls.model_validate(yaml.safe_load(Path(path).read_text()))

    def new_state(self) -> "AlertState":
        """A fresh streaming state (one per patient stay)."""
        return AlertState(self)

    def decide(self, scores: Sequence[float], hours: Sequence[float] | None = None) -> list[AlertDecision]:
        """Replay a history of scores (at ``hours``, default 0, 1, 2, ...) through a fresh state."""
        scores = list(np.asarray(scores, dtype=float).ravel())
        hours = list(range(len(scores))) if hours is None else list(np.asarray(hours, dtype=float).ravel())
        if len(hours) != len(scores):
            raise InvalidInput(Problem("hours", f"has {len(hours)} entries, scores has {len(scores)}"))
        state = self.new_state()
        return [state.update(score, hour) for score, hour in zip(scores, hours)]

    def alert_flags(self, scores: Sequence[float], hours: Sequence[float] | None = None) -> np.ndarray:
        """Per-hour bool flags where the policy fires (``would_notify``; silent mode does not blank them)."""
        return np.array([d.would_notify for d in self.decide(scores, hours)], dtype=bool)


@dataclass
class AlertState:
    """The policy applied to one patient's stream of scores; keep one per stay.

    The attributes are all that needs persisting between calls.
    """

    policy: AlertPolicy
    last_alert_hour: float | None = None
    last_alert_score: float | None = None
    last_hour: float | None = None

    def update(self, score: float | None, hour: float) -> AlertDecision:
        """Decide on a new score at ``hour`` (hours must not go backwards). A missing score is below threshold."""
        hour = float(hour)
        if self.last_hour is not None and hour < self.last_hour:
            raise InvalidInput(Problem("hour", f"{hour:g} is earlier than the previous score's hour {self.last_hour:g}; "
                                               "feed scores in time order", "value"))
        self.last_hour = hour
        value = None if score is None or math.isnan(float(score)) else float(score)
        policy = self.policy
        if value is None or value < policy.threshold:
            return AlertDecision(hour=hour, score=value, notify=False, would_notify=False, reason="below threshold")
        if self.last_alert_hour is None:
            reason: Reason = "first alert"
        elif hour - self.last_alert_hour >= policy.suppression_hours:
            reason = "repeat alert"
        elif policy.escalation_delta is not None and value - self.last_alert_score >= policy.escalation_delta:
            reason = "escalation"
        else:
            return AlertDecision(hour=hour, score=value, notify=False, would_notify=False, reason="suppressed")
        self.last_alert_hour, self.last_alert_score = hour, value
        if policy.silent_mode:
            return AlertDecision(hour=hour, score=value, notify=False, would_notify=True, reason="silent mode")
        return AlertDecision(hour=hour, score=value, notify=True, would_notify=True, reason=reason)


# ---- metrics of alert streams ---------------------------------------------------------------------------


def _flags(alert_flags_per_patient: Sequence[Any], name: str = "alert_flags_per_patient") -> list[np.ndarray]:
    arrays = []
    for i, flags in enumerate(alert_flags_per_patient):
        array = np.asarray(flags, dtype=float)
        if array.ndim != 1:
            raise InvalidInput(Problem(f"{name}[{i}]", f"must be a 1-D array, got shape {array.shape}"))
        if not np.all(np.isin(array, (0.0, 1.0))):
            raise InvalidInput(Problem(f"{name}[{i}]", "must contain only 0/1 (or bool) alert flags", "value"))
        arrays.append(array.astype(bool))
    return arrays


def _paired(labels_per_patient: Sequence[Any], alert_flags_per_patient: Sequence[Any]) -> list[tuple[int | None, np.ndarray]]:
    """(onset hour or None, flags) per patient, lengths checked."""
    flags = _flags(alert_flags_per_patient)
    if len(labels_per_patient) != len(flags):
        raise InvalidInput(Problem("alert_flags_per_patient", f"has {len(flags)} patients, labels have {len(labels_per_patient)}"))
    pairs = []
    for i, (labels, f) in enumerate(zip(labels_per_patient, flags)):
        labels = np.asarray(labels)
        if labels.ndim != 1 or len(labels) != len(f):
            raise InvalidInput(Problem(f"alert_flags_per_patient[{i}]", f"has {len(f)} hours, the patient's labels have {labels.size}"))
        pairs.append((onset_hour(labels), f))
    return pairs


def alerts_per_100_patient_days(alert_flags_per_patient: Sequence[Any]) -> float:
    """Alerts (flags after suppression) per 100 patient-days, each flag array's length being its monitored hours."""
    flags = _flags(alert_flags_per_patient)
    hours = sum(len(f) for f in flags)
    if hours == 0:
        raise InvalidInput(Problem("alert_flags_per_patient", "has no monitored hours"))
    return float(sum(int(f.sum()) for f in flags) / (hours / 24.0) * 100.0)


def lead_times(labels_per_patient: Sequence[Any], alert_flags_per_patient: Sequence[Any]) -> np.ndarray:
    """Hours from the first alert to onset, for septic patients whose first alert came strictly before onset."""
    leads = []
    for onset, flags in _paired(labels_per_patient, alert_flags_per_patient):
        if onset is None or not flags.any():
            continue
        first = int(np.argmax(flags))
        if first < onset:
            leads.append(onset - first)
    return np.asarray(leads, dtype=float)


def median_lead_time(labels_per_patient: Sequence[Any], alert_flags_per_patient: Sequence[Any]) -> float:
    """Median of :func:`lead_times` in hours (NaN when no septic patient was alerted before onset)."""
    leads = lead_times(labels_per_patient, alert_flags_per_patient)
    return float(np.median(leads)) if leads.size else float("nan")


def sensitivity_by_patient(labels_per_patient: Sequence[Any], alert_flags_per_patient: Sequence[Any],
                           late_hours: int = LATE_HOURS) -> float:
    """Share of septic patients with any alert up to onset + ``late_hours`` (default 3, the challenge's dt_late)."""
    septic = detected = 0
    for onset, flags in _paired(labels_per_patient, alert_flags_per_patient):
        if onset is None:
            continue
        septic += 1
        detected += bool(flags[: onset + late_hours + 1].any())
    if septic == 0:
        raise InvalidInput(Problem("labels_per_patient", "has no septic patient, so per-patient sensitivity is undefined", "value"))
    return detected / septic
