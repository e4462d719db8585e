"""A seeded synthetic hospital as FHIR R4 (4.0.1) transaction Bundles, one per patient.

Each bundle holds a Patient, the current inpatient Encounter, Conditions,
MedicationRequests, AllergyIntolerances, clinical notes (DocumentReference) and the last
``history_hours`` of hourly vital signs plus labs every 6-12 h.  Entries reference each
other through their ``urn:uuid:`` fullUrls, as Synthea's bundles do; every resource also
carries that uuid as its ``id``.  Everything is drawn from ``random.Random`` streams
derived from ``seed`` and the patient's index, so a seed always gives the same hospital
(for a fixed ``now``) and patient *i* does not change when ``n_patients`` grows.
"""

from __future__ import annotations

import base64
import random
import uuid
from datetime import date, datetime, timedelta, timezone

from medai.demo import catalog as cat
from medai.demo import notes as nt
from medai.demo import physiology as ph

HOSPITAL = "medai Demo General Hospital"
MRN_SYSTEM = "urn:medai:demo:mrn"
TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"


def trajectory_classes(n_patients: int = 24, seed: int = 7) -> list[str]:
    """The hidden trajectory of each patient of ``generate_hospital(n_patients, seed)``, in order.

    Ground truth for demos and tests ("stable", "deteriorating" or "recovering"); it is
    not written into the bundles.
    """
    return ph.assign_trajectories(n_patients, random.Random(f"medai-demo/{seed}/trajectories"))


def generate_hospital(n_patients: int = 24, seed: int = 7, now: datetime | None = None,
                      history_hours: int = 48) -> list[dict]:
    """One FHIR R4 transaction Bundle (a JSON-ready dict) per synthetic inpatient.

    ``now`` defaults to the current hour (UTC); a naive ``now`` is taken as UTC.  Pass a
    fixed ``now`` for a reproducible hospital.
    """
    if n_patients < 0 or history_hours < 1:
        raise ValueError("n_patients must be >= 0 and history_hours >= 1")
    now = aware(now) if now is not None else datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return [_patient_bundle(seed, i, traj, now, history_hours)
            for i, traj in enumerate(trajectory_classes(n_patients, seed))]


def aware(dt: datetime) -> datetime:
    dt = dt.replace(microsecond=0)
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt


def iso(dt: datetime) -> str:
    return dt.replace(microsecond=0).isoformat()


def coding(system: str, code: str, display: str) -> dict:
    return {"system": system, "code": code, "display": display}


def concept(system: str, code: str, display: str, text: str | None = None) -> dict:
    return {"coding": [coding(system, code, display)], "text": text or display}


def quantity(value: float, code: str, unit: str | None = None) -> dict:
    return {"value": value, "unit": unit or code, "system": cat.UCUM, "code": code}


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def observation(obs_id: str, m: ph.Measure, value: float, when: datetime, subject: str,
                encounter: str | None) -> dict:
    """One vital-sign or laboratory Observation; references are given as strings."""
    codings = [coding(cat.LOINC, m.loinc, m.display)]
    if m.key == "spo2":  # the FHIR vital-signs profile's code for oxygen saturation
        codings.append(coding(cat.LOINC, "2708-6", "Oxygen saturation in Arterial blood"))
    obs = {
        "resourceType": "Observation", "id": obs_id, "status": "final",
        "category": [concept(TERMINOLOGY + "observation-category", m.category,
                             "Vital Signs" if m.category == "vital-signs" else "Laboratory")],
        "code": {"coding": codings, "text": m.display},
        "subject": {"reference": subject},
        "effectiveDateTime": iso(when),
        "valueQuantity": quantity(value, m.unit),
    }
    if encounter:
        obs["encounter"] = {"reference": encounter}
    if m.ref:
        flag = "H" if value > m.ref[1] else "L" if value < m.ref[0] else "N"
        names = {"H": "High", "L": "Low", "N": "Normal"}
        obs["interpretation"] = [concept(TERMINOLOGY + "v3-ObservationInterpretation", flag, names[flag])]
        obs["referenceRange"] = [{"low": quantity(m.ref[0], m.unit), "high": quantity(m.ref[1], m.unit)}]
    return obs


def _pick_clinical(rng: random.Random, trajectory: str):
    """Unit, main problem and comorbidities; deteriorating patients have an infection."""
    if trajectory == ph.DETERIORATING:
        unit = rng.choices((cat.MEDICAL, cat.SURGICAL, cat.ICU), weights=(0.55, 0.35, 0.10))[0]
        options = [c for c in cat.CONDITIONS.values() if unit in c.units and c.infection]
    else:
        unit = rng.choices(cat.UNITS, weights=cat.UNIT_WEIGHTS)[0]
        options = [c for c in cat.CONDITIONS.values() if unit in c.units]
    primary = rng.choice(options)
    clash = {"afib": "chronic_afib", "copd_exacerbation": "copd"}.get(primary.key)
    pool = [k for k in cat.COMORBIDITIES if k != clash]
    n_comorbid = rng.choices((0, 1, 2, 3), weights=(0.2, 0.35, 0.3, 0.15))[0]
    return unit, primary, [cat.CONDITIONS[k] for k in rng.sample(pool, n_comorbid)]


def _pick_meds(rng: random.Random, primary: cat.ConditionDef, comorbid: list[cat.ConditionDef]) -> list[cat.MedDef]:
    keys = list(primary.meds)
    for c in comorbid:
        keys += rng.sample(c.meds, k=min(len(c.meds), rng.choice((1, 2))))
    if primary.key == "gi_bleed":  # anticoagulants and antiplatelets are held
        keys = [k for k in keys if k not in cat.ANTICOAGULANTS | {"aspirin", "clopidogrel"}]
    elif not cat.ANTICOAGULANTS & set(keys):
        keys.append("enoxaparin")
    if rng.random() < 0.6 or not keys:
        keys.append("acetaminophen")
    return [cat.MEDICATIONS[k] for k in dict.fromkeys(keys)][:5]


def _patient_bundle(seed: int, index: int, trajectory: str, now: datetime, history_hours: int) -> dict:
    rng = random.Random(f"medai-demo/{seed}/{index}/clinical")
    id_rng = random.Random(f"medai-demo/{seed}/{index}/ids")
    phys_rng = random.Random(f"medai-demo/{seed}/{index}/physiology")
    entries: list[dict] = []

    def add(resource: dict) -> str:
        rid = new_uuid(id_rng)
        resource.pop("id", None)
        resource = {"resourceType": resource.pop("resourceType"), "id": rid, **resource}
        entries.append({"fullUrl": f"urn:uuid:{rid}", "resource": resource,
                        "request": {"method": "POST", "url": resource["resourceType"]}})
        return f"urn:uuid:{rid}"

    # -- who, where, what ------------------------------------------------------------------
    gender = rng.choice(("female", "male"))
    given = rng.choice(cat.GIVEN_FEMALE if gender == "female" else cat.GIVEN_MALE)
    family = rng.choice(cat.FAMILY)
    age = int(min(96, max(19, rng.gauss(66, 15))))
    birth = now.date() - timedelta(days=int(age * 365.25) + rng.randint(1, 360))
    mrn = f"{rng.randint(1000000, 9999999)}"
    city, state, zip3 = rng.choice(cat.CITIES)
    unit, primary, comorbid = _pick_clinical(rng, trajectory)
    meds = _pick_meds(rng, primary, comorbid)
    med_keys = {m.key for m in meds}
    allowed = [a for a in cat.ALLERGIES if not a.avoid & med_keys]
    allergies = rng.sample(allowed, rng.choices((0, 1, 2), weights=(0.55, 0.3, 0.15))[0])
    attending = rng.choice(cat.CLINICIANS)
    admit_h = -(history_hours + rng.uniform(1, 30))
    admitted = now + timedelta(hours=round(admit_h * 60) / 60)
    phys = ph.make_physiology(phys_rng, trajectory, unit, [primary, *comorbid], age, admit_h)

    patient = add({
        "resourceType": "Patient",
        "identifier": [{"use": "usual", "type": concept(TERMINOLOGY + "v2-0203", "MR", "Medical record number"),
                        "system": MRN_SYSTEM, "value": mrn}],
        "name": [{"use": "official", "family": family, "given": [given], "text": f"{given} {family}"}],
        "gender": gender, "birthDate": birth.isoformat(),
        "address": [{"use": "home", "line": [f"{rng.randint(2, 480)} {rng.choice(cat.STREETS)}"], "city": city,
                     "state": state, "postalCode": f"{zip3}{rng.randint(10, 99)}", "country": "US"}],
    })
    enc_id = new_uuid(id_rng)  # reserved now so that Conditions can point at the Encounter
    encounter = f"urn:uuid:{enc_id}"
    cond_refs = []
    categories = (("encounter-diagnosis", "Encounter Diagnosis"), ("problem-list-item", "Problem List Item"))
    for i, c in enumerate([primary, *comorbid]):
        onset = admitted - timedelta(hours=rng.randint(6, 72)) if i == 0 else \
            date(now.year - rng.randint(1, 15), rng.randint(1, 12), rng.randint(1, 28))
        cond_refs.append(add({
            "resourceType": "Condition",
            "clinicalStatus": concept(TERMINOLOGY + "condition-clinical", "active", "Active"),
            "verificationStatus": concept(TERMINOLOGY + "condition-ver-status", "confirmed", "Confirmed"),
            "category": [concept(TERMINOLOGY + "condition-category", *categories[min(i, 1)])],
            "code": {"coding": [coding(cat.SNOMED, *c.snomed), coding(cat.ICD10CM, *c.icd10)], "text": c.text},
            "subject": {"reference": patient}, "encounter": {"reference": encounter},
            "onsetDateTime": iso(onset) if i == 0 else onset.isoformat(),
            "recordedDate": iso(admitted + timedelta(hours=1)),
        }))
    entries.append({"fullUrl": encounter, "request": {"method": "POST", "url": "Encounter"}, "resource": {
        "resourceType": "Encounter", "id": enc_id, "status": "in-progress",
        "class": coding(TERMINOLOGY + "v3-ActCode", "IMP", "inpatient encounter"),
        "subject": {"reference": patient},
        "participant": [{"individual": {"display": attending}}],
        "period": {"start": iso(admitted)},
        "reasonReference": [{"reference": cond_refs[0]}],
        "location": [{"location": {"display": unit}, "status": "active",
                      "physicalType": concept(TERMINOLOGY + "location-physical-type", "wa", "Ward")}],
        "serviceProvider": {"display": HOSPITAL},
    }})
    entries.insert(1, entries.pop())  # Encounter right after the Patient
    for m in meds:
        add({"resourceType": "MedicationRequest", "status": "active", "intent": "order",
             "category": [concept(TERMINOLOGY + "medicationrequest-category", "inpatient", "Inpatient")],
             "medicationCodeableConcept": concept(cat.RXNORM, m.rxnorm, m.display, m.name),
             "subject": {"reference": patient}, "encounter": {"reference": encounter},
             "authoredOn": iso(admitted + timedelta(hours=rng.randint(1, 4))),
             "requester": {"display": attending},
             "reasonReference": [{"reference": cond_refs[0]}],
             "dosageInstruction": [{
                 "sequence": 1, "text": m.sig, "asNeededBoolean": m.prn,
                 "timing": {"repeat": {"frequency": m.per_day, "period": 1, "periodUnit": "d"}},
                 "route": concept(cat.SNOMED, *m.route),
                 "doseAndRate": [{"doseQuantity": quantity(m.dose, *m.dose_unit)}]}]})
    for a in allergies:
        add({"resourceType": "AllergyIntolerance",
             "clinicalStatus": concept(TERMINOLOGY + "allergyintolerance-clinical", "active", "Active"),
             "verificationStatus": concept(TERMINOLOGY + "allergyintolerance-verification", "confirmed",
                                           "Confirmed"),
             "type": a.type, "category": [a.category], "criticality": a.criticality,
             "code": concept(*a.coding), "patient": {"reference": patient},
             "recordedDate": iso(admitted + timedelta(hours=1)),
             "reaction": [{"manifestation": [concept(cat.SNOMED, *a.reaction)], "severity": a.severity}]})

    # -- physiology: hourly vitals, labs every 6-12 h --------------------------------------
    offset_h = rng.randint(0, 20) / 60  # this patient's vitals are charted at hh:mm
    grid = [-(history_hours - 1 - j) - offset_h for j in range(history_hours)]
    times = [now + timedelta(hours=t) for t in grid]
    rows = ph.vital_rows(phys, phys_rng, [(t, w.hour + w.minute / 60) for t, w in zip(grid, times)])
    labs = [(t, ph.lab_panel(phys, phys_rng, t)) for t in ph.lab_times(phys_rng, -history_hours, -0.1)]

    # -- notes --------------------------------------------------------------------------------
    ctx = nt.NoteContext(f"{given} {family}", age, gender, birth, mrn, unit, attending, admitted,
                         primary, comorbid, meds, allergies)
    n_notes = rng.choice((1, 2, 2, 3, 3))
    hp_h = admit_h + rng.uniform(1, 3)
    hp_when = now + timedelta(hours=hp_h)
    on_arrival = phys.expected_row(hp_h, hp_when.hour)  # vitals and admission labs
    docs = [("34117-2", "History and physical note", hp_when,
             nt.history_and_physical(ctx, hp_when, on_arrival, on_arrival, rng))]
    if n_notes == 3 and rng.random() < 0.5:
        out = now - timedelta(days=rng.randint(60, 700))
        docs.append(("18842-5", "Discharge summary", out,
                     nt.discharge_summary(ctx, out - timedelta(days=rng.randint(2, 6)), out, rng)))
    for k in range(n_notes - len(docs)):
        t_h = max(hp_h + 2, -rng.uniform(1, 6) - 24 * k)
        when = now + timedelta(hours=t_h)
        near = [r for t, r in zip(grid, rows) if r and len(r) == 7 and abs(t - t_h) < 2]
        vit = near[-1] if near else phys.expected_row(t_h, when.hour)
        lab = next((p for t, p in reversed(labs) if t <= t_h), None)
        docs.append(("11506-3", "Progress note", when, nt.progress_note(ctx, when, vit, lab, rng)))
    for loinc, title, when, text in sorted(docs, key=lambda d: d[2]):
        add({"resourceType": "DocumentReference", "status": "current", "docStatus": "final",
             "type": concept(cat.LOINC, loinc, title),
             "category": [concept("http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                                  "clinical-note", "Clinical Note")],
             "subject": {"reference": patient}, "date": iso(when), "author": [{"display": attending}],
             "description": title,
             "content": [{"attachment": {"contentType": "text/plain", "language": "en-US", "title": title,
                                         "creation": iso(when),
                                         "data": base64.b64encode(text.encode("utf-8")).decode("ascii")}}],
             **({"context": {"encounter": [{"reference": encounter}], "period": {"start": iso(admitted)}}}
                if when >= admitted else {})})

    # -- observations, in time order -------------------------------------------------------
    events = [(w, row) for w, row in zip(times, rows) if row] + \
             [(now + timedelta(hours=round(t * 60) / 60), panel) for t, panel in labs]
    for when, values in sorted(events, key=lambda e: e[0]):
        for key, value in values.items():
            add(observation("", ph.MEASURES[key], value, when, patient, encounter))  # add() sets the id
    return {"resourceType": "Bundle", "id": new_uuid(id_rng), "type": "transaction", "entry": entries}
