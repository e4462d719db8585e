"""PHI types (the 18 HIPAA Safe Harbor identifiers) and the span every detector returns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import Enum


class PHIType(str, Enum):
    """What kind of identifier a span is. ``hipaa`` gives the 45 CFR 164.514(b)(2)(i) item."""

    NAME = "NAME"
    LOCATION = "LOCATION"
    DATE = "DATE"
    AGE = "AGE"
    PHONE = "PHONE"
    FAX = "FAX"
    EMAIL = "EMAIL"
    SSN = "SSN"
    MRN = "MRN"
    HEALTH_PLAN = "HEALTH_PLAN"
    ACCOUNT = "ACCOUNT"
    LICENSE = "LICENSE"
    VEHICLE = "VEHICLE"
    DEVICE = "DEVICE"
    URL = "URL"
    IP = "IP"
    BIOMETRIC = "BIOMETRIC"
    ID = "ID"

    @property
    def hipaa(self) -> str:
        """The Safe Harbor item letter, e.g. ``"(A) names"``."""
        return HIPAA_ITEMS[self]


HIPAA_ITEMS: dict[PHIType, str] = {
    PHIType.NAME: "(A) names",
    PHIType.LOCATION: "(B) geographic subdivisions smaller than a state",
    PHIType.DATE: "(C) all elements of dates directly related to an individual",
    PHIType.AGE: "(C) ages over 89",
    PHIType.PHONE: "(D) telephone numbers",
    PHIType.FAX: "(E) fax numbers",
    PHIType.EMAIL: "(F) electronic mail addresses",
    PHIType.SSN: "(G) social security numbers",
    PHIType.MRN: "(H) medical record numbers",
    PHIType.HEALTH_PLAN: "(I) health plan beneficiary numbers",
    PHIType.ACCOUNT: "(J) account numbers",
    PHIType.LICENSE: "(K) certificate/license numbers",
    PHIType.VEHICLE: "(L) vehicle identifiers and serial numbers, including license plates",
    PHIType.DEVICE: "(M) device identifiers and serial numbers",
    PHIType.URL: "(N) web universal resource locators",
    PHIType.IP: "(O) internet protocol addresses",
    PHIType.BIOMETRIC: "(P) biometric identifiers",
    PHIType.ID: "(R) any other unique identifying number, characteristic or code",
}
"""(Q) full-face photographs concern images, not text: DICOM pixel data is kept as is (see dicom.py)."""

SAFE_HARBOR_CITATION = "45 CFR 164.514(b)(2)(i) (HIPAA Privacy Rule, Safe Harbor method)"


@dataclass(frozen=True)
class PHISpan:
    """One identifier found in a text: where it is, what it is, and what found it.

    ``source`` names the detector (``rule:<id>`` or ``tagger:<model>@<version>``) so every
    redaction can be traced to the rule or model that caused it.
    """

    start: int
    end: int
    type: PHIType
    text: str
    source: str
    score: float = 1.0

    def to_dict(self) -> dict:
        """JSON-ready: ``{start, end, type, text, source, score}``."""
        out = asdict(self)
        out["type"] = self.type.value
        return out


def merge_spans(spans: Iterable[PHISpan], text: str) -> list[PHISpan]:
    """Overlapping spans, and touching spans of one type, become one span.

    The merged span takes the type of its longest rule-found part (``rule:...``), else of its longest
    part: where a rule and the tagger disagree on what an identifier is, the rule's type wins.
    The result is sorted and non-overlapping, so it can be applied to ``text`` left to right.
    """
    ordered = sorted(spans, key=lambda s: (s.start, -s.end))
    merged: list[list[PHISpan]] = []
    for span in ordered:
        if merged:
            end = max(s.end for s in merged[-1])
            if span.start < end or (span.start == end and span.type in {s.type for s in merged[-1]}):
                merged[-1].append(span)
                continue
        merged.append([span])
    out = []
    for group in merged:
        start, end = group[0].start, max(s.end for s in group)
        lead = max(group, key=lambda s: (s.source.startswith("rule:"), s.end - s.start, s.score))
        sources = ",".join(dict.fromkeys(s.source for s in group))
        out.append(PHISpan(start, end, lead.type, text[start:end], sources, max(s.score for s in group)))
    return out
