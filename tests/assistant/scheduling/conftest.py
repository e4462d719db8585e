"""A migrated store with one patient (with an e-mail address), a second patient and a practitioner."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from medai.store.ingest import ingest_bundle

NOW = datetime(2030, 3, 4, 8, 0, tzinfo=timezone.utc)  # a Monday
MONDAY = date(2030, 3, 4)


def people_bundle() -> dict:
    """Two patients and two practitioners as a transaction Bundle."""
    def entry(resource):
        return {"resource": resource, "request": {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}}

    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        entry({"resourceType": "Patient", "id": "pat-1", "name": [{"family": "Lovelace", "given": ["Ada"]}],
               "telecom": [{"system": "email", "value": "ada@example.org", "use": "home"}]}),
        entry({"resourceType": "Patient", "id": "pat-2", "name": [{"family": "Hopper", "given": ["Grace"]}]}),
        entry({"resourceType": "Practitioner", "id": "doc-1", "name": [{"family": "Snow", "given": ["John"], "prefix": ["Dr."]}]}),
        entry({"resourceType": "Practitioner", "id": "doc-2", "name": [{"family": "Lister", "given": ["Joseph"], "prefix": ["Dr."]}]}),
    ]}


@pytest.fixture
def store(engine):
    """The engine holding the people of ``people_bundle``."""
    with engine.begin() as connection:
        ingest_bundle(connection, people_bundle())
    return engine
