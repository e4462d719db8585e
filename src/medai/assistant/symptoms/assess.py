"""The assessment: ranked differential, triage, rationale, the findings that drove it, next steps, disclaimer.

:func:`assess` is the one-shot path behind ``medai symptoms assess`` and ``POST /api/v1/symptoms/assess``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from medai.assistant.symptoms.inference import Evidence, Ranked
from medai.assistant.symptoms.knowledge import KnowledgeBase
from medai.assistant.symptoms.package import package_identity
from medai.assistant.symptoms.text import Mention, Reading
from medai.assistant.symptoms.triage import Flag, triage

DIFFERENTIAL_SIZE = 5
DISCLAIMER = ("This is an automated symptom checker, not a doctor and not a diagnosis. It suggests possible causes "
              "and how urgently to seek care from what you typed; it cannot examine you and can be wrong. If you feel "
              "very unwell, or are worried, contact a health professional. In an emergency call 911 (or your local "
              "emergency number).")
TRIAGE_ADVICE = {
    "emergency": "Call 911 (or your local emergency number) or go to the nearest emergency department now.",
    "urgent": "Get seen by a doctor, urgent care or an out-of-hours service within 24 hours.",
    "routine": "Book an appointment with your doctor in the coming days; sooner if things get worse.",
    "self-care": "This can usually be looked after at home; see a doctor if it gets worse, new symptoms appear, "
                 "or it does not improve as expected.",
}


@dataclass
class Assessment:
    """Everything the checker concluded, with the reasons; ``to_dict()`` is the CLI / API JSON."""

    differential: list[dict]
    triage: str
    rationale: str
    findings: list[dict]
    explanation: list[dict]
    red_flags: list[dict]
    next_steps: list[str]
    age: float | None
    sex: str | None
    duration_days: float | None
    version: dict
    disclaimer: str = DISCLAIMER
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready dict with ``differential``, ``triage`` and ``rationale`` first."""
        return {"differential": self.differential, "triage": self.triage, "rationale": self.rationale,
                "findings": self.findings, "explanation": self.explanation, "red_flags": self.red_flags,
                "next_steps": self.next_steps, "age": self.age, "sex": self.sex, "duration_days": self.duration_days,
                "notes": self.notes, "disclaimer": self.disclaimer, "version": self.version}


def _label(kb: KnowledgeBase, finding: str) -> str:
    return kb.findings[finding].label


def _rationale(kb: KnowledgeBase, top: Ranked | None, level: str, flags: list[Flag]) -> str:
    parts = []
    if top is None:
        parts.append("No symptom in the description was recognised, so no differential is given.")
    else:
        support = sorted((v, f) for f, v in top.contributions.items() if v > 0.3)[::-1][:4]
        against = sorted((v, f) for f, v in top.contributions.items() if v < -0.3)[:2]
        text = f"Most likely {top.condition.name} ({top.probability:.0%})"
        if support:
            text += ", supported by " + ", ".join(_label(kb, f) for _, f in support)
        if against:
            text += "; against it: " + ", ".join(_label(kb, f) for _, f in against)
        parts.append(text + ".")
    if flags:
        parts.append(f"Triage {level} because of: " + "; ".join(f.message for f in flags[:3]))
    else:
        parts.append(f"Triage {level} from how urgent the likely conditions are.")
    return " ".join(parts)


def build_assessment(kb: KnowledgeBase, evidence: Evidence, ranked: list[Ranked], mentions: list[Mention],
                     reading: Reading | None) -> Assessment:
    """Put together the assessment for ``evidence`` and its differential ``ranked``."""
    notes = []
    symptoms = [f for f in evidence.present if kb.findings[f].kind in ("symptom", "sign")]
    if not symptoms:
        ranked_shown: list[Ranked] = []
        notes.append("no symptom recognised: describe what you feel, e.g. 'sore throat and fever for 2 days'")
    else:
        ranked_shown = ranked[:DIFFERENTIAL_SIZE]
    level, flags = triage(kb, ranked if symptoms else [], evidence)
    if not symptoms and level == "self-care":
        level = "routine"
    if evidence.age is None:
        notes.append("age unknown: give it for a better assessment")
    if evidence.sex is None:
        notes.append("sex unknown: give it for a better assessment")
    top = ranked_shown[0] if ranked_shown else None
    steps = [TRIAGE_ADVICE[level]] + [f.message for f in flags if f.triage == level][:3]
    if top is not None:
        steps.append(top.condition.next)
    seen: set[tuple[str, bool]] = set()
    findings = []
    for m in mentions:
        if (m.finding, m.present) in seen:
            continue
        seen.add((m.finding, m.present))
        findings.append({"finding": m.finding, "label": _label(kb, m.finding), "present": m.present,
                         "text": m.text, "method": m.method})
    explanation = [{"condition": r.condition.name, "contributions": [
        {"finding": f, "label": _label(kb, f), "present": f in evidence.present, "log_likelihood_ratio": round(v, 3)}
        for f, v in sorted(r.contributions.items(), key=lambda kv: -abs(kv[1]))]} for r in ranked_shown[:3]]
    return Assessment(
        differential=[{"condition": r.condition.name, "icd10cm": r.condition.icd10cm, "probability": round(r.probability, 4),
                       "id": r.condition.id, "urgency": r.condition.urgency, "source": r.condition.source}
                      for r in ranked_shown],
        triage=level, rationale=_rationale(kb, top, level, flags), findings=findings, explanation=explanation,
        red_flags=[{"id": f.id, "triage": f.triage, "message": f.message, "findings": list(f.findings), "source": f.source}
                   for f in flags],
        next_steps=list(dict.fromkeys(steps)), age=evidence.age, sex=evidence.sex,
        duration_days=reading.duration_days if reading else None, notes=notes,
        version={**package_identity(kb), "knowledge_version": kb.version, "knowledge_sha256": kb.sha256})


def assess(text: str, age: float | None = None, sex: str | None = None, *, semantic: bool = True,
           kb: KnowledgeBase | None = None) -> Assessment:
    """One-shot assessment of a free-text description (``age`` / ``sex`` override what the text says)."""
    from medai.assistant.symptoms.interview import SymptomSession

    if sex is not None and sex not in ("female", "male"):
        from medai.errors import InvalidInput, Problem

        raise InvalidInput(Problem("sex", "must be 'female' or 'male'"))
    if age is not None and not 0 <= age <= 120:
        from medai.errors import InvalidInput, Problem

        raise InvalidInput(Problem("age", "must be between 0 and 120 years"))
    return SymptomSession(kb=kb, semantic=semantic).start(text, age, sex).result()
