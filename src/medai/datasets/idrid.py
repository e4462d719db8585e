"""IDRiD diabetic-retinopathy grading (ISBI 2018 sub-challenge 2), fundus photos at 512 px.

Grades follow the ICDR scale 0-4; referable DR is grade 2 or higher. Only the official train
split is shared; medai's validation split is carved from it with ``split_groups``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from medai.datasets.cases import ImageCase, extracted

ARCHIVE = "idrid_grading_train_512px.zip"


def load(root: str | Path | None = None) -> list[ImageCase]:
    """Every shared IDRiD image with its grade (``label``) and macular-edema risk (``extra``)."""
    folder = extracted("idrid", ARCHIVE, root)
    cases = []
    with (folder / "labels" / "train.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            name = row["Image name"]
            if not name:
                continue
            cases.append(ImageCase(case_id=name, label=int(row["Retinopathy grade"]), group=name,
                                   path=folder / "images" / "train" / f"{name}.jpg",
                                   extra={"macular_edema_risk": int(row["Risk of macular edema"])}))
    return cases
