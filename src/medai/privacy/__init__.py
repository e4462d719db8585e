"""Privacy: de-identification of free text (HIPAA Safe Harbor's 18 identifiers), FHIR resources and
DICOM headers, with masks or consistent keyed surrogates.

>>> from medai.privacy import deidentify_text
>>> deidentify_text("Seen by Dr. Jones on 8/23/2019.", mode="mask").text      # doctest: +SKIP
'Seen by Dr. [NAME] on [DATE].'

Submodules load lazily: ``text`` (pipeline), ``rules`` (rules.yaml), ``tagger`` and ``sequence`` (the learned models),
``surrogates``, ``fhir``, ``dicom`` (needs pydicom), ``evaluate`` (metrics).
"""

from __future__ import annotations

from importlib import import_module

from medai.privacy.phi import PHISpan, PHIType

_LAZY = {
    "Deidentifier": "medai.privacy.text",
    "DeidResult": "medai.privacy.text",
    "deidentify_text": "medai.privacy.text",
    "RuleDetector": "medai.privacy.rules",
    "DeidTagger": "medai.privacy.tagger",
    "DeidSequenceTagger": "medai.privacy.sequence",
    "SurrogateGenerator": "medai.privacy.surrogates",
    "FhirDeidentifier": "medai.privacy.fhir",
    "DicomDeidentifier": "medai.privacy.dicom",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'medai.privacy' has no attribute {name!r}")


__all__ = ["PHISpan", "PHIType", *_LAZY]
