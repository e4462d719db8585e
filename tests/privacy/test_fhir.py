"""FHIR de-identification: no name, telecom, street or identifier survives; dates shift per patient."""

from __future__ import annotations

import base64
import json
import zipfile
from datetime import date

import pytest

from medai.errors import InvalidInput
from medai.privacy.fhir import FhirDeidentifier
from medai.privacy.text import Deidentifier

PATIENT = {
    "resourceType": "Patient", "id": "pat-1",
    "identifier": [{"system": "http://hospital.example/mrn", "value": "MRN-00123456"}],
    "name": [{"use": "official", "family": "Przybylo", "given": ["Edwin", "J"], "text": "Edwin J Przybylo"}],
    "telecom": [{"system": "phone", "value": "410-322-1419"}, {"system": "email", "value": "edwin@example.org"}],
    "address": [{"line": ["12 Elm Street"], "city": "Baltimore", "state": "MD", "postalCode": "21201", "country": "US",
                 "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/geolocation",
                                "extension": [{"url": "latitude", "valueDecimal": 39.29}]}]}],
    "birthDate": "1950-06-02", "gender": "male",
    "photo": [{"contentType": "image/jpeg", "data": "AAAA"}],
    "contact": [{"name": {"family": "Przybylo", "given": ["Hank"]}, "telecom": [{"system": "phone", "value": "450-928-6612"}]}],
    "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Edwin Przybylo, MRN-00123456</div>"},
}
OBS = {"resourceType": "Observation", "id": "obs-1", "status": "final", "code": {"text": "Heart rate"},
       "subject": {"reference": "Patient/pat-1", "display": "Edwin Przybylo"},
       "effectiveDateTime": "2019-03-14T08:30:00Z", "issued": "2019-03-21T09:00:00Z",
       "note": [{"text": "Called Dr. Jones at 617-555-0100."}], "valueQuantity": {"value": 88, "unit": "/min"}}
SECRETS = ("Przybylo", "Edwin", "Hank", "410-322-1419", "450-928-6612", "edwin@example.org", "12 Elm Street", "Baltimore",
           "MRN-00123456", "pat-1", "Jones", "617-555-0100", "21201", "1950-06-02")


@pytest.fixture(scope="module")
def deid():
    return FhirDeidentifier(key="test-key", text=Deidentifier(mode="mask", use_tagger=False), today=date(2026, 1, 1))


def bundle(*resources):
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]}


def test_no_identifier_survives_in_a_bundle(deid):
    out = deid.deidentify(bundle(PATIENT, OBS))
    text = json.dumps(out)
    leaked = [s for s in SECRETS if s in text]
    assert leaked == []
    patient = out["entry"][0]["resource"]
    assert patient["address"] == [{"state": "MD", "postalCode": "212", "country": "US"}]
    assert "photo" not in patient and patient["gender"] == "male"
    assert patient["name"][0]["family"] != "Przybylo" and len(patient["name"][0]["given"]) == 2
    assert patient["contact"][0]["name"]["family"] == patient["name"][0]["family"]  # same person, same fake
    assert patient["identifier"][0]["system"] == "http://hospital.example/mrn"


def test_references_and_ids_are_remapped_consistently(deid):
    out = deid.deidentify(bundle(PATIENT, OBS))
    patient, obs = (e["resource"] for e in out["entry"])
    assert obs["subject"]["reference"] == f"Patient/{patient['id']}"
    assert deid.deidentify(PATIENT)["id"] == patient["id"]
    assert out["entry"][0]["fullUrl"].startswith("urn:uuid:") and "pat-1" not in out["entry"][0]["fullUrl"]


def test_dates_shift_by_one_patient_offset(deid):
    out = deid.deidentify(bundle(PATIENT, OBS))
    patient, obs = (e["resource"] for e in out["entry"])
    shifted_birth = date.fromisoformat(patient["birthDate"])
    offset = (shifted_birth - date(1950, 6, 2)).days
    assert offset != 0
    effective = date.fromisoformat(obs["effectiveDateTime"][:10])
    issued = date.fromisoformat(obs["issued"][:10])
    assert (effective - date(2019, 3, 14)).days == offset and (issued - effective).days == 7
    assert obs["effectiveDateTime"].endswith("T08:30:00Z")


def test_year_only_dates_and_old_patients():
    deid = FhirDeidentifier(key="k", dates="year", text=Deidentifier(use_tagger=False), today=date(2026, 1, 1))
    assert deid.deidentify(OBS)["effectiveDateTime"] == "2019"
    old = FhirDeidentifier(key="k", text=Deidentifier(use_tagger=False), today=date(2026, 1, 1))
    assert old.deidentify({**PATIENT, "birthDate": "1920-01-01"})["birthDate"] == "1936"


def test_restricted_zip_areas_become_000(deid):
    out = deid.deidentify({**PATIENT, "address": [{"state": "VT", "postalCode": "05401"}]})
    assert out["address"][0]["postalCode"] == "054"
    out = deid.deidentify({**PATIENT, "address": [{"state": "WY", "postalCode": "82301"}]})
    assert out["address"][0]["postalCode"] == "000"


def test_text_attachment_is_deidentified(deid):
    doc = {"resourceType": "DocumentReference", "id": "d1", "subject": {"reference": "Patient/pat-1"},
           "content": [{"attachment": {"contentType": "text/plain",
                                       "data": base64.b64encode(b"Seen by Dr. Jones on 03/14/2019.").decode()}}]}
    out = deid.deidentify(doc)
    text = base64.b64decode(out["content"][0]["attachment"]["data"]).decode()
    assert text == "Seen by Dr. [NAME] on [DATE]."


def test_bad_input_names_the_field(deid):
    with pytest.raises(InvalidInput, match="resourceType"):
        deid.deidentify({"id": "x"})
    with pytest.raises(InvalidInput, match=r"Bundle.entry\[0\]"):
        deid.deidentify({"resourceType": "Bundle", "entry": ["oops"]})


@pytest.mark.data
def test_a_real_synthea_bundle_leaves_no_name_or_identifier(data_dir):
    with zipfile.ZipFile(data_dir / "synthea_fhir_r4" / "R4_SYNTHEA.zip") as archive:
        name = next(n for n in archive.namelist() if n.endswith(".json"))
        source = json.loads(archive.read(name))
    patient = next(e["resource"] for e in source["entry"] if e["resource"]["resourceType"] == "Patient")
    secrets = [patient["name"][0]["family"], *patient["name"][0]["given"], patient["id"],
               *(i["value"] for i in patient.get("identifier", [])), *(a["line"][0] for a in patient.get("address", []) if a.get("line"))]
    out = json.dumps(FhirDeidentifier(key="k", text=Deidentifier(use_tagger=False)).deidentify(source))
    assert [s for s in secrets if s in out] == []
