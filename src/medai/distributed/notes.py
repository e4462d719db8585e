"""Notes batch jobs: de-identification or condition extraction over text folders or Bulk NDJSON DocumentReferences.

Each row is what the single-process CLI writes for one note: for ``deid`` the redacted ``text``
and the ``phi`` spans (``medai notes deid``), for ``extract`` the ``entities``
(``medai notes extract``), plus ``source`` (file path or ``DocumentReference/<id>``) and
``patient_id``. Output is NDJSON (nested spans). The surrogate key never enters ``_job.json``;
only its SHA-256 does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from medai.distributed.batch import Scorer
from medai.distributed.partitions import partition_name
from medai.distributed.staging import file_fingerprint

TASKS = ("deid", "extract")


def _is_bulk(source: Path) -> bool:
    from medai.core.fhir.ndjson import MANIFEST_NAME, NDJSON_SUFFIXES

    return (source.is_dir() and ((source / MANIFEST_NAME).exists() or any(source.glob("*.ndjson*")))) or \
        source.suffix == ".json" or source.name.endswith(NDJSON_SUFFIXES)


@dataclass
class NotesJob:
    """De-identify (``task="deid"``) or extract conditions from (``task="extract"``) every note of ``sources``."""

    sources: tuple[str, ...]
    task: str = "extract"
    use_tagger: bool = True
    assertions: bool = True
    mode: str = "mask"
    key: str | None = None
    partition_size: int = 64
    kind: str = "notes"
    fmt: str = "ndjson"
    schema: dict | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")

    def _files(self) -> list[str]:
        files: list[str] = []
        for source in map(Path, self.sources):
            if _is_bulk(source):
                files.append(str(source))
            elif source.is_dir():
                files += [str(p) for p in sorted(source.rglob("*.txt")) if p.is_file()]
            else:
                files.append(str(source))
        return files

    def describe(self) -> dict:
        options = {"task": self.task, "use_tagger": self.use_tagger, "assertions": self.assertions, "mode": self.mode,
                   "key_sha256": hashlib.sha256(self.key.encode()).hexdigest() if self.key else None}
        files = [Path(f) for f in self._files()]
        return {"kind": f"{self.kind}-{self.task}", "sources": [str(Path(s).resolve()) for s in self.sources],
                "input": file_fingerprint(files), "partition_size": self.partition_size, "options": options}

    def _items(self) -> list[list]:
        """``["file", path]`` per text file and ``["bulk", ndjson file, line number]`` per DocumentReference."""
        from medai.core.fhir.ndjson import ndjson_files

        items: list[list] = []
        for name in self._files():
            if not _is_bulk(Path(name)):
                items.append(["file", name])
                continue
            for declared, path in ndjson_files(Path(name)):
                if declared not in (None, "DocumentReference"):
                    continue
                with path.open(encoding="utf-8") as handle:
                    items += [["bulk", str(path), number] for number, line in enumerate(handle, start=1)
                              if '"DocumentReference"' in line]
        return items

    def plan(self, out_dir: Path) -> list[dict]:
        items = self._items()
        return [{"name": partition_name(i // self.partition_size), "items": items[i:i + self.partition_size]}
                for i in range(0, len(items), self.partition_size)]

    def _notes(self, items: list[list]) -> tuple[list[tuple[str, str | None, str]], list[dict]]:
        """``(source, patient id, text)`` per readable note, and problems for the others."""
        import json

        from medai.core.fhir import record_from_fhir
        from medai.errors import InvalidInput

        notes, problems, cache = [], [], {}
        for item in items:
            if item[0] == "file":
                try:
                    notes.append((item[1], None, Path(item[1]).read_text(encoding="utf-8")))
                except (OSError, UnicodeDecodeError) as error:
                    problems.append({"location": item[1], "message": f"cannot read as UTF-8 text ({error})"})
                continue
            _, path, number = item
            if path not in cache:
                cache[path] = Path(path).read_text(encoding="utf-8").splitlines()
            resource = json.loads(cache[path][number - 1])
            where = f"DocumentReference/{resource.get('id')}"
            try:
                record = record_from_fhir(resource)
            except InvalidInput as error:
                problems += [{"location": f"{where}: {p.location}", "message": p.message} for p in error.problems]
                continue
            if record.text is None:
                problems.append({"location": f"{where}: content.attachment.data", "message": "no inline note text"})
                continue
            notes.append((where, record.patient_id, record.text))
        return notes, problems

    def scorer(self) -> Scorer:
        if self.task == "deid":
            from medai.privacy.text import Deidentifier

            deidentifier = Deidentifier(mode=self.mode, key=self.key, use_tagger=self.use_tagger)

            def process(notes):
                out = []
                for source, patient, text in notes:
                    result = deidentifier.deidentify(text, patient or Path(source).stem)
                    out.append({"source": source, "patient_id": patient, "text": result.text,
                                "phi": [r.to_dict() for r in result.replacements]})
                return out
        else:
            from medai.notes.extract import ConditionExtractor

            extractor = ConditionExtractor(use_tagger=self.use_tagger, assertions=self.assertions)

            def process(notes):
                found = extractor.extract_many([text for _, _, text in notes]) if notes else []
                return [{"source": source, "patient_id": patient, "entities": [m.as_dict() for m in mentions]}
                        for (source, patient, _), mentions in zip(notes, found, strict=True)]

        def score(spec: dict) -> tuple[list[dict], list[dict]]:
            notes, problems = self._notes(spec["items"])
            return process(notes), problems

        return score
