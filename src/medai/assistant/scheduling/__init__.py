"""Appointments as FHIR R4 ``Schedule`` / ``Slot`` / ``Appointment``: publish practitioners' schedules,
book, reschedule and cancel with conflict checks, each operation in the caller's one transaction.

Modules: ``slots`` (schedule templates -> Schedule + Slots), ``booking`` (book / reschedule / cancel),
``practitioners`` (Synthea practitioners), ``resources`` (reading and writing the stored resources).
"""
