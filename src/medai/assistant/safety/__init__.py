"""The crisis safety layer: ``screen(text)`` on every message (lexicon rules + a learned classifier,
combined conservatively), ``SafetyGuard`` that never lowers a conversation's risk, and the crisis
response (locale resources, human hand-off, FHIR Flag/Communication alert, audit record)."""

from medai.assistant.safety.response import CrisisResponse, audit_crisis, crisis_response
from medai.assistant.safety.screen import CrisisScreener, SafetyGuard, screen
from medai.assistant.safety.types import CATEGORIES, RISKS, Evidence, ScreenResult

__all__ = ["CATEGORIES", "RISKS", "CrisisResponse", "CrisisScreener", "Evidence", "SafetyGuard", "ScreenResult",
           "audit_crisis", "crisis_response", "screen"]
