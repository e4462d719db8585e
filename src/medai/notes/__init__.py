"""Clinical notes: condition extraction with assertion status and ICD-10-CM codes, section
detection and follow-up detection. De-identification lives in :mod:`medai.privacy`.

>>> from medai.notes import assertion
>>> assertion("No evidence of pneumonia.", "pneumonia")      # doctest: +SKIP
'negated'
"""

from __future__ import annotations


def assertion(sentence: str, target: str) -> str:
    """The assertion status of ``target`` inside ``sentence``: ``affirmed``, ``negated``,
    ``uncertain``, ``historical``, ``family`` or ``hypothetical`` (ConText-style rules)."""
    from medai.notes.context import assert_target

    return assert_target(sentence, target)


__all__ = ["assertion"]
