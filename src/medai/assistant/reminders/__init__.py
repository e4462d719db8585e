"""Reminders: medication schedules from FHIR Timing and free-text sigs, refill dates, appointment reminders,
their delivery (in-app notification centre, e-mail over SMTP, an iCalendar feed) and adherence logging.

Modules: ``vocabulary`` (the cited sig abbreviation file), ``sig``, ``timing``, ``medication``, ``refill``,
``plan`` (reminder rows), ``dispatch`` (``dispatch_due``), ``email``, ``ical``, ``notifications``, ``adherence``.
"""
