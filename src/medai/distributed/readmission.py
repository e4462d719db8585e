"""Readmission batch scoring over CSV (Diabetes 130 layout, or the UCI zip) or Parquet, split by patient.

History features come from each patient's earlier encounters in the input, so every patient's
encounters go to one partition (stable hash of ``patient_nbr``); each partition is then scored
exactly as ``medai readmission predict`` scores a file. Rows: ``encounter_id, patient_nbr, probability``.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from medai.distributed.batch import Scorer
from medai.distributed.staging import file_fingerprint, stage

SCHEMA = {"encounter_id": "int64", "patient_nbr": "int64", "probability": "float64"}


def _csv_line(cells: list) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def _rows(source: Path) -> Iterator[list[str]]:
    """The header, then every row, of a CSV, UCI zip or Parquet file (Parquet nulls as the layout's ``?``)."""
    if source.suffix == ".parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(source)
        yield parquet.schema_arrow.names
        for batch in parquet.iter_batches(batch_size=10_000):
            for row in batch.to_pylist():
                yield ["?" if value is None else str(value) for value in row.values()]
        return
    if source.suffix == ".zip":
        with zipfile.ZipFile(source) as archive:
            member = next(n for n in archive.namelist() if n.endswith("diabetic_data.csv"))
            text = io.TextIOWrapper(archive.open(member), encoding="utf-8", newline="")
            yield from csv.reader(text)
        return
    with source.open(encoding="utf-8-sig", newline="") as handle:
        yield from csv.reader(handle)


@dataclass
class ReadmissionJob:
    """Score every encounter of a CSV/zip/Parquet file into ``partitions`` patient-disjoint partitions."""

    source: str
    partitions: int = 8
    kind: str = "readmission"
    fmt: str = "parquet"

    @property
    def schema(self) -> dict[str, str]:
        return SCHEMA

    def describe(self) -> dict:
        from medai.models import default_registry
        from medai.risk.readmission.model import MODEL_NAME

        return {"kind": self.kind, "source": str(Path(self.source).resolve()), "input": file_fingerprint([Path(self.source)]),
                "partitions": self.partitions, "model": default_registry().get(MODEL_NAME).identity()}

    def plan(self, out_dir: Path) -> list[dict]:
        from medai.errors import InvalidInput, Problem

        rows = _rows(Path(self.source))
        header = [name.strip() for name in next(rows)]
        if "patient_nbr" not in header:
            raise InvalidInput(Problem("header", "missing column patient_nbr (needed to keep each patient's encounters together)"))
        column = header.index("patient_nbr")
        keyed = ((cells[column] if len(cells) > column else "", _csv_line(cells)) for cells in rows if any(cells))
        files = stage(out_dir, keyed, self.partitions, {"input": self.describe()["input"], "partitions": self.partitions},
                      suffix="csv", header=_csv_line(header))
        return [{"name": path.stem, "staged": str(path)} for path in files]

    def scorer(self) -> Scorer:
        from medai.datasets.diabetes130 import read_csv
        from medai.errors import InvalidInput
        from medai.risk.readmission.predict import load_shipped_model

        model = load_shipped_model(threads=1)

        def score(spec: dict) -> tuple[list[dict], list[dict]]:
            path = Path(spec["staged"])
            with path.open(encoding="utf-8") as handle:
                if sum(1 for line in handle if line.strip()) < 2:
                    return [], []  # no patient hashed into this partition
            try:
                table = read_csv(path)
            except InvalidInput as error:
                return [], [{**p.__dict__, "location": f"{spec['name']}: {p.location}"} for p in error.problems]
            probability, _ = model.predict_table(table)
            return [{"encounter_id": int(e), "patient_nbr": int(p), "probability": float(q)}
                    for e, p, q in zip(table["encounter_id"], table["patient_nbr"], probability)], []

        return score
