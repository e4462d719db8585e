"""Dispatching due reminders exactly once, SMTP delivery to a local server, the notification centre,
the iCalendar feed (parsed back) and adherence logging (SQLite and PostgreSQL)."""

from __future__ import annotations

import socketserver
import threading
from datetime import datetime, time, timedelta, timezone
from email import message_from_bytes

import pytest
from sqlalchemy import select

from medai.assistant.reminders.adherence import adherence_summary, log_dose
from medai.assistant.reminders.dispatch import dispatch_due
from medai.assistant.reminders.email import SmtpMailer
from medai.assistant.reminders.ical import fold, parse_ics, patient_events, render
from medai.assistant.reminders.notifications import list_notifications, mark_read
from medai.assistant.reminders.plan import plan_medication
from medai.assistant.scheduling.booking import book
from medai.assistant.scheduling.slots import ScheduleTemplate, free_slots, publish_schedule
from medai.store.ingest import ingest_resource
from medai.store.schema import reminders
from tests.assistant.scheduling.conftest import MONDAY, NOW
from tests.assistant.scheduling.conftest import store  # noqa: F401  (fixture)


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to accept messages: HELO/EHLO, MAIL, RCPT, DATA, QUIT."""

    def handle(self):
        self.wfile.write(b"220 test ESMTP\r\n")
        sender, recipients = None, []
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command.split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250 test\r\n")
            elif verb == "MAIL":
                sender = command[10:]
                self.wfile.write(b"250 OK\r\n")
            elif verb == "RCPT":
                recipients.append(command[8:].strip("<>"))
                self.wfile.write(b"250 OK\r\n")
            elif verb == "DATA":
                self.wfile.write(b"354 go on\r\n")
                data = b""
                while (chunk := self.rfile.readline()) != b".\r\n":
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                self.server.messages.append((sender, recipients, message_from_bytes(data)))
                self.wfile.write(b"250 queued\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _booked(store, hour=11):
    with store.begin() as connection:
        publish_schedule(connection, "doc-1", MONDAY, 3, ScheduleTemplate(day_start=time(9), day_end=time(17), slot_minutes=60, breaks=[]))
        slot = next(s for s in free_slots(connection, NOW, NOW + timedelta(days=3)) if s["start"].startswith(f"2030-03-05T{hour}"))
        return book(connection, slot["id"], "pat-1", NOW)  # Tuesday: reminders Monday 11:00 (24 h) and Tuesday 09:00 (2 h)


def _statuses(store):
    with store.connect() as connection:
        return sorted(connection.execute(select(reminders.c.channel, reminders.c.status)).all())


def test_dispatch_sends_due_reminders_once_and_expires_the_stale(store, smtp_server):
    appointment = _booked(store)
    mailer = SmtpMailer("127.0.0.1", smtp_server.server_address[1], sender="clinic@example.org")
    assert dispatch_due(store, NOW, mailer).sent == 0  # nothing due at 08:00 Monday
    first = dispatch_due(store, NOW + timedelta(hours=3), mailer)
    assert (first.sent, first.expired) == (2, 0)
    again = dispatch_due(store, NOW + timedelta(hours=3, minutes=5), mailer)
    assert again.sent == 0  # idempotent: nothing is sent twice
    assert len(smtp_server.messages) == 1
    sender, recipients, message = smtp_server.messages[0]
    assert recipients == ["ada@example.org"] and message["Subject"] == "Appointment in 1 day(s)"
    assert "2030-03-05 11:00" in message.get_payload()
    # the 2 h reminder is never sent if the dispatcher only runs after the appointment
    late = dispatch_due(store, datetime(2030, 3, 5, 12, tzinfo=timezone.utc), mailer)
    assert (late.sent, late.expired) == (0, 2)
    assert _statuses(store) == [("email", "expired"), ("email", "sent"), ("in-app", "expired"), ("in-app", "sent")]
    with store.connect() as connection:
        centre = list_notifications(connection, "pat-1")
    assert centre["unread"] == 1 and centre["items"][0]["title"] == "Appointment in 1 day(s)"
    assert appointment["id"]


def test_parallel_dispatchers_deliver_each_reminder_once(store):
    _booked(store)
    reports = []
    threads = [threading.Thread(target=lambda: reports.append(dispatch_due(store, NOW + timedelta(hours=3)))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.sent for r in reports) == 1  # the in-app one (e-mail waits: no mailer)
    with store.connect() as connection:
        assert list_notifications(connection, "pat-1")["unread"] == 1


def test_failed_smtp_is_retried_then_given_up(store):
    _booked(store)
    dead = SmtpMailer("127.0.0.1", 1, timeout=1)  # nothing listens on port 1
    reports = [dispatch_due(store, NOW + timedelta(hours=3, minutes=i), dead) for i in range(3)]
    assert [r.retry for r in reports] == [1, 1, 0] and reports[-1].failed == 1
    assert ("email", "failed") in _statuses(store)


def test_notification_mark_read(store):
    _booked(store)
    dispatch_due(store, NOW + timedelta(hours=3))
    with store.begin() as connection:
        item = list_notifications(connection, "pat-1")["items"][0]
        mark_read(connection, item["id"], NOW + timedelta(hours=4))
        mark_read(connection, item["id"], NOW + timedelta(hours=5))
    with store.connect() as connection:
        centre = list_notifications(connection, "pat-1")
    assert centre["unread"] == 0 and centre["items"][0]["read_at"].startswith("2030-03-04T12:00")


def _medication(store, text="1 tab PO BID x 7 days"):
    request = {"resourceType": "MedicationRequest", "id": "med-1", "status": "active", "intent": "order",
               "subject": {"reference": "Patient/pat-1"}, "authoredOn": "2030-03-01T10:00:00+00:00",
               "medicationCodeableConcept": {"text": "amoxicillin 500 MG Oral Capsule"}, "dosageInstruction": [{"text": text}],
               "dispenseRequest": {"quantity": {"value": 14, "unit": "tablet"}, "numberOfRepeatsAllowed": 1}}
    with store.begin() as connection:
        ingest_resource(connection, request)
    return request


def test_medication_reminders_and_calendar_feed_round_trip(store):
    appointment = _booked(store)
    request = _medication(store)
    with store.begin() as connection:
        schedule, refill, planned = plan_medication(connection, request, "pat-1", NOW, days=2)
        assert plan_medication(connection, request, "pat-1", NOW, days=2)[2] == 0  # planning twice adds nothing
    # BID from Mon 08:00 for 2 days: Mon 09/21, Tue 09/21 (the course runs to Fri 10:00); refill due Fri 10:00, reminder Tue 10:00
    assert [d.time.strftime("%a %H:%M") for d in schedule.doses] == ["Mon 09:00", "Mon 21:00", "Tue 09:00", "Tue 21:00"]
    assert [d.date().isoformat() for d in refill.refill_dates] == ["2030-03-08"] and planned == 5
    with store.connect() as connection:
        events = patient_events(connection, "pat-1", NOW, days=7)
    text = render(events, NOW)
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n")) and text.endswith("END:VCALENDAR\r\n")
    calendar = parse_ics(text)
    assert calendar["name"] == "VCALENDAR" and calendar["properties"]["VERSION"] == ["2.0"]
    vevents = calendar["components"]
    assert len({e["properties"]["UID"][0] for e in vevents}) == len(vevents) == 6  # 1 appointment, 4 doses, 1 refill
    first = vevents[0]
    assert first["properties"]["UID"] == [f"appointment-{appointment['id']}@medai"] and first["properties"]["DTSTAMP"] == ["20300304T080000Z"]
    assert [a["properties"]["ACTION"] for a in first["components"]] == [["DISPLAY"], ["DISPLAY"]]
    dose = next(e for e in vevents if e["properties"]["UID"][0].startswith("dose-"))
    assert dose["properties"]["SUMMARY"] == ["Time for amoxicillin 500 MG Oral Capsule"]


def test_folding_and_escaping_survive_a_round_trip():
    from medai.assistant.reminders.ical import CalendarEvent

    summary = "Café, 7; appointment \\ with a very long summary " + "é" * 60
    text = render([CalendarEvent("u1@medai", NOW, NOW + timedelta(hours=1), summary, "line one\nline two")], NOW)
    parsed = parse_ics(text)["components"][0]["properties"]
    assert parsed["SUMMARY"] == [summary] and parsed["DESCRIPTION"] == ["line one\nline two"]
    assert all(len(line.encode()) <= 75 for line in fold("X" * 300).split("\r\n"))
    with pytest.raises(ValueError, match="CRLF"):
        parse_ics(text.replace("\r\n", "\n"))


def test_adherence_log_and_summary(store):
    _medication(store)
    start = datetime(2030, 3, 4, tzinfo=timezone.utc)
    now = start + timedelta(days=2)
    with store.begin() as connection:
        log_dose(connection, "pat-1", "med-1", start.replace(hour=9), "taken", "pat", now, taken_at=start.replace(hour=9, minute=20))
        late = log_dose(connection, "pat-1", "med-1", start.replace(hour=21), "taken", "pat", now, taken_at=start.replace(hour=23))
        log_dose(connection, "pat-1", "med-1", start.replace(day=5, hour=9), "skipped", "pat", now)
        summary = adherence_summary(connection, "pat-1", start, start + timedelta(days=2))
    assert late["status"] == "late"
    assert {k: summary[k] for k in ("scheduled", "taken", "late", "skipped", "missing")} == \
        {"scheduled": 4, "taken": 1, "late": 1, "skipped": 1, "missing": 1}
    assert summary["adherence"] == 0.5 and summary["medications"][0]["medication_request_id"] == "med-1"
    from medai.errors import InvalidInput

    with pytest.raises(InvalidInput, match="status"), store.begin() as connection:
        log_dose(connection, "pat-1", "med-1", start, "forgot", "pat", now)
    with pytest.raises(InvalidInput, match="not this patient"), store.begin() as connection:
        log_dose(connection, "pat-2", "med-1", start, "taken", "pat", now)
    with pytest.raises(InvalidInput, match="ahead"), store.begin() as connection:
        log_dose(connection, "pat-1", "med-1", now + timedelta(days=1), "taken", "pat", now)
