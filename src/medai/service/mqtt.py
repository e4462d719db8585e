"""MQTT device feeds: bedside monitors and wearables publish FHIR Observations, one topic per patient.

Topic ``medai/observations/<patient id>``; payload a FHIR R4 Observation (JSON) whose subject
must be that patient. Each message takes the same path as ``POST /fhir/Observation``;
a rejected message is answered on ``medai/errors/<patient id>`` with an OperationOutcome.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlparse

from fastapi import FastAPI

from medai.core.fhir import operation_outcome
from medai.errors import InvalidInput, Problem
from medai.service.streaming import accept_observation
from medai.store.accounts import Principal

logger = logging.getLogger("medai.mqtt")
TOPIC_PREFIX = "medai/observations/"
ERROR_PREFIX = "medai/errors/"
DEVICE_PRINCIPAL = Principal(username="mqtt-device-feed", role="service")


def handle_message(app: FastAPI, topic: str, payload: bytes) -> dict | None:
    """Accept one device message; return an OperationOutcome when it is rejected, else None."""
    patient_id = topic.removeprefix(TOPIC_PREFIX)
    try:
        try:
            resource = json.loads(payload)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise InvalidInput(Problem("payload", f"malformed JSON: {error}", "structure")) from None
        except RecursionError:
            raise InvalidInput(Problem("payload", "JSON nested too deeply", "structure")) from None
        subject = resource.get("subject") if isinstance(resource, dict) else None
        subject = (subject.get("reference") or "") if isinstance(subject, dict) else ""
        if subject != f"Patient/{patient_id}":
            raise InvalidInput(Problem("Observation.subject", f"subject {subject or '(none)'!r} does not match the topic's patient {patient_id!r}", "value"))
        accept_observation(app, DEVICE_PRINCIPAL, resource, channel="mqtt")
    except InvalidInput as error:
        return operation_outcome(error.problems)
    return None


class MqttBridge:
    """Subscribes to the device topics of a broker and feeds the messages to the app."""

    def __init__(self, app: FastAPI, url: str):
        import paho.mqtt.client as mqtt

        parsed = urlparse(url)
        self.app, self.host, self.port = app, parsed.hostname or "127.0.0.1", parsed.port or 1883
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"medai-{id(self)}")
        # Scaled out, the workers share one subscription (each message reaches one of them; the patient's
        # partition owner then runs the listeners); alone, a worker subscribes plainly.
        self.client.on_connect = lambda client, *_: client.subscribe(self.topic(), qos=1)
        self.client.on_message = self._on_message

    def topic(self) -> str:
        """The subscription: shared by all workers when the app is scaled out (``observation_bus`` installed)."""
        shared = getattr(self.app.state, "observation_bus", None) is not None
        return ("$share/medai/" if shared else "") + TOPIC_PREFIX + "+"

    def _on_message(self, client, _userdata, message) -> None:
        outcome = handle_message(self.app, message.topic, message.payload)
        if outcome is not None:
            client.publish(ERROR_PREFIX + message.topic.removeprefix(TOPIC_PREFIX), json.dumps(outcome), qos=1)

    def start(self) -> "MqttBridge":
        """Connect and process messages on a background thread."""
        self.client.connect(self.host, self.port)
        self.client.loop_start()
        return self

    def stop(self) -> None:
        """Disconnect."""
        self.client.loop_stop()
        self.client.disconnect()
