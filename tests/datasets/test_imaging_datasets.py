"""Imaging dataset loaders on the real shared files: counts from the data README, splits by group."""

from __future__ import annotations

import numpy as np
import pytest

from medai.datasets import fracatlas, idrid, lidc, medmnist
from medai.datasets.cases import split_groups

pytestmark = pytest.mark.data


def test_medmnist_sets_have_the_documented_splits(data_dir):
    retina = medmnist.load("retinamnist", data_dir)
    assert {k: len(v) for k, v in retina.items()} == {"train": 1080, "val": 120}
    assert np.bincount([c.label for c in retina["train"]]).tolist() == [486, 128, 206, 194, 66]
    assert retina["train"][0].read().is_rgb
    pneumonia = medmnist.load("pneumoniamnist", data_dir)
    assert np.bincount([c.label for c in pneumonia["val"]]).tolist() == [135, 389]
    assert pneumonia["val"][0].read().pixels.shape == (28, 28)
    with pytest.raises(ValueError, match="unknown MedMNIST set"):
        medmnist.load("chestmnist", data_dir)


def test_idrid_grades_match_the_challenge(data_dir):
    cases = idrid.load(data_dir)
    assert len(cases) == 413
    assert np.bincount([c.label for c in cases]).tolist() == [134, 20, 136, 74, 49]
    assert cases[0].read().pixels.shape == (340, 512, 3)


def test_fracatlas_labels_boxes_and_truncated_flags(data_dir):
    cases = fracatlas.load(data_dir)
    assert len(cases) == 3258
    assert sum(c.label for c in cases) == 574
    assert sum(len(c.extra["boxes"]) for c in cases) == 764
    assert sum(c.extra["truncated"] for c in cases) == 49
    assert all(c.extra["boxes"] == [] for c in cases if c.label == 0)


def test_lidc_vois_and_patient_split(data_dir):
    cases = lidc.load_vois(data_dir)
    assert len(cases) == 772  # 774 nodules, two without an image in the source
    volume = cases[0].read()
    assert volume.pixels.ndim == 3 and volume.pixels.min() < -500  # HU
    train, validation = split_groups(cases)
    assert not {c.group for c in train} & {c.group for c in validation}
    assert 0.15 < len(validation) / len(cases) < 0.25
    assert split_groups(cases) == (train, validation)  # reproducible


def test_lidc_xml_reads_find_the_large_malignant_nodule(data_dir):
    folder = lidc.dicom_series_folder(data_dir)
    marks = lidc.read_reads(next(folder.glob("*.xml")))
    assert len({m.reader for m in marks}) == 4
    nodules = lidc.consensus(marks)
    top = nodules[0]
    assert top.readers == 4 and top.malignancy_median >= 4.5
    assert len(list(folder.glob("*.dcm"))) == 133
