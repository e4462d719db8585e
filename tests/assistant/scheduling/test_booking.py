"""Schedules and slots, booking with conflict checks, rescheduling and cancelling (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from medai.assistant.scheduling.booking import SchedulingConflict, book, cancel, patient_appointments, reschedule
from medai.assistant.scheduling.slots import ScheduleTemplate, free_slots, publish_schedule
from medai.core.fhir import validate_resource
from medai.errors import NotFound
from medai.store.schema import reminders
from tests.assistant.scheduling.conftest import MONDAY, NOW


def _publish(store, practitioner="doc-1", days=2):
    template = ScheduleTemplate(weekdays=[0, 1, 2, 3, 4], day_start=time(9), day_end=time(12), slot_minutes=30, breaks=[(time(10), time(10, 30))])
    with store.begin() as connection:
        return publish_schedule(connection, practitioner, MONDAY, days, template)


def _free(store, practitioner="doc-1"):
    with store.connect() as connection:
        return free_slots(connection, NOW, NOW + timedelta(days=7), practitioner)


def test_template_makes_fhir_schedule_and_slots_without_overlaps(store):
    schedule, slots = _publish(store)
    validate_resource(schedule)
    for slot in slots:
        validate_resource(slot)
    # 09:00-12:00 in 30-minute slots minus the 10:00-10:30 break = 5 a day, two days
    assert len(slots) == 10
    assert [s["start"][11:16] for s in slots[:5]] == ["09:00", "09:30", "10:30", "11:00", "11:30"]
    _, again = _publish(store)  # publishing the same days twice adds nothing
    assert again == [] and len(_free(store)) == 10


def test_book_stores_a_valid_appointment_and_plans_reminders(store):
    _publish(store)
    slot = _free(store)[3]  # Monday 11:00
    with store.begin() as connection:
        appointment = book(connection, slot["id"], "pat-1", NOW, reason="blood pressure review")
    validate_resource(appointment)
    assert appointment["status"] == "booked" and appointment["start"] == slot["start"]
    assert {p["actor"]["reference"] for p in appointment["participant"]} == {"Patient/pat-1", "Practitioner/doc-1"}
    assert "Dr. John Snow" in appointment["description"]
    assert slot["id"] not in {s["id"] for s in _free(store)}
    with store.connect() as connection:
        rows = connection.execute(select(reminders.c.due, reminders.c.channel).where(reminders.c.source == f"Appointment/{appointment['id']}")).all()
    # the 24 h lead is already past at 08:00 for an 11:00 appointment: only the 2 h reminder, on both channels
    assert sorted(ch for _, ch in rows) == ["email", "in-app"]
    assert {due.replace(tzinfo=timezone.utc) if due.tzinfo is None else due for due, _ in rows} == {datetime(2030, 3, 4, 9, 0, tzinfo=timezone.utc)}


def test_conflicts_busy_slot_double_booking_past_slot_and_wrong_practitioner(store):
    _publish(store)
    _publish(store, "doc-2")
    mine, other = _free(store), _free(store, "doc-2")
    with store.begin() as connection:
        book(connection, mine[3]["id"], "pat-1", NOW)
    cases = [(mine[3]["id"], "pat-2", NOW, None, "slot_id", "already booked"),
             (other[3]["id"], "pat-1", NOW, None, "patient_id", "overlapping"),
             (mine[0]["id"], "pat-2", NOW + timedelta(hours=2), None, "slot_id", "past"),
             (mine[4]["id"], "pat-2", NOW, "doc-2", "practitioner_id", "another practitioner")]
    for slot_id, patient, now, practitioner, field, words in cases:
        with pytest.raises(SchedulingConflict, match=words) as error, store.begin() as connection:
            book(connection, slot_id, patient, now, practitioner_id=practitioner)
        assert error.value.field == field
    with pytest.raises(NotFound), store.begin() as connection:
        book(connection, mine[4]["id"], "nobody", NOW)
    assert len(_free(store)) == 9  # failed bookings wrote nothing


def test_reschedule_moves_slot_and_reminders_and_cancel_frees_it(store):
    _publish(store)
    slots = _free(store)
    with store.begin() as connection:
        appointment = book(connection, slots[3]["id"], "pat-1", NOW)
    with store.begin() as connection:
        moved = reschedule(connection, appointment["id"], slots[7]["id"], NOW)  # Tuesday 10:30
    assert moved["start"] == slots[7]["start"] and moved["slot"] == [{"reference": f"Slot/{slots[7]['id']}"}]
    free = {s["id"] for s in _free(store)}
    assert slots[3]["id"] in free and slots[7]["id"] not in free
    with store.connect() as connection:
        states = dict(connection.execute(select(reminders.c.due, reminders.c.status)
                                         .where(reminders.c.source == f"Appointment/{appointment['id']}")).all())
    assert sorted(states.values()).count("cancelled") == 1 and sorted(states.values()).count("pending") == 2
    with store.begin() as connection:
        cancelled = cancel(connection, appointment["id"], NOW, "feeling better")
    validate_resource(cancelled)
    assert cancelled["status"] == "cancelled" and cancelled["cancelationReason"]["text"] == "feeling better"
    assert slots[7]["id"] in {s["id"] for s in _free(store)}
    with pytest.raises(SchedulingConflict, match="cancelled"), store.begin() as connection:
        cancel(connection, appointment["id"], NOW)
    with store.connect() as connection:
        assert [a["status"] for a in patient_appointments(connection, "pat-1")] == ["cancelled"]
        pending = connection.execute(select(reminders.c.id).where(reminders.c.status == "pending")).all()
    assert pending == []
