"""Store a prediction and write its audit record: the one path every prediction takes."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, insert

from medai.core.prediction import Prediction
from medai.store.accounts import Principal
from medai.store.audit import AuditEvent, append_in
from medai.store.schema import predictions


def record_prediction(engine: Engine, principal: Principal, prediction: Prediction, action: str) -> None:
    """Persist ``prediction`` and its audit record in one transaction."""
    with engine.begin() as connection:
        store_prediction(connection, principal, prediction, action)


def store_prediction(connection: Connection, principal: Principal, prediction: Prediction, action: str) -> None:
    """Insert ``prediction`` and audit it with the model's identity, inside the caller's transaction
    (so a prediction and the resources it produced commit together or not at all)."""
    connection.execute(insert(predictions), {
        "id": prediction.id, "patient_id": prediction.patient_id, "model_id": prediction.model.model_id,
        "model_version": prediction.model.model_version, "weights_sha256": prediction.model.weights_sha256,
        "input_hash": prediction.input_hash, "created": prediction.created, "value": prediction.value,
        "label": prediction.label, "threshold": prediction.threshold,
        "explanation": prediction.explanation.model_dump(mode="json")})
    append_in(connection, AuditEvent(actor=principal.username, role=principal.role, action=action,
                                     patient_id=prediction.patient_id, model_id=prediction.model.model_id,
                                     model_version=prediction.model.model_version,
                                     weights_sha256=prediction.model.weights_sha256,
                                     detail={"prediction_id": prediction.id, "input_hash": prediction.input_hash}))
