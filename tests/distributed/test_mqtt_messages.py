"""Malformed MQTT device messages are answered with an OperationOutcome instead of crashing the bridge's thread."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI

from medai.service.mqtt import TOPIC_PREFIX, handle_message


def _problem(outcome: dict) -> tuple[str, str]:
    issue = outcome["issue"][0]
    return issue["code"], json.dumps(issue)


def test_deeply_nested_json_is_rejected_as_a_structure_error():
    payload = (b"[" * 200_000) + (b"]" * 200_000)
    code, text = _problem(handle_message(FastAPI(), TOPIC_PREFIX + "p1", payload))
    assert code == "structure" and "nested too deeply" in text


@pytest.mark.parametrize("subject", ["Patient/p1", ["Patient/p1"], 7, {"reference": None}])
def test_a_subject_that_is_not_a_reference_object_is_rejected(subject):
    payload = json.dumps({"resourceType": "Observation", "subject": subject}).encode()
    code, text = _problem(handle_message(FastAPI(), TOPIC_PREFIX + "p1", payload))
    assert code == "value" and "Observation.subject" in text
