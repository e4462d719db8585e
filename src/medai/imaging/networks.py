"""Networks for the imaging tasks: compact MONAI ResNets, sized for training from scratch on a CPU."""

from __future__ import annotations

from typing import Any

from medai.imaging.tasks import ImagingTask

DEFAULT_WIDTHS = (16, 32, 64, 128)


def network_config(task: ImagingTask, widths: tuple[int, ...] = DEFAULT_WIDTHS) -> dict[str, Any]:
    """The constructor arguments of the task's network (stored in the package so it can be rebuilt)."""
    small = max(task.size) <= 32
    return {"block": "basic", "layers": [1, 1, 1, 1], "block_inplanes": list(widths),
            "spatial_dims": task.spatial_dims, "n_input_channels": task.channels,
            "num_classes": len(task.classes), "conv1_t_size": 3 if small else 7,
            "conv1_t_stride": 2 if task.spatial_dims == 3 or not small else 1,
            "no_max_pool": small}


def build_network(config: dict[str, Any]):
    """A ``monai.networks.nets.ResNet`` from :func:`network_config`'s arguments."""
    from monai.networks.nets import ResNet

    return ResNet(**config)


def saliency_layer(config: dict[str, Any], size: tuple[int, ...], min_cells: int = 7) -> str:
    """The deepest residual stage whose feature map still has ``min_cells`` cells per side (for Grad-CAM).

    Deeper stages carry more semantic evidence; shallower ones keep the map fine enough to point at
    a lesion on a small input.
    """
    side = min(size) / config["conv1_t_stride"] / (1 if config["no_max_pool"] else 2)
    chosen = "layer1"
    for stage in range(2, len(config["layers"]) + 1):
        side /= 2
        if side < min_cells:
            break
        chosen = f"layer{stage}"
    return chosen
