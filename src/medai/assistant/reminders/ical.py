"""An iCalendar (RFC 5545) feed per patient: appointments with VALARMs, planned doses and refills.

Written by hand: CRLF line ends, content lines folded at 75 octets (never inside a UTF-8 character), TEXT
values escaped, UID + DTSTAMP on every VEVENT, UTC times (``...Z``). ``parse_ics`` reads a feed back (unfolds,
unescapes) so the output can be checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from medai.assistant.reminders.plan import DEFAULT_LEADS
from medai.assistant.scheduling.resources import load, utc
from medai.store.schema import appointments, reminders

PRODID = "-//medai//assistant reminders//EN"


@dataclass
class CalendarEvent:
    """One VEVENT."""

    uid: str
    start: datetime
    end: datetime
    summary: str
    description: str = ""
    status: str = "CONFIRMED"
    alarms: list[timedelta] = field(default_factory=list)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")


def _stamp(moment: datetime) -> str:
    return utc(moment).strftime("%Y%m%dT%H%M%SZ")


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes == 0:
        return "PT0S"
    return f"-PT{minutes // 60}H{minutes % 60}M" if minutes % 60 else f"-PT{minutes // 60}H"


def fold(line: str) -> str:
    """Fold one content line into 75-octet pieces joined by CRLF + space (RFC 5545 section 3.1)."""
    data, pieces, limit = line.encode("utf-8"), [], 75
    while len(data) > limit:
        cut = limit
        while cut > 0 and (data[cut] & 0xC0) == 0x80:  # do not split a multi-byte character
            cut -= 1
        pieces.append(data[:cut])
        data, limit = data[cut:], 74  # continuation lines start with one space
    pieces.append(data)
    return "\r\n ".join(p.decode("utf-8") for p in pieces)


def render(events: list[CalendarEvent], now: datetime, name: str = "medai reminders") -> str:
    """The VCALENDAR text for ``events``."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             f"X-WR-CALNAME:{_escape(name)}"]
    for event in events:
        lines += ["BEGIN:VEVENT", f"UID:{event.uid}", f"DTSTAMP:{_stamp(now)}", f"DTSTART:{_stamp(event.start)}",
                  f"DTEND:{_stamp(event.end)}", f"SUMMARY:{_escape(event.summary)}", f"STATUS:{event.status}"]
        if event.description:
            lines.append(f"DESCRIPTION:{_escape(event.description)}")
        for lead in event.alarms:
            lines += ["BEGIN:VALARM", "ACTION:DISPLAY", f"DESCRIPTION:{_escape(event.summary)}", f"TRIGGER:{_duration(lead)}",
                      "END:VALARM"]
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append("\n" if text[i + 1] in "nN" else text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def parse_ics(text: str) -> dict:
    """Read an iCalendar text back into nested components ``{"name", "properties": {NAME: [values]}, "components"}``.

    Raises ``ValueError`` for bare LF line ends, unbalanced BEGIN/END or lines longer than 75 octets.
    """
    if "\n" in text.replace("\r\n", ""):
        raise ValueError("content lines must end with CRLF")
    raw = text.split("\r\n")
    if raw and raw[-1] == "":
        raw.pop()
    for number, line in enumerate(raw, 1):
        if len(line.encode("utf-8")) > 75:
            raise ValueError(f"line {number} is longer than 75 octets")
    lines: list[str] = []
    for line in raw:
        if line.startswith((" ", "\t")) and lines:
            lines[-1] += line[1:]
        else:
            lines.append(line)
    root: dict | None = None
    stack: list[dict] = []
    for line in lines:
        name, _, value = line.partition(":")
        key = name.split(";")[0].upper()
        if key == "BEGIN":
            component = {"name": value, "properties": {}, "components": []}
            (stack[-1]["components"] if stack else []).append(component)
            stack.append(component)
            root = root or component
        elif key == "END":
            if not stack or stack[-1]["name"] != value:
                raise ValueError(f"END:{value} does not close {stack[-1]['name'] if stack else 'anything'}")
            stack.pop()
        elif stack:
            stack[-1]["properties"].setdefault(key, []).append(_unescape(value))
    if stack or root is None:
        raise ValueError("unbalanced BEGIN/END")
    return root


def patient_events(connection: Connection, patient_id: str, now: datetime, days: int = 30,
                   leads: tuple[timedelta, ...] = DEFAULT_LEADS) -> list[CalendarEvent]:
    """The patient's booked (and cancelled) appointments and planned dose / refill reminders from ``now - 1 day``."""
    since, until = now - timedelta(days=1), now + timedelta(days=days)
    events = []
    rows = connection.execute(select(appointments).where(appointments.c.patient_id == patient_id, appointments.c.starts >= since,
                                                         appointments.c.starts < until).order_by(appointments.c.starts))
    for row in rows:
        resource = load(connection, "Appointment", row.id)
        status = "CANCELLED" if row.status == "cancelled" else "CONFIRMED"
        events.append(CalendarEvent(f"appointment-{row.id}@medai", utc(row.starts), utc(row.ends),
                                    resource.get("description") or "Appointment", resource.get("comment", ""), status,
                                    [] if status == "CANCELLED" else list(leads)))
    planned = connection.execute(select(reminders.c.source, reminders.c.kind, reminders.c.event_time, reminders.c.title,
                                        reminders.c.body)
                                 .where(reminders.c.patient_id == patient_id, reminders.c.kind.in_(("dose", "refill")),
                                        reminders.c.status != "cancelled", reminders.c.event_time >= since,
                                        reminders.c.event_time < until)
                                 .distinct().order_by(reminders.c.event_time))
    for source, kind, moment, title, body in planned:
        start = utc(moment)
        uid = f"{kind}-{source.replace('/', '-')}-{start.strftime('%Y%m%dT%H%M%SZ')}@medai"
        length = timedelta(minutes=15) if kind == "dose" else timedelta(days=1)
        events.append(CalendarEvent(uid, start, start + length, title, body, alarms=[timedelta(0)] if kind == "dose" else []))
    return events
