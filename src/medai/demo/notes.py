"""Clinical note templates for the synthetic hospital.

The notes agree with the structured record: the problems are the patient's conditions,
the vitals and labs are the charted ones, the medications are the active orders.  They
also contain what a clinical NLP pipeline must cope with: denied findings ("denies chest
pain"), hedged ones ("possible early sepsis"), family and past history, a follow-up
sentence, and identifiers (name, MRN, dates) for de-identification.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime

from medai.demo.catalog import (FAMILY_HISTORY, ICU, NEGATABLE, SOCIAL_HISTORY, AllergyDef, ConditionDef,
                                MedDef)


@dataclass
class NoteContext:
    name: str
    age: int
    gender: str
    birth_date: date
    mrn: str
    unit: str
    attending: str
    admitted: datetime
    primary: ConditionDef
    comorbid: list[ConditionDef]
    meds: list[MedDef]
    allergies: list[AllergyDef]


def _fmt(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M")


def _join(items: list[str], last: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def _header(ctx: NoteContext, title: str, when: datetime, unit: str | None = None) -> str:
    return (f"{title}\nPatient: {ctx.name}   MRN: {ctx.mrn}   DOB: {ctx.birth_date.isoformat()}\n"
            f"Unit: {unit or ctx.unit}   Date: {_fmt(when)}   Author: {ctx.attending}\n")


def _vitals_line(v: dict[str, float]) -> str:
    parts = []
    if "temp" in v:
        parts.append(f"T {v['temp']} C")
    if "hr" in v:
        parts.append(f"HR {v['hr']}/min")
    if "rr" in v:
        parts.append(f"RR {v['rr']}/min")
    if "sbp" in v:
        parts.append(f"BP {v['sbp']}/{v['dbp']} mmHg (MAP {v['map']})")
    if "spo2" in v:
        air = "on room air" if v["spo2"] >= 95 else "on 2 L nasal cannula" if v["spo2"] >= 92 else \
            "on 4 L nasal cannula"
        parts.append(f"SpO2 {v['spo2']}% {air}")
    return "Vitals: " + ", ".join(parts) + "."


def _labs_line(lab: dict[str, float] | None) -> str:
    if not lab:
        return "Labs: pending."
    return (f"Labs: WBC {lab['wbc']} x10^3/uL, lactate {lab['lactate']} mmol/L, creatinine {lab['creat']} mg/dL, "
            f"platelets {lab['plt']} x10^3/uL, total bilirubin {lab['bili']} mg/dL, glucose {lab['glucose']} mg/dL.")


def _negatives(ctx: NoteContext, v: dict[str, float], rng: random.Random) -> str:
    """Two or three denied findings, never one that the record contradicts."""
    banned = set(ctx.primary.excludes).union(*(c.excludes for c in ctx.comorbid))
    if ctx.primary.infection or v.get("temp", 37) >= 37.8:
        banned.update({"fever", "chills"})
    if v.get("hr", 80) > 105:
        banned.add("palpitations")
    if v.get("rr", 16) > 22 or v.get("spo2", 97) < 92:
        banned.add("shortness of breath")
    pool = [f for f in NEGATABLE if f not in banned]
    picked = rng.sample(pool, k=min(len(pool), rng.choice((2, 3))))
    return rng.choice(("Denies {}.", "Patient denies {}.", "No {}.")).format(_join(picked, "or"))


def _findings(v: dict[str, float], lab: dict[str, float] | None,
              ckd: bool = False) -> tuple[list[str], list[str], int]:
    """Abnormal vital signs and labs as phrases, and the number of SIRS criteria met."""
    out, labs, sirs = [], [], 0
    t = v.get("temp")
    if t is not None and t >= 38.0:
        out.append(f"febrile to {t} C")
    if t is not None and (t >= 38.0 or t < 36.0):
        sirs += 1
    if v.get("hr", 0) > 90:
        sirs += 1
        if v["hr"] > 100:
            out.append(f"tachycardic to {v['hr']}/min")
    if v.get("rr", 0) > 20:
        sirs += 1
        out.append(f"tachypneic at {v['rr']}/min")
    if v.get("sbp", 120) < 100:
        out.append(f"hypotensive at {v['sbp']}/{v['dbp']} mmHg")
    if v.get("spo2", 97) < 92:
        out.append("hypoxic, requiring supplemental oxygen")
    if lab:
        if lab["wbc"] > 12 or lab["wbc"] < 4:
            sirs += 1
            labs.append(f"WBC {lab['wbc']} x10^3/uL")
        if lab["lactate"] > 2.0:
            labs.append(f"lactate {lab['lactate']} mmol/L")
        if lab["creat"] > 1.5 and not ckd:
            labs.append(f"creatinine {lab['creat']} mg/dL")
    return out, labs, sirs


def _describe(vitals: list[str], labs: list[str], lead: str) -> str:
    text = f"{lead} {_join(vitals)}." if vitals else ""
    if labs:
        text += f" Labs notable for {_join(labs)}."
    return text.strip()


def _has_ckd(ctx: NoteContext) -> bool:
    return any(c.key == "ckd" for c in ctx.comorbid)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _problem_list(ctx: NoteContext) -> str:
    lines = [f"1. {_cap(ctx.primary.text)}: {ctx.primary.plan}"]
    for i, c in enumerate(ctx.comorbid, start=2):
        lines.append(f"{i}. {_cap(c.text)}: chronic, continue home regimen.")
    return "\n".join(lines)


def _meds(ctx: NoteContext) -> str:
    return "\n".join(f"- {m.sig}" for m in ctx.meds) or "- None"


def _allergies(ctx: NoteContext) -> str:
    if not ctx.allergies:
        return "Allergies: No known drug allergies."
    return "Allergies: " + "; ".join(f"{a.coding[2]} ({a.reaction[1].lower()})" for a in ctx.allergies) + "."


def history_and_physical(ctx: NoteContext, when: datetime, v: dict[str, float],
                         lab: dict[str, float] | None, rng: random.Random) -> str:
    pronoun = "She" if ctx.gender == "female" else "He"
    pmh = f"a history of {_join([c.text for c in ctx.comorbid])}" if ctx.comorbid else \
        "no significant past medical history"
    symptoms = _join(list(ctx.primary.symptoms))
    vital_findings, lab_findings, sirs = _findings(v, lab, _has_ckd(ctx))
    exam = _describe(vital_findings, lab_findings, f"On arrival {pronoun.lower()} was") or \
        "Hemodynamically stable on arrival."
    hedge = ""
    if ctx.primary.infection and sirs >= 2:
        hedge = " Meets SIRS criteria; possible early sepsis, blood cultures sent before antibiotics."
    return "\n".join([
        _header(ctx, "HISTORY AND PHYSICAL", when),
        f"Chief complaint: {ctx.primary.symptoms[0]}.",
        f"HPI: {ctx.age}-year-old {ctx.gender} with {pmh} presenting with {symptoms}. "
        + _negatives(ctx, v, rng),
        "Family history: " + rng.choice(FAMILY_HISTORY),
        "Social history: " + rng.choice(SOCIAL_HISTORY),
        _allergies(ctx),
        _vitals_line(v),
        f"Exam: {exam} {pronoun} is alert and oriented. No murmurs, rubs or gallops.",
        _labs_line(lab),
        f"Assessment and plan: admitted to {ctx.unit} for {ctx.primary.text}.{hedge}",
        _problem_list(ctx),
        "Medications:\n" + _meds(ctx),
        f"Follow-up: {ctx.primary.follow_up}",
    ]) + "\n"


def progress_note(ctx: NoteContext, when: datetime, v: dict[str, float],
                  lab: dict[str, float] | None, rng: random.Random) -> str:
    day = max(1, (when - ctx.admitted).days + 1)
    vital_findings, lab_findings, _ = _findings(v, lab, _has_ckd(ctx))
    findings = vital_findings + lab_findings
    if not findings:
        status = rng.choice(("Hemodynamically stable, afebrile overnight.", "Stable overnight, no acute events."))
    else:
        status = _describe(vital_findings, lab_findings, "Overnight the patient was")
    red_flags = sum((v.get("rr", 16) >= 22, v.get("sbp", 120) <= 100, v.get("hr", 80) > 100,
                     not 36.0 <= v.get("temp", 37.0) < 38.0))
    if red_flags >= 2 or (lab and lab["lactate"] > 2.0):
        team = "intensivist" if ctx.unit == ICU else "critical care outreach team"
        impression = ("Concern for worsening infection; possible sepsis. Repeat lactate and blood cultures, "
                      f"fluid bolus, escalate antibiotics if no improvement; {team} aware.")
    elif findings:
        impression = "Abnormal findings persist; continue current management and monitor closely."
    else:
        impression = f"Improving {ctx.primary.text}; continue current plan."
    return "\n".join([
        _header(ctx, "PROGRESS NOTE", when),
        f"Hospital day {day}. {status}",
        "Subjective: " + rng.choice(("Feels better today.", "Slept poorly.", "Tolerating diet.",
                                     "Reports mild fatigue.")) + " " + _negatives(ctx, v, rng),
        _vitals_line(v),
        _labs_line(lab),
        f"Assessment: {impression}",
        _problem_list(ctx),
        "Active medications:\n" + _meds(ctx),
        f"Follow-up: {ctx.primary.follow_up}",
    ]) + "\n"


PRIOR_ADMISSIONS = (
    ("dehydration due to viral gastroenteritis", "treated with IV fluids and discharged on day 2"),
    ("a fall with a left wrist fracture", "managed with closed reduction and casting"),
    ("community-acquired pneumonia", "treated with a 5-day course of antibiotics"),
    ("hyperglycemia", "insulin titrated and diabetes education provided"),
)


def discharge_summary(ctx: NoteContext, admitted: datetime, discharged: datetime, rng: random.Random) -> str:
    """Summary of an earlier admission of the same patient."""
    reason, course = rng.choice(PRIOR_ADMISSIONS)
    pmh = f"Background of {_join([c.text for c in ctx.comorbid])}." if ctx.comorbid else "No chronic conditions."
    home = [m for m in ctx.meds if m.key in {k for c in ctx.comorbid for k in c.meds}]
    return "\n".join([
        _header(ctx, "DISCHARGE SUMMARY", discharged, unit="General medicine"),
        f"Admission date: {admitted.date().isoformat()}   Discharge date: {discharged.date().isoformat()}",
        f"Reason for admission: {reason}. {pmh}",
        f"Hospital course: {course}. Denies chest pain or shortness of breath at discharge. No fever.",
        "Discharge medications:\n" + ("\n".join(f"- {m.sig}" for m in home) or "- No regular medications"),
        _allergies(ctx),
        "Condition at discharge: stable, ambulating independently.",
        "Follow-up: Follow up with primary care physician within 1 week of discharge.",
    ]) + "\n"
