"""Store a prediction and write its audit record: the one path every prediction takes."""

from __future__ import annotations

from sqlalchemy import Engine, insert

from medai.core.prediction import Prediction
from medai.store.accounts import Principal
from medai.store.audit import AuditEvent, append
from medai.store.schema import predictions


def record_prediction(engine: Engine, principal: Principal, prediction: Prediction, action: str) -> None:
    """Persist ``prediction`` (one transaction) and audit it with the model's identity."""
    with engine.begin() as connection:
        connection.execute(insert(predictions), {
            "id": prediction.id, "patient_id": prediction.patient_id, "model_id": prediction.model.model_id,
            "model_version": prediction.model.model_version, "weights_sha256": prediction.model.weights_sha256,
            "input_hash": prediction.input_hash, "created": prediction.created, "value": prediction.value,
            "label": prediction.label, "threshold": prediction.threshold,
            "explanation": prediction.explanation.model_dump(mode="json")})
    append(engine, AuditEvent(actor=principal.username, role=principal.role, action=action, patient_id=prediction.patient_id,
                              model_id=prediction.model.model_id, model_version=prediction.model.model_version,
                              weights_sha256=prediction.model.weights_sha256,
                              detail={"prediction_id": prediction.id, "input_hash": prediction.input_hash}))
