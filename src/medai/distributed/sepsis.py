"""Sepsis batch scoring jobs: challenge PSV folders/zips, and FHIR Bulk Data exports (Patient + Observation).

Both score whole stays with the shipped model's ``predict_stay`` (the path ``medai sepsis predict``
takes) and write one row per patient-hour: ``patient_id, source|time, hour, probability, label``.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from medai.distributed.batch import Scorer
from medai.distributed.partitions import partition_name
from medai.distributed.staging import file_fingerprint, stage

PSV_SCHEMA = {"patient_id": "string", "source": "string", "hour": "int32", "probability": "float64", "label": "int8"}
BULK_SCHEMA = {"patient_id": "string", "time": "string", "hour": "int32", "probability": "float64", "label": "int8"}


def _model_identity() -> dict:
    from medai.models import default_registry
    from medai.risk.sepsis.model import MODEL_NAME

    return default_registry().get(MODEL_NAME).identity()


@dataclass
class SepsisPsvJob:
    """Score every PSV file of a folder or zip; ``partition_size`` files per partition."""

    source: str
    partition_size: int = 200
    kind: str = "sepsis-psv"
    fmt: str = "parquet"

    @property
    def schema(self) -> dict[str, str]:
        return PSV_SCHEMA

    def _names(self) -> list[str]:
        from medai.datasets.physionet2019 import psv_sources

        return [name for name, _ in psv_sources(Path(self.source))]

    def describe(self) -> dict:
        names = self._names()
        source = Path(self.source)
        digest = hashlib.sha256("\n".join(names).encode()).hexdigest()
        fingerprint = file_fingerprint([source]) if source.is_file() else [len(names), digest]
        return {"kind": self.kind, "source": str(source.resolve()), "input": fingerprint,
                "partition_size": self.partition_size, "model": _model_identity()}

    def plan(self, out_dir: Path) -> list[dict]:
        names = self._names()
        return [{"name": partition_name(i // self.partition_size), "items": names[i:i + self.partition_size]}
                for i in range(0, len(names), self.partition_size)]

    def scorer(self) -> Scorer:
        from medai.datasets.physionet2019 import parse_psv, read_source
        from medai.errors import InvalidInput
        from medai.risk.sepsis.predict import load_shipped_model

        model = load_shipped_model()
        source = Path(self.source)
        archive = zipfile.ZipFile(source) if source.is_file() else None

        def score(spec: dict) -> tuple[list[dict], list[dict]]:
            rows, problems = [], []
            for name in spec["items"]:
                try:
                    stay = parse_psv(read_source(name, archive or Path(name)), name)
                except InvalidInput as error:
                    problems += [problem.__dict__ for problem in error.problems]
                    continue
                probability = model.predict_stay(stay.values)
                hours = stay.column("ICULOS").astype(int)
                rows += [{"patient_id": stay.patient_id, "source": Path(name).name, "hour": int(h), "probability": float(p),
                          "label": int(p >= model.threshold)} for h, p in zip(hours, probability)]
            return rows, problems

        return score


def _patient_key(resource: dict) -> str | None:
    from medai.core.fhir.datatypes import reference_id

    if resource["resourceType"] == "Patient":
        return resource.get("id")
    return reference_id(resource.get("subject"), "Patient")


@dataclass
class SepsisBulkJob:
    """Score every patient of a FHIR Bulk Data export (Patient + Observation NDJSON), split by patient."""

    source: str
    partitions: int = 8
    kind: str = "sepsis-bulk"
    fmt: str = "parquet"

    @property
    def schema(self) -> dict[str, str]:
        return BULK_SCHEMA

    def describe(self) -> dict:
        from medai.core.fhir.ndjson import ndjson_files

        files = [path for _, path in ndjson_files(Path(self.source))]
        return {"kind": self.kind, "source": str(Path(self.source).resolve()), "input": file_fingerprint(files),
                "partitions": self.partitions, "model": _model_identity()}

    def plan(self, out_dir: Path) -> list[dict]:
        from medai.core.fhir.ndjson import dumps_line, read_ndjson

        def keyed():
            for resource in read_ndjson(Path(self.source), types=("Patient", "Observation")):
                key = _patient_key(resource)
                if key:
                    yield key, dumps_line(resource)

        describe = self.describe()
        files = stage(out_dir, keyed(), self.partitions, {"input": describe["input"], "partitions": self.partitions})
        return [{"name": path.stem, "staged": str(path)} for path in files]

    def scorer(self) -> Scorer:
        from medai.risk.sepsis.predict import load_shipped_model

        model = load_shipped_model()

        def score(spec: dict) -> tuple[list[dict], list[dict]]:
            from medai.core.fhir.ndjson import read_ndjson_file

            by_patient: dict[str, list[dict]] = {}
            for resource in read_ndjson_file(Path(spec["staged"])):
                by_patient.setdefault(_patient_key(resource), []).append(resource)
            rows, problems = [], []
            for patient_id in sorted(by_patient):
                found, issues = score_bulk_patient(model, patient_id, by_patient[patient_id])
                rows += found
                problems += issues
            return rows, problems

        return score


def score_bulk_patient(model, patient_id: str, resources: list[dict]) -> tuple[list[dict], list[dict]]:
    """One patient's hourly risks from their Patient and Observation resources (the stay starts at the first
    measurement's hour; age is taken at the last one). Observations that cannot be read become problems."""
    import numpy as np

    from medai.core.fhir import record_from_fhir
    from medai.errors import InvalidInput
    from medai.risk.sepsis.observations import hourly_rows
    from medai.risk.sepsis.patient import demographics

    patient, observations, problems = None, [], []
    for resource in resources:
        try:
            record = record_from_fhir(resource)
        except InvalidInput as error:
            problems += [{**p.__dict__, "location": f"{resource['resourceType']}/{resource.get('id')}: {p.location}"}
                         for p in error.problems]
            continue
        if resource["resourceType"] == "Patient":
            patient = record
        elif record is not None and record.effective is not None and record.value is not None:
            observations.append(record)
    if not observations:
        return [], problems
    first = min(o.effective for o in observations)
    last = max(o.effective for o in observations)
    start = first.replace(minute=0, second=0, microsecond=0)
    age, gender = demographics(patient, last) if patient is not None else (60.0, 0)
    rows = hourly_rows(observations, start, age, gender)
    if not len(rows) or np.isnan(rows[:, :34]).all():
        return [], problems
    probability = model.predict_stay(rows)
    out = [{"patient_id": patient_id, "time": (start + timedelta(hours=h)).isoformat(), "hour": h,
            "probability": float(p), "label": int(p >= model.threshold)} for h, p in enumerate(probability)]
    return out, problems



def sepsis_job(source: Path) -> SepsisPsvJob | SepsisBulkJob:
    """The job for ``source``: a Bulk Data export (manifest, NDJSON file or folder of them) or PSV files."""
    from medai.core.fhir.ndjson import MANIFEST_NAME, NDJSON_SUFFIXES

    source = Path(source)
    bulk = (source.is_dir() and ((source / MANIFEST_NAME).exists() or any(source.glob("*.ndjson*")))) or \
        source.suffix == ".json" or source.name.endswith(NDJSON_SUFFIXES)
    return SepsisBulkJob(str(source)) if bulk else SepsisPsvJob(str(source))
