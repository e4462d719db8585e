"""Training-time augmentation on batches of tensors: flips, small affine moves, contrast and brightness."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def augment(batch: torch.Tensor, generator: torch.Generator, *, flip_axes: tuple[int, ...] = (-1,), rotate_deg: float = 15.0,
            scale: float = 0.1, shift: float = 0.06, intensity: float = 0.1) -> torch.Tensor:
    """A randomly transformed copy of ``batch`` (N, C, H, W) or (N, C, D, H, W), values kept in 0-1.

    ``flip_axes`` are the axes (counted from the end) that may be mirrored: left-right only for a
    chest film, every axis for a fundus photo or a CT crop.
    """
    n = batch.shape[0]
    spatial = batch.dim() - 2
    rand = lambda *shape: torch.rand(*shape, generator=generator)  # noqa: E731
    out = batch
    for axis in flip_axes:
        mask = rand(n) < 0.5
        out = torch.where(mask.view(-1, *[1] * (batch.dim() - 1)), out.flip(axis), out)
    theta = torch.zeros(n, spatial, spatial + 1)
    s = 1 + (rand(n) * 2 - 1) * scale
    if spatial == 2:
        angle = (rand(n) * 2 - 1) * math.radians(rotate_deg)
        theta[:, 0, 0], theta[:, 0, 1] = torch.cos(angle) / s, -torch.sin(angle) / s
        theta[:, 1, 0], theta[:, 1, 1] = torch.sin(angle) / s, torch.cos(angle) / s
    else:
        for i in range(spatial):
            theta[:, i, i] = 1 / s
    theta[:, :, -1] = (rand(n, spatial) * 2 - 1) * shift * 2
    grid = F.affine_grid(theta, list(out.shape), align_corners=False)
    out = F.grid_sample(out, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    contrast = 1 + (rand(n) * 2 - 1) * intensity
    brightness = (rand(n) * 2 - 1) * intensity
    shape = (-1, *[1] * (batch.dim() - 1))
    mean = out.mean(dim=tuple(range(1, out.dim())), keepdim=True)
    out = (out - mean) * contrast.view(shape) + mean + brightness.view(shape)
    return out.clamp(0, 1)
