"""The in-app notification centre: a patient's notifications, newest first, and marking them read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select, update

from medai.assistant.scheduling.resources import utc
from medai.errors import NotFound
from medai.store.schema import notifications


def list_notifications(connection: Connection, patient_id: str, unread_only: bool = False, limit: int = 100) -> dict:
    """``{"unread": n, "items": [...]}`` for a patient."""
    query = select(notifications).where(notifications.c.patient_id == patient_id)
    if unread_only:
        query = query.where(notifications.c.read_at.is_(None))
    rows = connection.execute(query.order_by(notifications.c.created.desc(), notifications.c.id).limit(limit)).mappings()
    unread = connection.execute(select(func.count()).select_from(notifications)
                                .where(notifications.c.patient_id == patient_id, notifications.c.read_at.is_(None))).scalar_one()
    items = [{**dict(r), "created": utc(r["created"]).isoformat(), "read_at": utc(r["read_at"]).isoformat() if r["read_at"] else None}
             for r in rows]
    return {"unread": unread, "items": items}


def notification_patient(connection: Connection, notification_id: str) -> str:
    """The patient a notification belongs to; ``NotFound`` otherwise."""
    row = connection.execute(select(notifications.c.patient_id).where(notifications.c.id == notification_id)).first()
    if row is None:
        raise NotFound(f"notification {notification_id}")
    return row.patient_id


def mark_read(connection: Connection, notification_id: str, now: datetime) -> None:
    """Mark one notification read (reading it again keeps the first time)."""
    notification_patient(connection, notification_id)
    connection.execute(update(notifications).where(notifications.c.id == notification_id, notifications.c.read_at.is_(None))
                       .values(read_at=now))
