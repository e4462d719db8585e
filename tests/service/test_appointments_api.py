"""/api/v1/appointments, /reminders and /notifications: roles, audit, 422 naming the field, 409 on conflicts."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from medai.assistant.reminders.ical import parse_ics
from medai.store.ingest import ingest_bundle

API = "/api/v1"


@pytest.fixture
def api(service):
    """The service with a practitioner and two weeks of slots from tomorrow."""
    with service.client.app.state.engine.begin() as connection:
        ingest_bundle(connection, {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"resource": {"resourceType": "Practitioner", "id": "doc-1", "name": [{"family": "Snow", "prefix": ["Dr."]}]},
             "request": {"method": "PUT", "url": "Practitioner/doc-1"}}]})
    start = (datetime.now(timezone.utc) + timedelta(days=1)).date()
    response = service.client.post(f"{API}/appointments/schedules", headers=service.headers("clinician"),
                                   json={"practitioner_id": "doc-1", "start": start.isoformat(), "days": 14,
                                         "template": {"weekdays": [0, 1, 2, 3, 4, 5, 6]}})
    assert response.status_code == 201, response.text
    return service


def _slots(api, role="patient"):
    response = api.client.get(f"{API}/appointments/slots", params={"practitioner_id": "doc-1", "days": 10}, headers=api.headers(role, None))
    assert response.status_code == 200, response.text
    return response.json()["slots"]


def _audit(api):
    return api.client.get("/api/audit", headers=api.headers("admin")).json()


def test_patient_books_own_appointment_and_sees_only_their_own(api):
    slots = _slots(api)
    booked = api.client.post(f"{API}/appointments", headers=api.headers("patient"), json={"slot_id": slots[0]["id"]})
    assert booked.status_code == 201, booked.text
    appointment = booked.json()
    assert appointment["participant"][0]["actor"]["reference"] == f"Patient/{api.well_patient}"
    mine = api.client.get(f"{API}/appointments", headers=api.headers("patient", None)).json()
    assert [a["id"] for a in mine["appointments"]] == [appointment["id"]]
    other = api.client.get(f"{API}/appointments", params={"patient_id": api.sick_patient}, headers=api.headers("patient", None))
    assert other.status_code == 403
    for_other = api.client.post(f"{API}/appointments", headers=api.headers("patient"),
                                json={"slot_id": slots[1]["id"], "patient_id": api.sick_patient})
    assert for_other.status_code == 403
    staff = api.client.get(f"{API}/appointments/{appointment['id']}", headers=api.headers("clinician", None))
    assert staff.status_code == 200 and staff.json()["status"] == "booked"
    actions = {(r["action"], r["patient_id"]) for r in _audit(api)}
    assert ("write:appointment-book", api.well_patient) in actions and ("read:appointments", api.well_patient) in actions


def test_conflicts_are_409_and_bad_input_422_naming_the_field(api):
    slots = _slots(api)
    first = api.client.post(f"{API}/appointments", headers=api.headers("clinician"),
                            json={"slot_id": slots[0]["id"], "patient_id": api.sick_patient})
    assert first.status_code == 201
    busy = api.client.post(f"{API}/appointments", headers=api.headers("patient"), json={"slot_id": slots[0]["id"]})
    assert busy.status_code == 409 and "slot_id" in busy.text and "already booked" in busy.text
    twice = api.client.post(f"{API}/appointments", headers=api.headers("clinician"),
                            json={"slot_id": slots[0]["id"], "patient_id": api.well_patient, "practitioner_id": "doc-2"})
    assert twice.status_code == 409 and "practitioner_id" in twice.text
    missing = api.client.post(f"{API}/appointments", headers=api.headers("patient"), json={"slot": "x"})
    assert missing.status_code == 422 and "slot_id" in missing.text
    bad_zone = api.client.post(f"{API}/reminders/sig", headers=api.headers("patient"), json={"text": "bid", "timezone": "Mars/Base"})
    assert bad_zone.status_code == 422 and "timezone" in bad_zone.text
    no_patient = api.client.get(f"{API}/appointments", headers=api.headers("clinician", None))
    assert no_patient.status_code == 422 and "patient_id" in no_patient.text


def test_reschedule_cancel_and_calendar_feed(api):
    slots = _slots(api)
    appointment = api.client.post(f"{API}/appointments", headers=api.headers("patient"), json={"slot_id": slots[40]["id"]}).json()
    moved = api.client.post(f"{API}/appointments/{appointment['id']}/reschedule", headers=api.headers("patient"),
                            json={"slot_id": slots[45]["id"]})
    assert moved.status_code == 200 and moved.json()["start"] == slots[45]["start"]
    feed = api.client.get(f"{API}/appointments/calendar.ics", headers=api.headers("patient", None))
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    calendar = parse_ics(feed.text)
    event = calendar["components"][0]
    assert event["properties"]["UID"] == [f"appointment-{appointment['id']}@medai"]
    assert event["properties"]["DTSTART"][0] == datetime.fromisoformat(slots[45]["start"]).strftime("%Y%m%dT%H%M%SZ")
    assert [a["properties"]["TRIGGER"] for a in event["components"]] == [["-PT24H"], ["-PT2H"]]
    cancelled = api.client.post(f"{API}/appointments/{appointment['id']}/cancel", headers=api.headers("patient"), json={"reason": "better"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = api.client.post(f"{API}/appointments/{appointment['id']}/cancel", headers=api.headers("patient"), json={})
    assert again.status_code == 409
    other = api.client.post(f"{API}/appointments/{appointment['id']}/cancel", headers=api.headers("clinician"), json={})
    assert other.status_code == 409


def test_medication_reminders_dispatch_notifications_and_adherence(api):
    planned = api.client.post(f"{API}/reminders/medications", headers=api.headers("patient"), json={"days": 2})
    assert planned.status_code == 200, planned.text
    (medication,) = planned.json()["medications"]
    # the fixture's lisinopril order has no dosage instruction: a clear reason, no reminders
    assert medication["status"] == "unscheduled" and medication["reason"] == "no dosage instruction (no timing and no text)"
    sig = api.client.post(f"{API}/reminders/sig", headers=api.headers("patient"),
                          json={"text": "1 tab PO BID x 7 days", "start": "2030-01-07T08:00:00+00:00", "days": 1})
    assert sig.status_code == 200
    assert [d["time"] for d in sig.json()["schedule"]["doses"]] == ["2030-01-07T09:00:00+00:00", "2030-01-07T21:00:00+00:00"]
    slots = _slots(api)
    api.client.post(f"{API}/appointments", headers=api.headers("patient"), json={"slot_id": slots[0]["id"]})
    assert api.client.post(f"{API}/reminders/dispatch", headers=api.headers("patient")).status_code == 403
    reminders = api.client.get(f"{API}/reminders", headers=api.headers("patient", None)).json()["reminders"]
    assert {r["kind"] for r in reminders} == {"appointment"}
    centre = api.client.get(f"{API}/notifications", headers=api.headers("patient", None)).json()
    assert centre["unread"] == 0
    adherence = api.client.get(f"{API}/reminders/adherence", headers=api.headers("patient", None))
    assert adherence.status_code == 200 and adherence.json()["scheduled"] == 0
    assert api.client.post(f"{API}/notifications/nope/read", headers=api.headers("patient", None)).status_code == 404
