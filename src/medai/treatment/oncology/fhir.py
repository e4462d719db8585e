"""An ``OncologyReport`` as a FHIR R4 ``DiagnosticReport``.

The report follows the shape of the HL7 Genomics Reporting IG without claiming conformance:
contained variant ``Observation``s (LOINC 69548-6 "Genetic variant assessment" with gene and
HGVS components) and therapeutic-implication ``Observation``s (medication assessed, level of
evidence, effect on drug efficacy, tumour type; PMIDs in ``note``) derived from them, all
referenced from ``DiagnosticReport.result``, with the findings summarised in ``conclusion``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from medai.core.codes import LOINC
from medai.treatment.oncology.therapies import OncologyReport, TherapyFinding, VariantFinding

GENOMICS_CODES = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
EFFECT_TEXT = {"sensitivity": "Responsive (CIViC: sensitivity/response)", "resistance": "Resistant (CIViC: resistance or reduced sensitivity)",
               "adverse response": "Adverse response"}


def _loinc(code: str, display: str) -> dict:
    return {"coding": [{"system": LOINC, "code": code, "display": display}]}


def _component(code: str, display: str, text: str) -> dict:
    return {"code": _loinc(code, display), "valueCodeableConcept": {"text": text}}


def _variant_observation(index: int, variant: VariantFinding) -> dict:
    gene, _, change = variant.variant.partition(" ")
    components = [_component("48018-6", "Gene studied [ID]", variant.gene or gene)]
    if change and change[0].isalpha() and any(ch.isdigit() for ch in change):
        components.append(_component("48005-3", "Amino acid change (pHGVS)", f"p.{change}" if not change.startswith(("c.", "p.")) else change))
    return {"resourceType": "Observation", "id": f"variant-{index}", "status": "final",
            "category": [{"coding": [{"system": OBS_CATEGORY, "code": "laboratory"}]}],
            "code": _loinc("69548-6", "Genetic variant assessment"),
            "valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA9633-4", "display": "Present"}]},
            "component": components, "note": [{"text": variant.message}] if variant.message else []}


def _therapy_observation(index: int, finding: TherapyFinding, report: OncologyReport, variant_ids: dict[str, str]) -> dict:
    tumour = f"{report.tumour_label} (DOID:{report.tumour_doid})" if report.tumour_doid else report.tumour_label
    notes = [f"CIViC evidence items: {', '.join(f'EID{e.evidence_id} ({e.level}, {e.disease})' for e in finding.evidence[:10])}"]
    if finding.pmids:
        notes.append("PMID: " + ", ".join(finding.pmids))
    notes += finding.flags
    derived = [{"reference": f"#{variant_ids[v]}"} for v in finding.variants if v in variant_ids]
    return {"resourceType": "Observation", "id": f"therapy-{index}", "status": "final",
            "category": [{"coding": [{"system": OBS_CATEGORY, "code": "laboratory"}]}],
            "code": {"coding": [{"system": GENOMICS_CODES, "code": "therapeutic-implication", "display": "Therapeutic Implication"}]},
            "derivedFrom": derived,
            "component": [_component("51963-7", "Medication assessed [ID]", finding.therapy),
                          _component("93044-6", "Level of evidence", f"CIViC level {finding.best_level} ({finding.level_meaning})"),
                          _component("51961-1", "Genetic variation's effect on drug efficacy", EFFECT_TEXT[finding.effect]),
                          _component("81259-4", "Associated phenotype", tumour)],
            "note": [{"text": text} for text in notes]}


def _conclusion(report: OncologyReport) -> str:
    parts = []
    for label, findings in (("Sensitivity", report.sensitivity), ("Resistance", report.resistance)):
        if findings:
            parts.append(f"{label}: " + "; ".join(f"{f.therapy} (level {f.best_level})" for f in findings[:5]) + ".")
    parts += report.messages
    variants = ", ".join(v.variant for v in report.variants)
    return f"{variants} in {report.tumour_label}. " + " ".join(parts) + f" Source: {report.knowledge}; {report.citation}."


def report_to_fhir(report: OncologyReport, patient_id: str | None = None, max_therapies: int = 10,
                   issued: datetime | None = None) -> dict:
    """The report as a FHIR R4 ``DiagnosticReport`` with contained Observations."""
    variant_ids: dict[str, str] = {}
    contained = []
    for index, variant in enumerate(report.variants, start=1):
        observation = _variant_observation(index, variant)
        variant_ids[variant.variant] = observation["id"]
        contained.append(observation)
    findings = report.sensitivity[:max_therapies] + report.resistance[:max_therapies]
    contained += [_therapy_observation(index, f, report, variant_ids) for index, f in enumerate(findings, start=1)]
    subject = {"subject": {"reference": f"Patient/{patient_id}"}} if patient_id else {}
    for resource in contained:
        resource.update(subject)
        if not resource.get("note"):
            resource.pop("note", None)
        if not resource.get("derivedFrom", True):
            resource.pop("derivedFrom")
    return {"resourceType": "DiagnosticReport", "id": str(uuid.uuid4()), "status": "final",
            "category": [{"coding": [{"system": V2_0074, "code": "GE", "display": "Genetics"}]}],
            "code": _loinc("51969-4", "Genetic analysis report"), **subject,
            "issued": (issued or datetime.now(timezone.utc)).isoformat(), "contained": contained,
            "result": [{"reference": f"#{r['id']}"} for r in contained], "conclusion": _conclusion(report)}
