"""Batch scoring in the challenge's format: a folder or zip of PSV files in, one PSV of predictions per patient out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


from medai.datasets.physionet2019 import parse_psv, psv_sources, read_source
from medai.errors import InvalidInput, Problem
from medai.risk.sepsis.model import SepsisModel


def _score_files(model: SepsisModel, items: list[tuple[str, object]], out_dir: Path) -> tuple[list[Problem], int]:
    problems, rows = [], 0
    for name, source in items:
        try:
            stay = parse_psv(read_source(name, source), name)
        except InvalidInput as error:
            problems.extend(error.problems)
            continue
        probability = model.predict_stay(stay.values)
        label = (probability >= model.threshold).astype(int)
        lines = ["PredictedProbability|PredictedLabel"] + [f"{p:.6f}|{l}" for p, l in zip(probability, label)]
        (out_dir / Path(name).name).write_text("\n".join(lines) + "\n")
        rows += len(probability)
    return problems, rows


def predict_folder(model_loader: Callable[[], SepsisModel], source: Path, out_dir: Path, n_jobs: int = 2,
                   progress: Callable[[int], None] | None = None) -> tuple[int, int, list[Problem]]:
    """Score every PSV file; returns (files written, rows scored, problems of skipped files)."""
    from joblib import Parallel, delayed

    out_dir.mkdir(parents=True, exist_ok=True)
    items = [(name, src if not hasattr(src, "namelist") else str(source)) for name, src in psv_sources(source)]
    chunks = [items[i:i + 500] for i in range(0, len(items), 500)]

    def work(chunk):
        import zipfile

        opened = {}
        resolved = []
        for name, src in chunk:
            if isinstance(src, str) and src.endswith(".zip"):
                if src not in opened:
                    opened[src] = zipfile.ZipFile(src)
                resolved.append((name, opened[src]))
            else:
                resolved.append((name, src))
        return _score_files(_cached_model(model_loader), resolved, out_dir)

    problems: list[Problem] = []
    files = rows = 0
    for chunk_problems, chunk_rows in Parallel(n_jobs=n_jobs, return_as="generator")(delayed(work)(c) for c in chunks):
        problems.extend(chunk_problems)
        rows += chunk_rows
        files += 500
        if progress:
            progress(min(files, len(items)))
    return len(items) - len(problems), rows, problems


_MODEL_CACHE: dict[str, SepsisModel] = {}


def _cached_model(loader: Callable[[], SepsisModel]) -> SepsisModel:
    key = f"{loader.__module__}.{loader.__qualname__}"
    if key not in _MODEL_CACHE:
        _MODEL_CACHE[key] = loader()
    return _MODEL_CACHE[key]


def load_shipped_model() -> SepsisModel:
    """The installed ``sepsis-ews`` package (hash-checked)."""
    from medai.models import default_registry
    from medai.risk.sepsis.model import MODEL_NAME

    model = SepsisModel.from_package(default_registry().get(MODEL_NAME))
    model.lgbm.booster_.params["num_threads"] = 1
    model.lgbm.n_jobs = 1
    return model

