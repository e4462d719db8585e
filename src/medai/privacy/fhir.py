"""De-identify FHIR R4 resources and Bundles (JSON dicts), following HIPAA Safe Harbor.

- names (HumanName) -> keyed surrogate names; ``Reference.display`` of people too;
- telecom -> keyed fake numbers / e-mails; photos and attachments that are not text are dropped;
- addresses -> street, city, district and text removed; state and country kept; ZIP kept to its
  first 3 digits (``000`` for the restricted 3-digit areas of 20,000 people or fewer);
  geolocation extensions removed;
- identifiers -> keyed pseudonyms (same value and key -> same pseudonym); resource ids,
  references and ``urn:uuid`` full URLs re-mapped consistently across the bundle;
- dates, dateTimes and instants -> shifted by the patient's offset (intervals kept), or cut to
  the year with ``dates="year"`` (the strict Safe Harbor reading); birth dates of patients over
  89 become the year of their 90th birthday, shown as a year only;
- free text (narrative ``text.div``, notes, comments, descriptions, text attachments) -> the text
  de-identifier.

>>> FhirDeidentifier(key="secret").deidentify(bundle)      # doctest: +SKIP
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import re
import uuid
from datetime import date, timedelta
from typing import Any, Literal

from medai.errors import InvalidInput, Problem
from medai.privacy.surrogates import SurrogateGenerator
from medai.privacy.text import Deidentifier

RESTRICTED_ZIP3 = frozenset({"036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831",
                             "878", "879", "884", "890", "893"})
"""3-digit ZIP areas with 20,000 people or fewer (HHS guidance on Safe Harbor, 2010 census)."""
FREE_TEXT_KEYS = frozenset({"div", "note", "comment", "description", "conclusion", "valueString", "text",
                            "patientInstruction", "summary"})
PERSON_TYPES = ("Patient", "Practitioner", "RelatedPerson", "Person")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?)?)?$")
_DROP_KEYS = frozenset({"photo"})


class FhirDeidentifier:
    """De-identifies resources and bundles with one key; ``deidentify`` returns a new dict."""

    def __init__(self, key: str, dates: Literal["shift", "year"] = "shift", text: Deidentifier | None = None,
                 today: date | None = None):
        if not key:
            raise ValueError("FHIR de-identification needs a key (any secret string)")
        if dates not in ("shift", "year"):
            raise ValueError(f"dates must be 'shift' or 'year', got {dates!r}")
        self.key = key
        self.dates = dates
        self._text = text
        self.today = today or date.today()

    @property
    def text(self) -> Deidentifier:
        """The free-text de-identifier (masking; built on first use)."""
        if self._text is None:
            self._text = Deidentifier(mode="mask")
        return self._text

    def pseudonym(self, value: str, kind: str = "id") -> str:
        """A keyed pseudonym: same value and key give the same 16 hex characters."""
        return hmac.new(self.key.encode(), f"{kind}\x1f{value}".encode(), hashlib.sha256).hexdigest()[:16]

    def _uuid(self, value: str) -> str:
        return str(uuid.UUID(hex=hmac.new(self.key.encode(), f"uuid\x1f{value}".encode(), hashlib.sha256).hexdigest()[:32]))

    def deidentify(self, resource: dict[str, Any]) -> dict[str, Any]:
        """A de-identified copy of a resource or Bundle; ``InvalidInput`` if it is not a FHIR resource."""
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise InvalidInput(Problem("resourceType", "expected a FHIR resource (a JSON object with resourceType)",
                                       "required"))
        out = copy.deepcopy(resource)
        self._known = _known_phi(out)
        if out["resourceType"] == "Bundle":
            default_patient = _bundle_patient(out)
            for i, entry in enumerate(out.get("entry") or []):
                if not isinstance(entry, dict):
                    raise InvalidInput(Problem(f"Bundle.entry[{i}]", "expected an object"))
                if isinstance(entry.get("fullUrl"), str):
                    entry["fullUrl"] = self._reference(entry["fullUrl"])
                if isinstance(entry.get("resource"), dict):
                    entry["resource"] = self._resource(entry["resource"], default_patient)
            return out
        return self._resource(out, _patient_of(out) or "")

    def _resource(self, resource: dict, default_patient: str) -> dict:
        patient = _patient_of(resource) or default_patient
        generator = SurrogateGenerator(self.key, patient)
        self._walk(resource, generator, resource.get("resourceType", ""), patient)
        if isinstance(resource.get("id"), str):
            resource["id"] = self.pseudonym(resource["id"])
        meta = resource.setdefault("meta", {})
        if isinstance(meta, dict):
            meta.setdefault("security", []).append({"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
                                                    "code": "REDACTED", "display": "redacted"})
        return resource

    # -- the walk ---------------------------------------------------------------------------
    def _walk(self, node: Any, gen: SurrogateGenerator, rtype: str, patient: str, key: str = "") -> Any:
        if isinstance(node, list):
            return [self._walk(item, gen, rtype, patient, key) for item in node]
        if isinstance(node, dict):
            for name in list(node):
                value = node[name]
                if name in _DROP_KEYS:
                    del node[name]
                elif name == "extension" and isinstance(value, list):
                    node[name] = [self._walk(e, gen, rtype, patient, name) for e in value
                                  if not (isinstance(e, dict) and "geolocation" in str(e.get("url", "")))]
                elif name in ("name", "valueHumanName") and rtype in PERSON_TYPES + ("Bundle", "") or _is_human_name(value):
                    node[name] = self._names(value, gen)
                elif name in ("address", "valueAddress"):
                    node[name] = self._address(value)
                elif name == "telecom":
                    node[name] = [self._telecom(t, gen) for t in value] if isinstance(value, list) else value
                elif name == "identifier":
                    node[name] = self._identifiers(value)
                elif name == "reference" and isinstance(value, str):
                    node[name] = self._reference(value)
                elif name == "display" and isinstance(value, str) and str(node.get("reference", "")).split("/")[0] in PERSON_TYPES:
                    node[name] = " ".join(gen.name_word(w) for w in value.split())
                elif name == "attachment" and isinstance(value, dict):
                    node[name] = self._attachment(value, patient)
                elif name == "birthDate" and isinstance(value, str):
                    node[name] = self._birth_date(value, gen)
                elif isinstance(value, str) and _DATE.match(value) and name not in ("id", "version"):
                    node[name] = self._date(value, gen)
                elif isinstance(value, str) and name in FREE_TEXT_KEYS:
                    node[name] = self._free_text(value, patient)
                else:
                    node[name] = self._walk(value, gen, rtype, patient, name)
        return node

    def _names(self, value: Any, gen: SurrogateGenerator) -> Any:
        if isinstance(value, list):
            return [self._names(v, gen) for v in value]
        if isinstance(value, str):
            return " ".join(gen.name_word(w) for w in value.split())
        if not isinstance(value, dict):
            return value
        out = {k: v for k, v in value.items() if k in ("use", "period", "extension")}
        if isinstance(value.get("family"), str):
            out["family"] = gen.name_word(value["family"])
        if isinstance(value.get("given"), list):
            out["given"] = [gen.name_word(g) for g in value["given"] if isinstance(g, str)]
        parts = [*out.get("given", []), out.get("family", "")]
        if "text" in value:
            out["text"] = " ".join(p for p in parts if p)
        return out

    def _address(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._address(v) for v in value]
        if not isinstance(value, dict):
            return value
        out = {k: v for k, v in value.items() if k in ("use", "type", "state", "country", "period")}
        postal = re.sub(r"\D", "", str(value.get("postalCode", "")))
        if len(postal) >= 3:
            out["postalCode"] = "000" if postal[:3] in RESTRICTED_ZIP3 else postal[:3]
        return out

    def _telecom(self, value: Any, gen: SurrogateGenerator) -> Any:
        if not isinstance(value, dict) or not isinstance(value.get("value"), str):
            return value
        from medai.privacy.phi import PHISpan, PHIType

        kind = {"email": PHIType.EMAIL, "fax": PHIType.FAX, "url": PHIType.URL}.get(value.get("system"), PHIType.PHONE)
        return {**value, "value": gen.replace(PHISpan(0, len(value["value"]), kind, value["value"], "fhir:telecom"))}

    def _identifiers(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._identifiers(v) for v in value]
        if not isinstance(value, dict):
            return value
        out = {k: v for k, v in value.items() if k in ("use", "type", "system", "period")}
        if isinstance(value.get("value"), str):
            out["value"] = self.pseudonym(f"{value.get('system', '')}|{value['value']}", "identifier")
        return out

    def _reference(self, value: str) -> str:
        if value.startswith("urn:uuid:"):
            return "urn:uuid:" + self._uuid(value[9:])
        parts = value.split("/")
        if len(parts) >= 2 and parts[-2][:1].isupper():
            parts[-1] = self.pseudonym(parts[-1])
            return "/".join(parts[-2:])
        return value

    def _date(self, value: str, gen: SurrogateGenerator) -> str:
        match = _DATE.match(value)
        year, month, day, time = match.groups()
        if self.dates == "year":
            return year
        if not month:
            return str((date(int(year), 7, 1) + timedelta(days=gen.date_offset_days)).year)
        if not day:
            shifted = date(int(year), int(month), 15) + timedelta(days=gen.date_offset_days)
            return f"{shifted.year:04d}-{shifted.month:02d}"
        try:
            shifted = date(int(year), int(month), int(day)) + timedelta(days=gen.date_offset_days)
        except ValueError:
            return year
        return shifted.isoformat() + (time or "")

    def _birth_date(self, value: str, gen: SurrogateGenerator) -> str:
        match = _DATE.match(value)
        if not match:
            return value
        born = int(match.group(1))
        if self.today.year - born > 89:
            return str(self.today.year - 90)
        return self._date(value, gen)

    def _attachment(self, value: dict, patient: str) -> dict:
        out = {k: v for k, v in value.items() if k in ("contentType", "language", "title", "creation")}
        content_type = str(value.get("contentType", ""))
        if "data" in value and content_type.startswith("text/"):
            try:
                plain = base64.b64decode(value["data"]).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                raise InvalidInput(Problem("attachment.data", "text attachment is not base64-encoded UTF-8")) from None
            out["data"] = base64.b64encode(self._free_text(plain, patient).encode()).decode()
        if isinstance(out.get("title"), str):
            out["title"] = self._free_text(out["title"], patient)
        return out

    def _free_text(self, value: str, patient: str) -> str:
        """The text de-identifier's output, then every value known from the structured fields masked too."""
        text = self.text.deidentify(value, patient).text
        known = getattr(self, "_known", None)
        return known.sub("[REDACTED]", text) if known else text


def _known_phi(resource: dict) -> re.Pattern | None:
    """A pattern of the names, identifiers, telecom values and street/city of the people in a
    resource or bundle, to mask wherever they recur in free text."""
    values: set[str] = set()

    def visit(node: Any, key: str = "") -> None:
        if isinstance(node, list):
            for item in node:
                visit(item, key)
        elif isinstance(node, dict):
            if key in ("name", "contact") or _is_human_name(node):
                values.update(str(v) for v in [node.get("family"), *(node.get("given") or [])] if v)
            if key in ("identifier", "telecom") and isinstance(node.get("value"), str):
                values.add(node["value"])
            if key in ("address", "valueAddress"):
                values.update(str(v) for v in [*(node.get("line") or []), node.get("city")] if v)
            for child_key, child in node.items():
                visit(child, child_key)

    visit(resource)
    words = sorted((v for v in values if len(v) > 1), key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<![\w])(?:" + "|".join(re.escape(w) for w in words) + r")(?![\w])", re.IGNORECASE)


def _is_human_name(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return bool(items) and all(isinstance(v, dict) and ("family" in v or "given" in v) for v in items)


def _patient_of(resource: dict) -> str | None:
    """The patient a resource is about: its own id for a Patient, else subject/patient/beneficiary."""
    if resource.get("resourceType") == "Patient":
        return str(resource.get("id", ""))
    for key in ("subject", "patient", "beneficiary"):
        ref = resource.get(key)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return ref["reference"].split("/")[-1].removeprefix("urn:uuid:")
    return None


def _bundle_patient(bundle: dict) -> str:
    for entry in bundle.get("entry") or []:
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict) and entry["resource"].get("resourceType") == "Patient":
            return str(entry["resource"].get("id", ""))
    return ""

