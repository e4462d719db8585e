"""Clinical notes into the workflow: a FHIR ``DocumentReference`` in, FHIR ``Condition`` resources and a CDS
Hooks ``patient-view`` card out.

The note's text is read by :func:`medai.notes.documents.read_document` (inline ``text/plain`` only).

Every condition mention (:func:`medai.notes.extract.extract`) becomes a ``Condition`` except family-history and
hypothetical ones (the patient is not said to have them): negated -> ``verificationStatus = refuted`` (no
clinical status), uncertain -> ``provisional``, otherwise ``confirmed``; historical -> ``clinicalStatus =
inactive``, otherwise ``active``. The code is the best ICD-10-CM candidate with the mention's words as text;
``evidence.detail`` references the note, and the :data:`EVIDENCE_EXTENSION` on the evidence carries the
character span, the status, the ConText trigger spans that set it and the coder's score. The
:data:`MODEL_EXTENSION` marks the Condition as extracted by a model, which keeps such Conditions off the
problem list that :func:`missing_conditions` compares against.

The ``patient-view`` card (:func:`notes_card`) lists conditions affirmed in the notes (present or past, not
family) that are not on the patient's problem list, compared by ICD-10-CM category and by words, with a
``create`` suggestion per condition, and the follow-ups the notes ask for.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from medai.core.prediction import ModelIdentity, Prediction, hash_inputs
from medai.explain.types import EvidenceSpan, Explanation
from medai.notes.context import PRIORITY
from medai.notes.documents import Note, now_text
from medai.notes.extract import ConditionExtractor, Mention, default_extractor, shipped_tagger
from medai.notes.followup import FollowupItem, detect
from medai.notes.icd10 import SYSTEM_URI as ICD10CM
from medai.notes.icd10 import ICD10Coder, default_coder, normalise

STATUSES = ("affirmed", "negated", "uncertain", "historical", "family", "hypothetical")
CLINICAL_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
EVIDENCE_EXTENSION = "urn:medai:fhir:extension:note-evidence"
MODEL_EXTENSION = "urn:medai:fhir:extension:model"
NOT_PROBLEMS = ("R",)
"""ICD-10-CM chapters left out of the problem-list card: symptoms, signs and abnormal findings (chapter 18)."""
PROBLEM_CODE_SCORE = 0.8
"""How sure the coder must be before a problem coded otherwise counts under an ICD-10-CM category."""
CARD_CONDITIONS = 10
CARD_FOLLOWUPS = 10
_IDS = uuid.UUID("6f1d2c0e-7a55-4a8e-9f0b-3c2d1e0a9b7c")
_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]")


# -- mentions -> Conditions -------------------------------------------------------------------

def mention_status(mention: Mention) -> str:
    """One status per mention: the first true flag in ConText's priority order, else ``affirmed``."""
    return next((flag for flag in PRIORITY if getattr(mention, flag)), "affirmed")


def mention_view(mention: Mention) -> dict:
    """A mention as JSON: span, status, the five flags, the ICD-10-CM candidates and the trigger evidence."""
    return {**mention.as_dict(), "status": mention_status(mention), "evidence": list(mention.assertion_evidence)}


def followup_view(item: FollowupItem) -> dict:
    """A follow-up item as JSON, with *when* in words."""
    return {**item.as_dict(), "when_text": when_text(item.when)}


def when_text(when: dict | None) -> str:
    """A normalised *when* in words: ``in 3 months``, ``in 6-8 weeks``, ``before discharge``, ``if symptoms worsen``."""
    if not when:
        return ""
    if "value" in when:
        value = when["value"]
        return f"in {value:g} {when['unit']}{'' if value == 1 else 's'}"
    if "low" in when:
        return f"in {when['low']:g}-{when['high']:g} {when['unit']}s"
    if "event" in when:
        return f"{when.get('relation', 'at')} {when['event']}"
    condition = str(when.get("condition", ""))
    return condition if condition.startswith(("as ", "if ", "when ")) else f"if {condition}"


def _coding(system: str, code: str) -> dict:
    return {"coding": [{"system": system, "code": code}]}


def model_extension(identity: ModelIdentity) -> dict:
    """The extension naming the model that extracted a Condition."""
    return {"url": MODEL_EXTENSION, "extension": [{"url": "id", "valueString": identity.model_id},
                                                  {"url": "version", "valueString": identity.model_version},
                                                  {"url": "weightsSha256", "valueString": identity.weights_sha256}]}


def _evidence_extension(mention: Mention, status: str) -> dict:
    parts = [{"url": "start", "valueInteger": mention.start}, {"url": "end", "valueInteger": mention.end},
             {"url": "text", "valueString": mention.text}, {"url": "status", "valueCode": status}]
    for trigger in mention.assertion_evidence:
        parts.append({"url": "trigger", "extension": [
            {"url": "category", "valueCode": trigger["category"]}, {"url": "start", "valueInteger": trigger["start"]},
            {"url": "end", "valueInteger": trigger["end"]}, {"url": "text", "valueString": trigger["text"]},
            {"url": "rule", "valueString": f"{trigger['source']}:{trigger['rule']}"}]})
    if mention.codes:
        parts.append({"url": "codeScore", "valueDecimal": round(mention.codes[0].score, 4)})
    return {"url": EVIDENCE_EXTENSION, "extension": parts}


def evidence_sentence(mention: Mention, note: Note, identity: ModelIdentity) -> str:
    """Where a Condition came from, in words: the note, the span, the status and its trigger, the code's score."""
    status = mention_status(mention)
    triggers = ", ".join(f'"{e["text"]}" ({e["start"]}-{e["end"]})' for e in mention.assertion_evidence
                         if e["category"] == status)
    code = mention.codes[0] if mention.codes else None
    return (f'Extracted by {identity.model_id} {identity.model_version} from DocumentReference/{note.id}, characters '
            f'{mention.start}-{mention.end}: "{mention.text}"; {status}' + (f" by {triggers}" if triggers else "") + "."
            + (f" ICD-10-CM {code.code} suggested (score {code.score:.2f})." if code else " No ICD-10-CM code found.")
            + " Review against the note before use.")


def note_condition(mention: Mention, note: Note, identity: ModelIdentity, category: str = "encounter-diagnosis",
                   recorded: datetime | None = None) -> dict | None:
    """The FHIR R4 ``Condition`` of one mention (see the module docstring); None for family or hypothetical ones.

    Its id is derived from the note, the span, the code and the category, so analysing a note again
    updates the same Conditions instead of adding copies.
    """
    if mention.family or mention.hypothetical:
        return None
    status = mention_status(mention)
    verification = "refuted" if mention.negated else "provisional" if mention.uncertain else "confirmed"
    code = mention.codes[0] if mention.codes else None
    concept: dict = {"text": mention.text}
    if code:
        coding = {"system": ICD10CM, "code": code.code, "display": code.description}
        concept["coding"] = [{**coding, "version": code.version} if code.version else coding]
    seed = f"{note.id}:{mention.start}:{mention.end}:{code.code if code else ''}:{category}"
    condition = {"resourceType": "Condition", "id": str(uuid.uuid5(_IDS, seed)), "extension": [model_extension(identity)],
                 "verificationStatus": _coding(VERIFICATION_STATUS, verification),
                 "category": [_coding(CONDITION_CATEGORY, category)], "code": concept,
                 "subject": (note.resource.get("subject") if note.patient_id else {"display": "patient not identified"}),
                 "recordedDate": now_text(recorded),
                 "evidence": [{"extension": [_evidence_extension(mention, status)],
                               "detail": [{"reference": f"DocumentReference/{note.id}", "display": note.title}]}],
                 "note": [{"text": evidence_sentence(mention, note, identity)}]}
    if verification != "refuted":
        condition["clinicalStatus"] = _coding(CLINICAL_STATUS, "inactive" if mention.historical else "active")
    encounter = next(iter((note.resource.get("context") or {}).get("encounter", [])), None)
    if encounter:
        condition["encounter"] = encounter
    return condition


# -- analysis ---------------------------------------------------------------------------------

@dataclass
class NoteAnalysis:
    """One analysed note: its mentions, follow-ups and Conditions, and the model that found them."""

    note: Note
    mentions: list[Mention]
    followups: list[FollowupItem]
    conditions: list[dict]
    model: ModelIdentity

    def as_dict(self) -> dict:
        """JSON-ready: the note reference, mentions, follow-ups, Conditions and the model identity."""
        return {"document": f"DocumentReference/{self.note.id}",
                "patient": f"Patient/{self.note.patient_id}" if self.note.patient_id else None,
                "model": self.model.model_dump(), "mentions": [mention_view(m) for m in self.mentions],
                "followups": [followup_view(f) for f in self.followups], "conditions": self.conditions}


def extractor_identity(extractor: ConditionExtractor | None = None) -> ModelIdentity:
    """The identity of the condition tagger behind ``extractor`` (default: the shipped ``condition-ner``)."""
    tagger = (extractor.tagger if extractor else None) or shipped_tagger()
    return ModelIdentity(**tagger.package_.identity())


def analyze_notes(notes: Sequence[Note], extractor: ConditionExtractor | None = None) -> list[NoteAnalysis]:
    """Mentions, follow-ups and Conditions of several notes (the tagger batches them)."""
    extractor = extractor or default_extractor()
    identity = extractor_identity(extractor)
    found = extractor.extract_many([note.text for note in notes]) if notes else []
    out = []
    for note, mentions in zip(notes, found, strict=True):
        conditions = [c for c in (note_condition(m, note, identity) for m in mentions) if c]
        out.append(NoteAnalysis(note, mentions, detect(note.text), conditions, identity))
    return out


def analyze_note(note: Note, extractor: ConditionExtractor | None = None) -> NoteAnalysis:
    """:func:`analyze_notes` for one note."""
    return analyze_notes([note], extractor)[0]


def note_prediction(analyses: Sequence[NoteAnalysis], patient_id: str | None = None) -> Prediction:
    """The recorded prediction of an analysis: the number of Conditions, each mention as an evidence span."""
    conditions = [c for a in analyses for c in a.conditions]
    verdicts = [c["verificationStatus"]["coding"][0]["code"] for c in conditions]
    followups = sum(len(a.followups) for a in analyses)
    label = (f"{len(conditions)} conditions from {len(analyses)} note(s) ({verdicts.count('refuted')} refuted, "
             f"{verdicts.count('provisional')} provisional); {followups} follow-ups")
    evidence = [EvidenceSpan(start=m.start, end=m.end, text=m.text,
                             label=f"{mention_status(m)}" + (f" {m.codes[0].code}" if m.codes else "")
                             + ("" if len(analyses) == 1 else f" DocumentReference/{a.note.id}"))
                for a in analyses for m in a.mentions]
    model = analyses[0].model if analyses else extractor_identity()
    explanation = Explanation(method="NER + ConText assertions + ICD-10-CM retrieval", summary=label, evidence=evidence,
                              caveats=["Spans are character offsets in the note named by each Condition's evidence.",
                                       "Suggested codes and statuses are for review; they are not diagnoses."])
    return Prediction(patient_id=patient_id, model=model, value=float(len(conditions)), label=label[:128],
                      explanation=explanation, input_hash=hash_inputs([a.note.text for a in analyses]))


def storage_bundle(analysis: NoteAnalysis) -> dict:
    """A transaction Bundle that PUTs the note and its Conditions at their ids."""
    resources = [analysis.note.resource, *analysis.conditions]
    return {"resourceType": "Bundle", "type": "transaction",
            "entry": [{"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
                      for r in resources]}


# -- the problem list and the card ------------------------------------------------------------

def _words(text: str) -> frozenset[str]:
    return frozenset(normalise(_PARENS.sub(" ", text or "")).split())


def _category(code: str) -> str:
    return code.split(".")[0][:3].upper()


def is_extracted(condition: dict) -> bool:
    """True for Conditions a model extracted from notes (they are not the curated problem list)."""
    return any(e.get("url") == MODEL_EXTENSION for e in condition.get("extension", []))


@dataclass(frozen=True)
class ProblemList:
    """The ICD-10-CM categories and the word sets of a patient's problem list."""

    categories: frozenset[str]
    texts: tuple[frozenset[str], ...]

    def has(self, mention: Mention) -> bool:
        """True when the mention's best code shares a category with a problem, or its words are a problem's words."""
        if mention.codes and _category(mention.codes[0].code) in self.categories:
            return True
        words = _words(mention.text)
        return bool(words) and any(words <= problem for problem in self.texts)


def problem_list(conditions: Iterable[dict], coder: ICD10Coder | None = None) -> ProblemList:
    """The problem list in stored Conditions: not extracted from notes, not refuted or entered in error.

    ICD-10-CM codings are read as they are; a problem coded otherwise (SNOMED CT, text only) gets the
    coder's best ICD-10-CM code for its text when that scores at least :data:`PROBLEM_CODE_SCORE`.
    """
    categories, texts, uncoded = set(), [], []
    for condition in conditions:
        verification = ((condition.get("verificationStatus") or {}).get("coding") or [{}])[0].get("code")
        if is_extracted(condition) or verification in ("refuted", "entered-in-error"):
            continue
        concept = condition.get("code") or {}
        codings = concept.get("coding") or []
        text = concept.get("text") or next((c.get("display") for c in codings if c.get("display")), "")
        texts.append(_words(text))
        icd = [c["code"] for c in codings if c.get("system") == ICD10CM and c.get("code")]
        categories.update(_category(code) for code in icd)
        if not icd and text:
            uncoded.append(text)
    if uncoded:
        coder = coder or default_coder()
        categories.update(_category(codes[0].code) for codes in coder.code_many(uncoded)
                          if codes and codes[0].score >= PROBLEM_CODE_SCORE)
    return ProblemList(frozenset(categories), tuple(t for t in texts if t))


@dataclass
class MissingCondition:
    """A condition affirmed in a note but not on the problem list, with the Condition to add."""

    mention: Mention
    note: Note
    condition: dict
    count: int = 1

    @property
    def code(self) -> str | None:
        """The best ICD-10-CM code, if any."""
        return self.mention.codes[0].code if self.mention.codes else None


def missing_conditions(analyses: Sequence[NoteAnalysis], problems: ProblemList,
                       skip_chapters: Sequence[str] = NOT_PROBLEMS) -> list[MissingCondition]:
    """Conditions affirmed (present or past, not family) in the notes, newest note first, that are not on the
    problem list; one per ICD-10-CM category (or per wording when uncoded), with a problem-list Condition."""
    found: dict[str, MissingCondition] = {}
    for analysis in analyses:
        for mention in analysis.mentions:
            if mention_status(mention) not in ("affirmed", "historical") or problems.has(mention):
                continue
            code = mention.codes[0].code if mention.codes else None
            if code and code.startswith(tuple(skip_chapters)):
                continue
            key = _category(code) if code else " ".join(sorted(_words(mention.text)))
            if key in found:
                found[key].count += 1
                continue
            condition = note_condition(mention, analysis.note, analysis.model, category="problem-list-item")
            if condition is not None:
                found[key] = MissingCondition(mention, analysis.note, condition)
    return list(found.values())


def open_followups(analyses: Sequence[NoteAnalysis]) -> list[tuple[Note, FollowupItem]]:
    """The follow-ups the notes ask for, newest note first, each *what* + *when* once."""
    seen, out = set(), []
    for analysis in analyses:
        for item in analysis.followups:
            key = (item.what, when_text(item.when))
            if key not in seen:
                seen.add(key)
                out.append((analysis.note, item))
    return out


def _note_label(note: Note) -> str:
    return f"{note.title}" + (f", {note.date[:10]}" if note.date else "")


def _detail(missing: Sequence[MissingCondition], followups: Sequence[tuple[Note, FollowupItem]], model: ModelIdentity) -> str:
    lines = []
    if missing:
        lines.append("**Conditions in the notes that are not on the problem list** (accept a suggestion to add one):")
        for item in missing[:CARD_CONDITIONS]:
            code = item.mention.codes[0] if item.mention.codes else None
            coded = f"ICD-10-CM {code.code} {code.description}" if code else "no ICD-10-CM code found"
            lines.append(f"- *{item.mention.text}* ({mention_status(item.mention)}): {coded}; {_note_label(item.note)}, "
                         f"characters {item.mention.start}-{item.mention.end}"
                         + (f"; {item.count} mentions" if item.count > 1 else ""))
    if followups:
        lines += ["", "**Follow-ups asked for in the notes:**"]
        for note, item in followups[:CARD_FOLLOWUPS]:
            when = when_text(item.when)
            lines.append(f'- {item.what}{" " + when if when else ""}: "{item.text}" ({_note_label(note)})')
    lines += ["", f"Found by medai notes ({model.model_id} {model.model_version}: NER, ConText assertions, ICD-10-CM "
                  "coding). Decision support only: check the note before accepting."]
    return "\n".join(lines)


def notes_card(missing: Sequence[MissingCondition], followups: Sequence[tuple[Note, FollowupItem]], model: ModelIdentity,
               page_url: str | None = None, model_card_url: str | None = None) -> dict | None:
    """The ``patient-view`` card: missing conditions (``create`` suggestions) and follow-ups; None when neither.

    ``warning`` when the notes ask for follow-ups, ``info`` otherwise.
    """
    if not missing and not followups:
        return None
    parts = []
    if missing:
        names = ", ".join(m.mention.text for m in missing[:3]) + (", ..." if len(missing) > 3 else "")
        parts.append(f"{len(missing)} condition{'s' if len(missing) != 1 else ''} in notes not on the problem list ({names})")
    if followups:
        parts.append(f"{len(followups)} follow-up{'s' if len(followups) != 1 else ''} in notes")
    summary = "; ".join(parts)
    card = {"uuid": str(uuid.uuid4()), "summary": summary if len(summary) <= 140 else summary[:139] + "\u2026",
            "detail": _detail(missing, followups, model), "indicator": "warning" if followups else "info",
            "source": {"label": f"medai notes {model.model_version}"}, "links": [], "suggestions": []}
    if model_card_url:
        card["source"]["url"] = model_card_url
    for item in missing[:CARD_CONDITIONS]:
        code = f" ({item.code})" if item.code else ""
        label = f"Add {item.mention.text}{code} to the problem list"
        card["suggestions"].append({"label": label, "uuid": str(uuid.uuid4()),
                                    "actions": [{"type": "create", "description": label, "resource": item.condition}]})
    if card["suggestions"]:
        card["selectionBehavior"] = "any"
    if page_url:
        card["links"].append({"label": "Open the notes with highlighted mentions in medai", "url": page_url, "type": "absolute"})
    return card
