"""Send due reminders exactly once: ``dispatch_due(engine, now)`` is safe to run from a scheduler, twice, or in
parallel. Each reminder is claimed with a conditional update (pending -> sending/sent) before it is delivered:
in-app reminders become a notification in the same transaction as the claim; an e-mail is sent after its claim
commits and then marked sent, so a crash between the two can lose an e-mail but never send it twice.
Reminders whose event has passed expire unsent."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

from sqlalchemy import Engine, insert, select, update

from medai.assistant.scheduling.resources import load
from medai.errors import NotFound
from medai.store.schema import notifications, reminders

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


class Mailer(Protocol):
    """Anything that sends one e-mail (``SmtpMailer``)."""

    def send(self, to: str, subject: str, body: str) -> str: ...


@dataclass
class DispatchReport:
    """What one run did."""

    sent: int = 0
    expired: int = 0
    failed: int = 0
    retry: int = 0
    waiting: int = 0  # e-mail reminders left pending because no mailer is configured
    sent_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """A JSON-ready view."""
        return {"sent": self.sent, "expired": self.expired, "failed": self.failed, "retry": self.retry, "waiting": self.waiting}


def patient_email(engine: Engine, patient_id: str) -> str | None:
    """The patient's e-mail address from ``Patient.telecom`` (system ``email``), preferring ``use`` home."""
    try:
        with engine.connect() as connection:
            patient = load(connection, "Patient", patient_id)
    except NotFound:
        return None
    emails = [t for t in patient.get("telecom") or [] if t.get("system") == "email" and t.get("value")]
    emails.sort(key=lambda t: (t.get("use") != "home", t.get("rank", 99)))
    return emails[0]["value"] if emails else None


def _claim(connection, reminder_id: str, status: str, now: datetime) -> bool:
    claimed = connection.execute(update(reminders).where(reminders.c.id == reminder_id, reminders.c.status == "pending")
                                 .values(status=status, attempts=reminders.c.attempts + 1,
                                         sent_at=now if status == "sent" else None))
    return claimed.rowcount == 1


def _in_app(engine: Engine, row, now: datetime, report: DispatchReport) -> None:
    with engine.begin() as connection:
        if not _claim(connection, row.id, "sent", now):
            return
        connection.execute(insert(notifications), {"id": str(uuid.uuid4()), "patient_id": row.patient_id, "reminder_id": row.id,
                                                   "created": now, "title": row.title, "body": row.body})
    report.sent += 1
    report.sent_ids.append(row.id)


def _finish(engine: Engine, reminder_id: str, **values) -> None:
    with engine.begin() as connection:
        connection.execute(update(reminders).where(reminders.c.id == reminder_id).values(**values))


def _email(engine: Engine, row, now: datetime, mailer: Mailer | None, report: DispatchReport) -> None:
    if mailer is None:
        report.waiting += 1
        return
    with engine.begin() as connection:
        if not _claim(connection, row.id, "sending", now):
            return
    address = patient_email(engine, row.patient_id)
    if address is None:
        _finish(engine, row.id, status="failed", error="no e-mail address in Patient.telecom")
        report.failed += 1
        return
    try:
        mailer.send(address, row.title, row.body)
    except Exception as error:  # SMTP and socket errors: retry later, then give up
        attempts = row.attempts + 1
        status = "pending" if attempts < MAX_ATTEMPTS else "failed"
        _finish(engine, row.id, status=status, error=f"{type(error).__name__}: {error}"[:500])
        log.warning("e-mail reminder %s not sent (attempt %d): %s", row.id, attempts, type(error).__name__)
        report.retry += status == "pending"
        report.failed += status == "failed"
        return
    _finish(engine, row.id, status="sent", sent_at=now, error=None)
    report.sent += 1
    report.sent_ids.append(row.id)


def dispatch_due(engine: Engine, now: datetime | None = None, mailer: Mailer | None = None, batch: int = 500) -> DispatchReport:
    """Deliver every pending reminder due at ``now`` once; expire those whose event has passed."""
    now = now or datetime.now(timezone.utc)
    report = DispatchReport()
    with engine.begin() as connection:
        report.expired = connection.execute(update(reminders).where(reminders.c.status == "pending", reminders.c.expires <= now)
                                            .values(status="expired")).rowcount
        due = connection.execute(select(reminders.c.id, reminders.c.patient_id, reminders.c.channel, reminders.c.title,
                                        reminders.c.body, reminders.c.attempts)
                                 .where(reminders.c.status == "pending", reminders.c.due <= now)
                                 .order_by(reminders.c.due, reminders.c.id).limit(batch)).all()
    for row in due:
        if row.channel == "in-app":
            _in_app(engine, row, now, report)
        elif row.channel == "email":
            _email(engine, row, now, mailer, report)
    return report
