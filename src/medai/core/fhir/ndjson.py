"""FHIR Bulk Data ``$export`` files: NDJSON (one resource per line) and the export manifest.

Reading accepts what a server's bulk export leaves on disk: one ``.ndjson`` (or ``.ndjson.gz``)
file, a folder of them, or the manifest JSON of the completed export (its ``output[].url`` entries
are resolved relative to the manifest, or as ``file://`` URLs). Writing produces one file per
resource type plus a manifest shaped like the Bulk Data complete-status response
(``transactionTime``, ``request``, ``requiresAccessToken``, ``output``, ``error``).
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlparse

from medai.errors import InvalidInput, Problem

MANIFEST_NAME = "manifest.json"
NDJSON_SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl")


def _is_ndjson(path: Path) -> bool:
    return path.name.endswith(NDJSON_SUFFIXES)


def _manifest_files(manifest: Path) -> list[tuple[str | None, Path]]:
    try:
        body = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise InvalidInput(Problem(str(manifest), f"not a readable export manifest: {error}", "structure")) from None
    outputs = body.get("output") if isinstance(body, dict) else None
    if not isinstance(outputs, list):
        raise InvalidInput(Problem(f"{manifest}: output", "an export manifest needs an 'output' list", "required"))
    files = []
    for index, entry in enumerate(outputs):
        url = entry.get("url") if isinstance(entry, dict) else None
        if not url:
            raise InvalidInput(Problem(f"{manifest}: output[{index}].url", "missing file URL", "required"))
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https"):
            raise InvalidInput(Problem(f"{manifest}: output[{index}].url",
                                       "remote URLs are not fetched; download the files and point at the local copy",
                                       "not-supported"))
        local = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(url)
        files.append((entry.get("type"), local if local.is_absolute() else manifest.parent / local))
    return files


def ndjson_files(source: Path) -> list[tuple[str | None, Path]]:
    """The NDJSON files of an export as ``(resource type or None, path)``, sorted by path.

    ``source`` is an NDJSON file, a folder (searched recursively), or an export manifest JSON.
    """
    source = Path(source)
    if source.is_dir():
        manifest = source / MANIFEST_NAME
        if manifest.is_file():
            return _manifest_files(manifest)
        return [(None, p) for p in sorted(source.rglob("*")) if p.is_file() and _is_ndjson(p)]
    if source.suffix == ".json":
        return _manifest_files(source)
    if not source.is_file():
        raise InvalidInput(Problem(str(source), "no such file or folder", "not-found"))
    return [(None, source)]


def _open_text(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if path.name.endswith(".gz") else path.open(encoding="utf-8")


def _lines(handle, path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line; bytes that are not UTF-8 (or a broken gzip stream) raise ``InvalidInput``."""
    number = 0
    while True:
        number += 1
        try:
            line = handle.readline()
        except (UnicodeDecodeError, OSError, EOFError, zlib.error) as error:
            raise InvalidInput(Problem(f"{path}: line {number}", f"unreadable: {error}", "structure")) from None
        if not line:
            return
        yield number, line


def read_ndjson_file(path: Path, types: Iterable[str] | None = None) -> Iterator[dict]:
    """Resources of one NDJSON file, in file order; blank lines are skipped.

    A malformed line raises ``InvalidInput`` naming the file and line number.
    """
    wanted = set(types) if types is not None else None
    with _open_text(Path(path)) as handle:
        for number, line in _lines(handle, path):
            if not line.strip():
                continue
            try:
                resource = json.loads(line)
            except json.JSONDecodeError as error:
                raise InvalidInput(Problem(f"{path}: line {number}", f"malformed JSON: {error.msg}", "structure")) from None
            if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                raise InvalidInput(Problem(f"{path}: line {number}, resourceType", "each line must be one FHIR resource",
                                           "structure"))
            if wanted is None or resource["resourceType"] in wanted:
                yield resource


def read_ndjson(source: Path, types: Iterable[str] | None = None) -> Iterator[dict]:
    """Every resource of an export (file, folder or manifest), optionally only the given resource types.

    Files the manifest declares as another type are skipped without being opened.
    """
    wanted = set(types) if types is not None else None
    for declared, path in ndjson_files(source):
        if wanted is not None and declared is not None and declared not in wanted:
            continue
        yield from read_ndjson_file(path, wanted)


def dumps_line(resource: dict) -> str:
    """One resource as an NDJSON line (compact JSON, UTF-8 kept, newline-terminated)."""
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":")) + "\n"


@dataclass
class NdjsonWriter:
    """Writes resources into ``<folder>/<ResourceType>.ndjson`` files and the export manifest.

    Files are written under a temporary name and renamed on :meth:`close`, so a crashed export
    never leaves a truncated file that looks complete.
    """

    folder: Path
    request: str = "medai export"
    _handles: dict = field(default_factory=dict, init=False, repr=False)
    _counts: dict = field(default_factory=dict, init=False, repr=False)
    _errors: list = field(default_factory=list, init=False, repr=False)

    def write(self, resource: dict) -> None:
        """Append one resource to its type's file."""
        kind = resource.get("resourceType")
        if not isinstance(kind, str) or not kind:
            raise InvalidInput(Problem("resourceType", "a resource to export needs a resourceType", "required"))
        if kind not in self._handles:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._handles[kind] = (self.folder / f".{kind}.ndjson.part").open("w", encoding="utf-8")
            self._counts[kind] = 0
        self._handles[kind].write(dumps_line(resource))
        self._counts[kind] += 1

    def error(self, outcome: dict) -> None:
        """Record an OperationOutcome for a resource that could not be exported (written as ``OperationOutcome.ndjson``)."""
        self._errors.append(outcome)

    def close(self, transaction_time: datetime | None = None) -> dict:
        """Finish the files, write ``manifest.json`` and return it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for kind, handle in self._handles.items():
            handle.close()
            os.replace(self.folder / f".{kind}.ndjson.part", self.folder / f"{kind}.ndjson")
        error_files = []
        if self._errors:
            (self.folder / "OperationOutcome.ndjson").write_text("".join(dumps_line(o) for o in self._errors), encoding="utf-8")
            error_files = [{"type": "OperationOutcome", "url": "OperationOutcome.ndjson", "count": len(self._errors)}]
        when = (transaction_time or datetime.now(timezone.utc)).isoformat()
        manifest = {"transactionTime": when, "request": self.request, "requiresAccessToken": False,
                    "output": [{"type": kind, "url": f"{kind}.ndjson", "count": self._counts[kind]} for kind in sorted(self._counts)],
                    "error": error_files}
        (self.folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        self._handles.clear()
        return manifest

    def __enter__(self) -> "NdjsonWriter":
        return self

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is None:
            self.close()
        else:
            for handle in self._handles.values():
                handle.close()
