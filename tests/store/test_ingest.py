"""Bundle ingestion: one transaction, all or nothing, on SQLite and PostgreSQL."""

import copy

import pytest
from sqlalchemy import func, select

from medai.errors import InvalidInput
from medai.store import clinical
from medai.store.ingest import ingest_bundle
from medai.store.schema import observations, resources
from tests.conftest import make_bundle


def _count(engine, table=resources):
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def test_bundle_is_ingested_with_references_resolved(engine):
    bundle = make_bundle(patient_id="pat-1", hours=3)
    with engine.begin() as connection:
        result = ingest_bundle(connection, bundle)
    assert result.counts == {"Patient": 1, "Condition": 1, "MedicationRequest": 1, "Observation": 15}
    with engine.connect() as connection:
        obs = clinical.search(connection, "Observation", "pat-1")
        assert len(obs) == 15 and all(o["subject"]["reference"] == "Patient/pat-1" for o in obs)
        series = clinical.observation_series(connection, "pat-1", ["8867-4"])
        assert [row["value"] for row in series] == [72.0, 72.0, 72.0]


@pytest.mark.parametrize("breakage,where", [
    (lambda b: b["entry"][5]["resource"]["valueQuantity"].update(value=-40), "Bundle.entry[5]"),
    (lambda b: b["entry"][6]["resource"]["valueQuantity"].update(code="kg", unit="kg"), "Bundle.entry[6]"),
    (lambda b: b["entry"][2]["resource"].update(status=12), "Bundle.entry[2]"),
    (lambda b: b["entry"][1]["resource"]["subject"].update(reference="urn:uuid:nobody"), "Bundle.entry[1]"),
])
def test_one_bad_resource_rejects_the_whole_bundle(engine, breakage, where):
    bundle = make_bundle(hours=2)
    breakage(bundle)
    with pytest.raises(InvalidInput) as caught:
        with engine.begin() as connection:
            ingest_bundle(connection, bundle)
    assert any(p.location.startswith(where) for p in caught.value.problems), caught.value.problems
    assert _count(engine) == 0 and _count(engine, observations) == 0


def test_reingesting_bumps_the_version_without_duplicates(engine):
    bundle = make_bundle(patient_id="pat-2", hours=1)
    for _ in range(2):
        with engine.begin() as connection:
            ingest_bundle(connection, copy.deepcopy(bundle))
    with engine.connect() as connection:
        patient = clinical.get_resource(connection, "Patient", "pat-2")
    assert patient["meta"]["versionId"] == "2"
    assert _count(engine) == 8 and _count(engine, observations) == 5


def test_not_a_bundle_is_rejected(engine):
    with pytest.raises(InvalidInput, match="Bundle"):
        with engine.begin() as connection:
            ingest_bundle(connection, {"resourceType": "Patient"})
