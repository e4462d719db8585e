"""LIDC-IDRI lung nodules: the NIfTI nodule VOIs with malignancy labels, and full DICOM series with
the readers' XML annotations.

``load_vois`` gives one :class:`ImageCase` per nodule (label 1 = malignant per the source's
``Diagnosis``), grouped by patient so a patient's nodules never straddle a split.
``read_reads`` parses an LIDC XML read message into per-reader nodule marks; ``consensus``
clusters the marks of different readers into nodules with a centre and median malignancy rating.
"""

from __future__ import annotations

import csv
import statistics
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from medai.datasets.cases import ImageCase, extracted

VOI_ARCHIVE = "lidc_vois_shared.zip"
DICOM_ARCHIVE = "LIDC-IDRI-0001.zip"
_NS = {"l": "http://www.nih.gov"}


def load_vois(root: str | Path | None = None) -> list[ImageCase]:
    """Every shared nodule VOI that has an image; ``extra`` holds mask path, diameter and ratings."""
    folder = extracted("lidc_vois", VOI_ARCHIVE, root)
    cases = []
    with (folder / "metadata_shared.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            stem = f"{row['patient_id']}_R_{row['nodule_id']}"
            image = folder / "VOIs" / "image" / f"{stem}.nii.gz"
            if not image.exists():  # two nodules of LIDC-IDRI-1002 have no image in the source
                continue
            cases.append(ImageCase(
                case_id=stem, label=int(row["Diagnosis_value"]), group=row["patient_id"], path=image,
                extra={"mask": folder / "VOIs" / "nodule_mask" / f"{stem}.nii.gz",
                       "diameter_mm": float(row["diameter_mm"]),
                       "malignancy_rating": int(row["Malignancy_value"]),
                       "centre_mm": (float(row["coordX"]), float(row["coordY"]), float(row["coordZ"]))}))
    return cases


def dicom_series_folder(root: str | Path | None = None) -> Path:
    """The extracted LIDC-IDRI-0001 study: the folder holding the series' slices and its XML."""
    folder = extracted("lidc_dicom", DICOM_ARCHIVE, root)
    (xml,) = folder.glob("LIDC-IDRI-0001/*/*/*.xml")
    return xml.parent


@dataclass(frozen=True)
class NoduleMark:
    """One reader's mark of a nodule: its centre (pixel column, row; z in mm) and malignancy 1-5."""

    reader: int
    nodule_id: str
    malignancy: int | None
    x: float
    y: float
    z: float
    n_points: int


def read_reads(xml_path: str | Path) -> list[NoduleMark]:
    """Nodule marks (with contours) of every reading session of an LIDC XML file."""
    root = ET.parse(xml_path).getroot()
    marks = []
    for reader, session in enumerate(root.iterfind("l:readingSession", _NS)):
        for nodule in session.iterfind("l:unblindedReadNodule", _NS):
            xs, ys, zs = [], [], []
            for roi in nodule.iterfind("l:roi", _NS):
                z = float(roi.findtext("l:imageZposition", "nan", _NS))
                for edge in roi.iterfind("l:edgeMap", _NS):
                    xs.append(float(edge.findtext("l:xCoord", "nan", _NS)))
                    ys.append(float(edge.findtext("l:yCoord", "nan", _NS)))
                    zs.append(z)
            if not xs:
                continue
            rating = nodule.findtext("l:characteristics/l:malignancy", None, _NS)
            marks.append(NoduleMark(reader=reader, nodule_id=nodule.findtext("l:noduleID", "", _NS).strip(),
                                    malignancy=int(rating) if rating else None, x=statistics.fmean(xs),
                                    y=statistics.fmean(ys), z=statistics.fmean(zs), n_points=len(xs)))
    return marks


@dataclass(frozen=True)
class ConsensusNodule:
    """Marks of several readers that lie within ``radius`` of each other, merged."""

    x: float
    y: float
    z: float
    readers: int
    malignancy_median: float | None


def consensus(marks: list[NoduleMark], radius_px: float = 15.0, radius_mm: float = 10.0) -> list[ConsensusNodule]:
    """Cluster marks across readers (greedy, by distance) into nodules, largest agreement first."""
    clusters: list[list[NoduleMark]] = []
    for mark in sorted(marks, key=lambda m: -m.n_points):
        for cluster in clusters:
            head = cluster[0]
            if (abs(head.x - mark.x) <= radius_px and abs(head.y - mark.y) <= radius_px
                    and abs(head.z - mark.z) <= radius_mm and mark.reader not in {m.reader for m in cluster}):
                cluster.append(mark)
                break
        else:
            clusters.append([mark])
    out = []
    for cluster in clusters:
        ratings = [m.malignancy for m in cluster if m.malignancy is not None]
        out.append(ConsensusNodule(x=statistics.fmean(m.x for m in cluster), y=statistics.fmean(m.y for m in cluster),
                                   z=statistics.fmean(m.z for m in cluster), readers=len(cluster),
                                   malignancy_median=statistics.median(ratings) if ratings else None))
    return sorted(out, key=lambda n: -n.readers)
