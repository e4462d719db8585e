import base64
import statistics
from datetime import datetime, timedelta, timezone

import pytest
from fhir.resources.R4B import get_fhir_model_class

from medai.demo import generate_hospital
from medai.demo.catalog import UNITS

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)  # the fixtures' `now`

LOINC, SNOMED, ICD10 = "http://loinc.org", "http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
VITAL_RANGES = {  # clinically possible ranges, independent of the generator's own limits
    "8867-4": (30, 200), "9279-1": (6, 45), "59408-5": (70, 100), "8310-5": (34.0, 42.0),
    "8480-6": (60, 220), "8462-4": (25, 130), "8478-0": (40, 160)}
LAB_RANGES = {"2524-7": (0.2, 15), "6690-2": (0.5, 50), "2160-0": (0.2, 10), "777-3": (5, 900),
              "1975-2": (0.1, 20), "2345-7": (30, 600)}
UNITS_BY_CODE = {"8867-4": "/min", "9279-1": "/min", "59408-5": "%", "8310-5": "Cel", "8480-6": "mm[Hg]",
                 "8462-4": "mm[Hg]", "8478-0": "mm[Hg]", "2524-7": "mmol/L", "6690-2": "10*3/uL",
                 "2160-0": "mg/dL", "777-3": "10*3/uL", "1975-2": "mg/dL", "2345-7": "mg/dL"}


def resources(bundle, kind=None):
    return [e["resource"] for e in bundle["entry"] if kind is None or e["resource"]["resourceType"] == kind]


def series(bundle, code):
    obs = [o for o in resources(bundle, "Observation") if o["code"]["coding"][0]["code"] == code]
    return [(datetime.fromisoformat(o["effectiveDateTime"]), o["valueQuantity"]["value"]) for o in obs]


def note_texts(bundle):
    return [base64.b64decode(d["content"][0]["attachment"]["data"]).decode("utf-8")
            for d in resources(bundle, "DocumentReference")]


def test_same_seed_same_hospital_other_seed_other_hospital():
    a = generate_hospital(5, seed=3, now=NOW, history_hours=12)
    assert a == generate_hospital(5, seed=3, now=NOW, history_hours=12)
    b = generate_hospital(5, seed=4, now=NOW, history_hours=12)
    assert a != b
    assert {x["entry"][0]["resource"]["id"] for x in a}.isdisjoint({x["entry"][0]["resource"]["id"] for x in b})


def test_one_transaction_bundle_per_patient(hospital):
    assert len(hospital) == 24
    for bundle in hospital:
        assert bundle["resourceType"] == "Bundle" and bundle["type"] == "transaction"
        for e in bundle["entry"]:
            r = e["resource"]
            assert e["fullUrl"] == f"urn:uuid:{r['id']}"
            assert e["request"] == {"method": "POST", "url": r["resourceType"]}
    all_ids = [e["resource"]["id"] for b in hospital for e in b["entry"]]
    assert len(all_ids) == len(set(all_ids))


def test_every_resource_validates_as_fhir_r4(hospital):
    for bundle in hospital:
        for r in resources(bundle):
            get_fhir_model_class(r["resourceType"]).model_validate(r)
    get_fhir_model_class("Bundle").model_validate(hospital[0])


def _references(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "reference":
                yield v
            else:
                yield from _references(v)
    elif isinstance(node, list):
        for v in node:
            yield from _references(v)


def test_references_resolve_inside_the_bundle(hospital):
    for bundle in hospital:
        full_urls = {e["fullUrl"] for e in bundle["entry"]}
        refs = list(_references(bundle))
        assert refs and set(refs) <= full_urls


def test_clinical_content(hospital):
    mrns = set()
    for bundle in hospital:
        (patient,) = resources(bundle, "Patient")
        assert patient["name"][0]["family"] and patient["gender"] in {"female", "male"}
        assert patient["address"][0]["city"] and patient["birthDate"] < NOW.date().isoformat()
        (mrn,) = [i["value"] for i in patient["identifier"] if i["system"] == "urn:medai:demo:mrn"]
        mrns.add(mrn)
        (enc,) = resources(bundle, "Encounter")
        assert enc["status"] == "in-progress" and enc["class"]["code"] == "IMP"
        assert enc["location"][0]["location"]["display"] in UNITS
        assert datetime.fromisoformat(enc["period"]["start"]) < NOW - timedelta(hours=48)
        conditions = resources(bundle, "Condition")
        assert 1 <= len(conditions) <= 4
        for c in conditions:
            assert {x["system"] for x in c["code"]["coding"]} == {SNOMED, ICD10}
            assert c["clinicalStatus"]["coding"][0]["code"] == "active"
            assert c["verificationStatus"]["coding"][0]["code"] == "confirmed"
        meds = resources(bundle, "MedicationRequest")
        assert 1 <= len(meds) <= 5
        for m in meds:
            assert m["medicationCodeableConcept"]["coding"][0]["system"] == RXNORM
            dose = m["dosageInstruction"][0]
            assert dose["text"] and dose["timing"]["repeat"]["frequency"] >= 1
            assert dose["doseAndRate"][0]["doseQuantity"]["value"] > 0
        assert 0 <= len(resources(bundle, "AllergyIntolerance")) <= 2
        docs = resources(bundle, "DocumentReference")
        assert 1 <= len(docs) <= 3
        for d in docs:
            assert d["type"]["coding"][0]["code"] in {"11506-3", "18842-5", "34117-2"}
            assert d["content"][0]["attachment"]["contentType"] == "text/plain"
    assert len(mrns) == len(hospital)


def test_notes_agree_with_the_record(hospital):
    negations = follow_ups = 0
    for bundle in hospital:
        (patient,) = resources(bundle, "Patient")
        main = next(c for c in resources(bundle, "Condition")
                    if c["category"][0]["coding"][0]["code"] == "encounter-diagnosis")
        med_names = [m["medicationCodeableConcept"]["text"] for m in resources(bundle, "MedicationRequest")]
        for text in note_texts(bundle):
            assert patient["identifier"][0]["value"] in text and patient["name"][0]["family"] in text
            negations += any(w in text for w in ("Denies ", "denies ", "No "))
            follow_ups += "Follow" in text
            if "DISCHARGE SUMMARY" in text:
                continue
            assert main["code"]["text"].lower() in text.lower()
            assert all(name.lower() in text.lower() for name in med_names)
            if "febrile to" in text:
                assert "fever" not in text.split("Vitals:")[0].lower().replace("or fever", "")
    n_notes = sum(len(note_texts(b)) for b in hospital)
    assert negations == n_notes and follow_ups == n_notes


def test_vitals_hourly_plausible_and_rounded(hospital):
    for bundle in hospital:
        obs = resources(bundle, "Observation")
        assert all(datetime.fromisoformat(o["effectiveDateTime"]) <= NOW for o in obs)
        for o in obs:
            code = o["code"]["coding"][0]["code"]
            q = o["valueQuantity"]
            assert q["system"] == "http://unitsofmeasure.org" and q["code"] == UNITS_BY_CODE[code]
            category = o["category"][0]["coding"][0]["code"]
            lo, hi = (VITAL_RANGES if category == "vital-signs" else LAB_RANGES)[code]
            assert lo <= q["value"] <= hi, (code, q["value"])
            if code in {"8867-4", "9279-1", "59408-5", "8480-6", "8462-4", "8478-0", "777-3", "2345-7"}:
                assert isinstance(q["value"], int)
            else:
                assert round(q["value"], 2) == q["value"]
        hr = series(bundle, "8867-4")
        assert 40 <= len(hr) <= 48  # hourly for 48 h, a few rows skipped
        gaps = {round((b[0] - a[0]).total_seconds() / 3600) for a, b in zip(hr, hr[1:])}
        assert 1 in gaps
        sbp, dbp = dict(series(bundle, "8480-6")), dict(series(bundle, "8462-4"))
        assert all(dbp[t] < sbp[t] for t in sbp)
        labs = series(bundle, "2524-7")
        assert 4 <= len(labs) <= 9
    skipped = sum(48 - len(series(b, "8867-4")) for b in hospital)
    assert skipped > 0


def test_deteriorating_patients_look_worse_than_stable_ones(hospital, trajectories):
    assert trajectories.count("deteriorating") == 6 and trajectories.count("recovering") == 4

    def last12(bundle, code):
        return statistics.mean(v for t, v in series(bundle, code) if t > NOW - timedelta(hours=12))

    groups: dict[str, list[dict]] = {}
    for bundle, kind in zip(hospital, trajectories):
        groups.setdefault(kind, []).append(bundle)
    hr = {k: statistics.mean(last12(b, "8867-4") for b in v) for k, v in groups.items()}
    sbp = {k: statistics.mean(last12(b, "8480-6") for b in v) for k, v in groups.items()}
    assert hr["deteriorating"] > hr["stable"] + 5
    assert sbp["deteriorating"] < sbp["stable"] - 5
    for bundle in groups["deteriorating"]:
        hrs = [v for _, v in series(bundle, "8867-4")]
        assert statistics.mean(hrs[-12:]) > statistics.mean(hrs[:12])
        lactate = [v for _, v in series(bundle, "2524-7")]
        assert lactate[-1] > lactate[0]
    for bundle in groups["recovering"]:
        lactate = [v for _, v in series(bundle, "2524-7")]
        assert lactate[-1] <= lactate[0]


def test_default_now_is_the_current_hour():
    (bundle,) = generate_hospital(1, seed=1, history_hours=3)
    latest = max(datetime.fromisoformat(o["effectiveDateTime"]) for o in resources(bundle, "Observation"))
    assert timedelta(0) <= datetime.now(latest.tzinfo) - latest < timedelta(hours=2)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="history_hours"):
        generate_hospital(2, history_hours=0)
