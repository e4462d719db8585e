"""Symptom checker: a cited knowledge base, noisy-OR inference, red-flag triage and an adaptive interview.

``assess(text, age, sex)`` gives a one-shot assessment; ``SymptomSession`` runs the interview a chat layer drives.
"""

from medai.assistant.symptoms.assess import Assessment, assess
from medai.assistant.symptoms.interview import Question, SymptomSession

__all__ = ["Assessment", "Question", "SymptomSession", "assess"]
