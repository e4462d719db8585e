"""Token-per-line IOB files (CoNLL style): ``token<TAB>tag`` lines, a blank line between sentences.

Shared by the NCBI Disease and BC5CDR loaders. Mentions are read conlleval-style: a mention starts at
``B-X`` (or at an ``I-X`` that does not continue a mention of type X) and ends before the next tag
that is not ``I-X``.
"""

from __future__ import annotations

from dataclasses import dataclass

from medai.errors import InvalidInput, Problem


@dataclass(frozen=True)
class TaggedSentence:
    """One sentence: its tokens and one IOB tag per token (``O``, ``B-Disease``, ``I-Disease``...)."""

    tokens: tuple[str, ...]
    tags: tuple[str, ...]


def read_iob(text: str, source: str = "<text>") -> list[TaggedSentence]:
    """Parse IOB text into sentences; a line with other than two tab-separated fields is an error."""
    sentences: list[TaggedSentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            if tokens:
                sentences.append(TaggedSentence(tuple(tokens), tuple(tags)))
                tokens, tags = [], []
            continue
        fields = line.split("\t")
        if len(fields) != 2 or not fields[0] or not _valid_tag(fields[1]):
            raise InvalidInput(Problem(f"{source}: line {line_no}", f"expected 'token<TAB>tag' with an IOB tag, got {line!r}"))
        tokens.append(fields[0])
        tags.append(fields[1])
    if tokens:
        sentences.append(TaggedSentence(tuple(tokens), tuple(tags)))
    return sentences


def _valid_tag(tag: str) -> bool:
    return tag == "O" or (tag[:2] in ("B-", "I-") and len(tag) > 2)


def spans(tags: tuple[str, ...] | list[str]) -> list[tuple[int, int, str]]:
    """Mentions as ``(first token, end token exclusive, type)``, conlleval rules."""
    found: list[tuple[int, int, str]] = []
    start, kind = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        continues = tag.startswith("I-") and start >= 0 and tag[2:] == kind
        if start >= 0 and not continues:
            found.append((start, i, kind))
            start = -1
        if tag != "O" and not continues:
            start, kind = i, tag[2:]
    return found
