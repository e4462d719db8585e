"""Imaging batch scoring over folders of DICOM/PNG/JPEG/NIfTI with an installed imaging package.

Rows are the columns of ``medai imaging predict``'s CSV: ``path, prediction, prob_<k>...`` (and
``prob_referable`` for DR grading), with full-precision probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from medai.distributed.batch import Scorer
from medai.distributed.partitions import partition_name
from medai.distributed.staging import file_fingerprint


@dataclass
class ImagingJob:
    """Score every image under ``sources`` with the imaging model ``model``; ``partition_size`` images per partition."""

    sources: tuple[str, ...]
    model: str
    partition_size: int = 256
    kind: str = "imaging"
    fmt: str = "parquet"

    def _task(self):
        from medai.imaging.tasks import get_task

        return get_task(self.model)

    @property
    def schema(self) -> dict[str, str]:
        task = self._task()
        columns = {"path": "string", "prediction": "int32"}
        columns.update({f"prob_{k}": "float64" for k in range(len(task.classes))})
        if not task.binary:
            columns["prob_referable"] = "float64"
        return columns

    def _paths(self) -> list[str]:
        from medai.imaging.predict import collect_inputs

        return [str(p) for p in collect_inputs(self.sources, self._task())]

    def describe(self) -> dict:
        from medai.models import default_registry

        paths = self._paths()
        return {"kind": f"{self.kind}-{self.model}", "sources": [str(Path(s).resolve()) for s in self.sources],
                "input": file_fingerprint(paths), "partition_size": self.partition_size,
                "model": default_registry().get(self.model).identity()}

    def plan(self, out_dir: Path) -> list[dict]:
        paths = self._paths()
        return [{"name": partition_name(i // self.partition_size), "items": paths[i:i + self.partition_size]}
                for i in range(0, len(paths), self.partition_size)]

    def scorer(self) -> Scorer:
        from medai.imaging.image import ImageReadError
        from medai.imaging.predict import load_model, predict_paths

        imaging = load_model(self.model)
        binary = imaging.task.binary

        def score(spec: dict) -> tuple[list[dict], list[dict]]:
            problems: list[dict] = []

            def record(path: Path, error: Exception) -> None:
                problems.append({"location": str(path), "message": error.problem if isinstance(error, ImageReadError) else str(error)})

            results = predict_paths(imaging, spec["items"], batch_size=32, on_error=record)
            rows = []
            for result in results:
                row = {"path": result.source, "prediction": result.prediction}
                row.update({f"prob_{k}": float(p) for k, p in enumerate(result.probabilities)})
                if not binary:
                    row["prob_referable"] = float(result.positive_probability)
                rows.append(row)
            return rows, problems

        return score
