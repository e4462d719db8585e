"""A dialogue manager on the shipped intents, messages and flows, screening with the shipped crisis lexicon
(rules; the learned model is exercised by the safety tests), counting every screen it runs."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from medai.assistant.chat import DialogueManager
from medai.assistant.safety import CrisisScreener

NOW = datetime(2030, 3, 4, 8, 0, tzinfo=timezone.utc)  # a Monday


class CountingScreener:
    """The shipped rule screener, recording each text it screened."""

    def __init__(self):
        self.inner = CrisisScreener(model=None)
        self.texts: list[str] = []

    def screen(self, text):
        self.texts.append(text)
        return self.inner.screen(text)

    def identity(self):
        return self.inner.identity()


@pytest.fixture
def screener() -> CountingScreener:
    return CountingScreener()


@pytest.fixture
def manager(screener) -> DialogueManager:
    return DialogueManager(screener=screener, semantic=False)


def people_bundle() -> dict:
    """Patient Ada (female, born 1990) with an active twice-daily medicine, and a practitioner."""
    def entry(resource):
        return {"resource": resource, "request": {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}}

    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        entry({"resourceType": "Patient", "id": "pat-1", "gender": "female", "birthDate": "1990-05-01",
               "name": [{"family": "Lovelace", "given": ["Ada"]}]}),
        entry({"resourceType": "Patient", "id": "pat-2", "name": [{"family": "Hopper", "given": ["Grace"]}]}),
        entry({"resourceType": "Practitioner", "id": "doc-1", "name": [{"family": "Snow", "given": ["John"], "prefix": ["Dr."]}]}),
        entry({"resourceType": "MedicationRequest", "id": "mr-1", "status": "active", "intent": "order",
               "subject": {"reference": "Patient/pat-1"}, "authoredOn": "2030-03-01",
               "medicationCodeableConcept": {"text": "amoxicillin 500 mg capsule"},
               "dosageInstruction": [{"text": "500 mg by mouth twice daily",
                                      "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d",
                                                            "timeOfDay": ["07:00:00", "19:00:00"]}},
                                      "doseAndRate": [{"doseQuantity": {"value": 500, "unit": "mg"}}]}]}),
    ]}
