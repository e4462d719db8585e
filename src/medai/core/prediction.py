"""The Prediction every model returns: value, explanation and the model's identity."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timezone

from pydantic import BaseModel, Field

from medai.explain.types import Explanation


class ModelIdentity(BaseModel):
    """Which model made a prediction, down to its weights."""

    model_id: str
    model_version: str
    weights_sha256: str


class Prediction(BaseModel):
    """One prediction for one patient, carrying everything an audit or a clinician needs."""

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    patient_id: str | None = None
    model: ModelIdentity
    value: float = Field(description="The score or probability.")
    label: str = Field(description="The finding in words, e.g. 'NEWS2 7: high clinical risk'.")
    probability: float | None = Field(default=None, description="Calibrated probability, when the model gives one.")
    threshold: float | None = None
    explanation: Explanation
    input_hash: str
    created: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))


def hash_inputs(inputs: object) -> str:
    """SHA-256 of the model inputs in canonical JSON (to tie a prediction to its exact input)."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str, separators=(",", ":")).encode()).hexdigest()
