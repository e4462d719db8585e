"""Risk application adapter: the NEWS2 CDS service and prediction endpoint."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache

from fastapi import APIRouter, Depends, HTTPException, Request

from medai.core.fhir import record_from_fhir
from medai.core.prediction import ModelIdentity
from medai.errors import InvalidInput
from medai.models import default_registry
from medai.risk.cards import news2_card
from medai.risk.news2 import News2Scorer
from medai.risk.task import latest_parameters, latest_vitals, news2_prediction
from medai.service.applications import Application, CdsInvocation, CdsResult, CdsService
from medai.service.deps import ANY_PERSON, check_patient_access, require_roles
from medai.service.predictions import record_prediction
from medai.store.accounts import Principal

MODEL_NAME = "news2"
router = APIRouter(prefix="/api/risk", tags=["risk"])


@lru_cache(maxsize=1)
def news2_model() -> tuple[News2Scorer, ModelIdentity]:
    """The shipped NEWS2 package: its scorer (chart from the package) and its identity."""
    package = default_registry().get(MODEL_NAME)
    scorer = News2Scorer(table_path=package.file("news2.yaml")).fit()
    return scorer, ModelIdentity(**package.identity())


def _vitals_from_prefetch(bundle: dict, scorer: News2Scorer) -> dict[str, float | None]:
    measurements = []
    for index, entry in enumerate(bundle.get("entry") or []):
        resource = entry.get("resource") or {}
        if resource.get("resourceType") != "Observation":
            continue
        try:
            record = record_from_fhir(resource)
        except (InvalidInput, KeyError) as error:
            raise HTTPException(400, f"prefetch.vitals.entry[{index}]: {error}") from None
        measurements.append((record.loinc, record.effective or datetime.min.replace(tzinfo=timezone.utc), record.value))
    return latest_parameters(measurements, scorer)


def _vitals(invocation: CdsInvocation, patient_id: str, scorer: News2Scorer) -> dict[str, float | None]:
    prefetched = invocation.prefetch.get("vitals")
    if isinstance(prefetched, dict) and prefetched.get("resourceType") == "Bundle":
        return _vitals_from_prefetch(prefetched, scorer)
    with invocation.engine.connect() as connection:
        return latest_vitals(connection, patient_id, scorer=scorer)


def news2_cds(invocation: CdsInvocation) -> CdsResult:
    """patient-view: a NEWS2 card from the prefetched or stored vitals of the last 24 hours."""
    patient_id = invocation.context["patientId"]
    scorer, identity = news2_model()
    vitals = _vitals(invocation, patient_id, scorer)
    prediction = news2_prediction(vitals, scorer, identity, patient_id)
    if prediction is None:
        card = {"uuid": f"news2-unavailable-{patient_id}", "summary": "NEWS2 not available: fewer than 3 vital signs in the last 24 hours",
                "indicator": "info", "source": {"label": "medai NEWS2 early warning"}}
        return CdsResult(cards=[card])
    base = str(invocation.request.base_url).rstrip("/")
    card = news2_card(prediction, scorer.response(vitals), source_url=f"{base}/ui/models/{MODEL_NAME}")
    card["links"] = [{"label": "Open the patient in medai", "url": f"{base}/ui/patients/{patient_id}", "type": "absolute"}]
    return CdsResult(cards=[card], predictions=[prediction])


@router.get("/patients/{patient_id}/news2")
def patient_news2(patient_id: str, request: Request, principal: Principal = Depends(require_roles(*ANY_PERSON))) -> dict:
    """Score NEWS2 now for a patient; the prediction is stored and audited."""
    check_patient_access(principal, patient_id)
    scorer, identity = news2_model()
    with request.app.state.engine.connect() as connection:
        prediction = news2_prediction(latest_vitals(connection, patient_id, scorer=scorer), scorer, identity, patient_id)
    if prediction is None:
        raise HTTPException(404, f"no NEWS2 for Patient/{patient_id}: fewer than 3 vital signs in the last {timedelta(hours=24)}")
    record_prediction(request.app.state.engine, principal, prediction, action="predict:news2")
    return prediction.model_dump(mode="json")


def risk_application() -> Application:
    """The risk application's routers and CDS services."""
    service = CdsService(
        id="news2-deterioration", hook="patient-view", title="NEWS2 clinical deterioration",
        description="National Early Warning Score 2 from the patient's latest vital signs, with the RCP response.",
        handler=news2_cds,
        prefetch={"patient": "Patient/{{context.patientId}}",
                  "vitals": "Observation?patient={{context.patientId}}&category=vital-signs&_sort=-date&_count=100"})
    return Application(name="risk", routers=[router], cds_services=[service])
