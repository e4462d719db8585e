"""Sepsis through the service: streamed Observations update the risk, stored as RiskAssessments; CDS card; MQTT feeds."""

import json
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from medai.core.fhir import validate_resource
from tests.conftest import vital


def _stream(service, patient, hours=8, sick=True):
    now = datetime.now(timezone.utc)
    for h in range(hours):
        when = now - timedelta(hours=hours - h)
        drift = h / hours if sick else 0
        for loinc, value, unit in [("8867-4", 85 + 45 * drift, "/min"), ("9279-1", 16 + 14 * drift, "/min"),
                                   ("8480-6", 125 - 40 * drift, "mm[Hg]"), ("8310-5", 37 + 2 * drift, "Cel"),
                                   ("2524-7", 1.2 + 3.5 * drift, "mmol/L"), ("6690-2", 8 + 9 * drift, "10*3/uL")]:
            response = service.client.post("/fhir/Observation", json=vital(f"Patient/{patient}", loinc, round(value, 1), unit, when),
                                           headers=service.headers("service"))
            assert response.status_code == 201, response.text


def test_streamed_observations_produce_stored_risk_assessments(service):
    _stream(service, service.well_patient)
    found = service.client.get(f"/fhir/RiskAssessment?patient={service.well_patient}", headers=service.headers("clinician")).json()
    assert found["total"] == 48
    latest = found["entry"][-1]["resource"]
    validate_resource(latest)
    assert latest["prediction"][0]["rationale"].startswith("Sepsis risk")
    audit = service.client.get("/api/audit?limit=500", headers=service.headers("admin")).json()
    assert any(r["action"] == "predict:sepsis-stream" and r["model_id"] == "sepsis-ews" for r in audit)


def test_risk_timeline_and_cds_card(service):
    _stream(service, service.well_patient)
    payload = service.client.get(f"/api/sepsis/patients/{service.well_patient}/risk", headers=service.headers("clinician")).json()
    risks = [point["risk"] for point in payload["timeline"]]
    assert len(risks) >= 8 and risks[-1] > risks[0]
    assert payload["prediction"]["explanation"]["contributions"][0]["note"]
    hook = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()), "context": {"patientId": service.well_patient, "userId": "Practitioner/1"}}
    card = service.client.post("/cds-services/sepsis-early-warning", json=hook, headers=service.headers("clinician")).json()["cards"][0]
    assert card["summary"].startswith("Sepsis risk") and card["indicator"] in {"info", "warning", "critical"}
    assert card["links"][0]["url"].endswith(f"/ui/patients/{service.well_patient}")
    assert "Top factors" in card["detail"]


def test_alerts_are_queued_when_the_policy_notifies(service):
    _stream(service, service.sick_patient, hours=10)
    alerts = service.client.get("/api/sepsis/alerts", headers=service.headers("clinician")).json()
    assert alerts and alerts[0]["patient_id"] == service.sick_patient and alerts[0]["reason"] in {"first alert", "escalation", "repeat alert"}


def test_unknown_code_for_stream_is_rejected(service):
    obs = vital(f"Patient/{service.well_patient}", "2093-3", 180, "mg/dL", datetime.now(timezone.utc))
    response = service.client.post("/fhir/Observation", json=obs, headers=service.headers("service"))
    assert response.status_code == 422 and "unknown code" in response.text


@pytest.mark.mqtt
def test_mqtt_device_feed(service):
    """A monitor publishes to the patient's topic on the Mosquitto broker; medai stores it and answers bad messages."""
    import paho.mqtt.client as mqtt

    from medai.service.mqtt import MqttBridge

    bridge = MqttBridge(service.client.app, "mqtt://127.0.0.1:1883").start()
    errors, received = [], threading.Event()
    device = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"device-{uuid.uuid4().hex[:6]}")

    def on_message(_client, _userdata, message):
        errors.append(json.loads(message.payload))
        received.set()

    device.on_message = on_message
    device.connect("127.0.0.1", 1883)
    device.subscribe(f"medai/errors/{service.well_patient}", qos=1)
    device.loop_start()
    try:
        time.sleep(0.5)
        good = vital(f"Patient/{service.well_patient}", "8867-4", 101, "/min", datetime.now(timezone.utc))
        device.publish(f"medai/observations/{service.well_patient}", json.dumps(good), qos=1).wait_for_publish()
        bad = vital(f"Patient/{service.sick_patient}", "8867-4", 101, "/min", datetime.now(timezone.utc))
        device.publish(f"medai/observations/{service.well_patient}", json.dumps(bad), qos=1).wait_for_publish()
        assert received.wait(10)
        deadline = time.time() + 10
        while time.time() < deadline:
            status = service.client.get(f"/fhir/Observation/{good['id']}", headers=service.headers("clinician")).status_code
            if status == 200:
                break
            time.sleep(0.2)
        assert status == 200
        assert "does not match the topic's patient" in errors[0]["issue"][0]["diagnostics"]
    finally:
        device.loop_stop()
        device.disconnect()
        bridge.stop()
