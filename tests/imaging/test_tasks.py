"""Preparing any image for a task: channels, fundus crop, letterbox, CT window and crop."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from medai.imaging.image import Image  # noqa: E402
from medai.imaging.predict import crop_around  # noqa: E402
from medai.imaging.tasks import get_task  # noqa: E402


def test_rgb_photo_becomes_one_channel_for_a_grey_task():
    rgb = Image(pixels=np.random.default_rng(0).uniform(0, 255, (60, 40, 3)).astype(np.float32), spacing=(1, 1),
                photometric="RGB")
    x = get_task("pneumonia-cxr").prepare(rgb)
    assert x.shape == (1, 28, 28) and 0 <= x.min() and x.max() <= 1


def test_letterbox_keeps_aspect_ratio_with_zero_padding():
    tall = Image(pixels=np.full((100, 50), 200.0, dtype=np.float32), spacing=(1, 1))
    tall.pixels[0, 0] = 0  # so the scaling has a range
    x = get_task("fracture").prepare(tall)
    assert x.shape == (1, 256, 256)
    assert x[0, :, :50].max() == 0 and x[0, :, -50:].max() == 0  # side bands are padding
    assert x[0, 128, 128] > 0.9


def test_fundus_black_border_is_cropped():
    pixels = np.zeros((100, 160, 3), dtype=np.float32)
    yy, xx = np.mgrid[:100, :160]
    pixels[(yy - 50) ** 2 + (xx - 80) ** 2 < 45 ** 2] = [180, 90, 40]
    x = get_task("dr-grade").prepare(Image(pixels=pixels, spacing=(1, 1), photometric="RGB"))
    assert x.shape == (3, 320, 320)
    assert x[0, 160, 5] > 0.5  # the disc now fills the width


def test_ct_volume_is_windowed_resampled_and_centred():
    hu = np.full((10, 40, 40), -1000.0, dtype=np.float32)
    hu[4:6, 18:22, 18:22] = 40.0
    x = get_task("lung-nodule-malignancy").prepare(Image(pixels=hu, spacing=(2.5, 0.7, 0.7), modality="CT"))
    assert x.shape == (1, 32, 32, 32)
    assert x.max() == pytest.approx((40 + 1000) / 1400, abs=0.05)
    assert x[0, 16, 16, 16] > 0.5 and x[0, 0, 0, 0] == 0


def test_nodule_model_refuses_a_2d_image():
    with pytest.raises(ValueError, match="needs a 3D CT volume"):
        get_task("lung-nodule-malignancy").prepare(Image(pixels=np.zeros((8, 8), np.float32), spacing=(1, 1)))


def test_crop_around_checks_the_centre_and_crops_in_millimetres():
    volume = Image(pixels=np.zeros((50, 100, 100), np.float32), spacing=(2.0, 1.0, 1.0), modality="CT")
    crop = crop_around(volume, (50, 50, 25), field_mm=20)
    assert crop.pixels.shape == (11, 21, 21)
    with pytest.raises(ValueError, match="outside the volume"):
        crop_around(volume, (50, 50, 80))


def test_unknown_task_lists_the_known_ones():
    with pytest.raises(KeyError, match="pneumonia-cxr"):
        get_task("brain-mri")
