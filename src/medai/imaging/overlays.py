"""Saliency pictures clinicians can read: a Grad-CAM heat map over the image (2D) or a slice
montage of the volume with its heat map (3D), as PNG bytes."""

from __future__ import annotations

import io

import numpy as np


def _png(rgb: np.ndarray) -> bytes:
    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.fromarray(np.clip(rgb * 255, 0, 255).astype(np.uint8)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _blend(gray_or_rgb: np.ndarray, heat: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    from matplotlib import colormaps

    base = gray_or_rgb if gray_or_rgb.ndim == 3 else np.repeat(gray_or_rgb[..., None], 3, axis=2)
    colour = colormaps["jet"](heat)[..., :3]
    weight = alpha * heat[..., None] ** 0.5
    return base * (1 - weight) + colour * weight


def overlay_png(x: np.ndarray, heat: np.ndarray, upscale_to: int = 384) -> bytes:
    """A 2D prepared image ``(C, H, W)`` beside its Grad-CAM overlay, as one PNG."""
    image = np.moveaxis(x, 0, -1) if x.shape[0] == 3 else x[0]
    factor = max(1, upscale_to // max(image.shape[:2]))
    if factor > 1:
        image = np.kron(image, np.ones((factor, factor, 1) if image.ndim == 3 else (factor, factor)))
        heat = np.kron(heat, np.ones((factor, factor)))
    original = image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)
    gap = np.ones((original.shape[0], 4, 3))
    return _png(np.concatenate([original, gap, _blend(image, heat)], axis=1))


def montage_png(volume: np.ndarray, heat: np.ndarray, n_slices: int = 8, upscale: int = 4) -> bytes:
    """Axial slices through the middle of a volume ``(1, Z, Y, X)``: image row over overlay row."""
    vol = volume[0]
    picks = np.linspace(vol.shape[0] * 0.2, vol.shape[0] * 0.8, n_slices).round().astype(int)
    tiles_top, tiles_bottom = [], []
    for z in picks:
        img = np.kron(vol[z], np.ones((upscale, upscale)))
        hm = np.kron(heat[z], np.ones((upscale, upscale)))
        tiles_top.append(np.repeat(img[..., None], 3, axis=2))
        tiles_bottom.append(_blend(img, hm))
        gap = np.ones((img.shape[0], 2, 3))
        tiles_top.append(gap)
        tiles_bottom.append(gap)
    top, bottom = np.concatenate(tiles_top, axis=1), np.concatenate(tiles_bottom, axis=1)
    return _png(np.concatenate([top, np.ones((2, top.shape[1], 3)), bottom], axis=0))


def saliency_png(x: np.ndarray, heat: np.ndarray) -> bytes:
    """The right picture for the input: an overlay for 2D, a montage for 3D."""
    return montage_png(x, heat) if x.ndim == 4 else overlay_png(x, heat)
