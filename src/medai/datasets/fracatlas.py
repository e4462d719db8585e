"""FracAtlas musculoskeletal radiographs: fractured or not, with fracture boxes (long side <= 512 px).

FracAtlas has no patient ids, so every image is its own split group. 49 shared JPEGs are
truncated in the source release; they load with Pillow's truncated-image mode and are flagged
in ``extra["truncated"]``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from medai.datasets.cases import ImageCase, extracted

ARCHIVE = "fracatlas_shared_512px.zip"
REGIONS = ("hand", "leg", "hip", "shoulder")


def load(root: str | Path | None = None) -> list[ImageCase]:
    """Every shared image with ``label`` 1 = fractured, its body region and boxes ``[x, y, w, h]``."""
    folder = extracted("fracatlas", ARCHIVE, root)
    boxes: dict[str, list[list[float]]] = {}
    coco = json.loads((folder / "Annotations" / "COCO JSON" / "COCO_fracture_masks_shared.json").read_text())
    names = {image["id"]: image["file_name"] for image in coco["images"]}
    for annotation in coco["annotations"]:
        boxes.setdefault(names[annotation["image_id"]], []).append([float(v) for v in annotation["bbox"]])
    with (folder / "image_sizes_shared.csv").open(newline="") as handle:
        sizes = {row["image_id"]: row for row in csv.DictReader(handle)}
    cases = []
    with (folder / "dataset_shared.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            name = row["image_id"]
            size = sizes[name]
            region = next((r for r in REGIONS if row[r] == "1"), "unrecorded")
            cases.append(ImageCase(
                case_id=name, label=int(size["folder"] == "Fractured"), group=name,
                path=folder / "images" / size["folder"] / name,
                extra={"region": region, "boxes": boxes.get(name, []), "hardware": row["hardware"] == "1",
                       "truncated": size.get("truncated_in_source") == "1"}))
    return cases
