"""Imaging model packages: weights (safetensors for PyTorch, ONNX for fast CPU inference) and the
``imaging.json`` that rebuilds the network, plus :class:`ImagingModel`, the loaded predictor.

Probabilities come from ONNX Runtime (batched, with the same test-time flips as training-side
evaluation); Grad-CAM needs gradients, so ``explain`` rebuilds the PyTorch network from the
safetensors weights on first use.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from medai.imaging.model import ImageClassifier, grad_cam, softmax
from medai.imaging.networks import build_network, saliency_layer
from medai.imaging.tasks import ImagingTask, get_task
from medai.models import ModelPackage

CONFIG_FILE = "imaging.json"
WEIGHTS_FILE = "weights.safetensors"
ONNX_FILE = "model.onnx"


def export_files(model: ImageClassifier, threshold: float) -> dict[str, bytes]:
    """The package files of a fitted classifier: safetensors, ONNX and ``imaging.json``."""
    import torch
    from safetensors.torch import save

    task = get_task(model.task)
    network = model.network_.eval()
    state = {k: v.detach().contiguous() for k, v in network.state_dict().items()}
    example = torch.zeros((1, task.channels, *task.size), dtype=torch.float32)
    buffer = io.BytesIO()
    torch.onnx.export(network, (example,), buffer, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17, dynamo=False)
    config = {"task": task.name, "network": model.config_, "temperature": model.temperature_, "tta": model.tta,
              "threshold": threshold, "classes": list(task.classes), "positive_classes": list(task.positive_classes),
              "input_size": list(task.size), "channels": task.channels}
    return {WEIGHTS_FILE: save(state), ONNX_FILE: buffer.getvalue(),
            CONFIG_FILE: json.dumps(config, indent=2).encode()}


@dataclass
class ImagingModel:
    """A loaded imaging package: ``predict_proba`` on prepared arrays, ``explain`` for Grad-CAM."""

    package: ModelPackage
    task: ImagingTask
    config: dict[str, Any]
    backend: str = "onnx"

    @classmethod
    def load(cls, package: ModelPackage, backend: str = "onnx") -> ImagingModel:
        """Open ``package`` (already hash-checked by the registry) for prediction."""
        if backend not in ("onnx", "torch"):
            raise ValueError(f"backend must be 'onnx' or 'torch', got {backend!r}")
        config = json.loads(package.file(CONFIG_FILE).read_text())
        return cls(package=package, task=get_task(config["task"]), config=config, backend=backend)

    @property
    def threshold(self) -> float:
        """Operating threshold on the positive-finding probability."""
        return float(self.config["threshold"])

    def _session(self):
        if not hasattr(self, "_ort"):
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.log_severity_level = 3
            self._ort = ort.InferenceSession(str(self.package.file(ONNX_FILE)), options,
                                             providers=["CPUExecutionProvider"])
        return self._ort

    def network(self):
        """The PyTorch network with the package's weights (built on first use)."""
        if not hasattr(self, "_network"):
            from safetensors.torch import load_file

            network = build_network(self.config["network"])
            network.load_state_dict(load_file(str(self.package.file(WEIGHTS_FILE))))
            self._network = network.eval()
        return self._network

    def logits(self, X: np.ndarray, tta: bool | None = None, batch_size: int = 64) -> np.ndarray:
        """Class scores of prepared images ``(N, C, *size)``, averaged over test-time flips."""
        use_tta = self.config["tta"] if tta is None else tta
        axes = [None] + (list(self.task.flip_axes) if use_tta else [])
        out = []
        for i in range(0, len(X), batch_size):
            batch = np.ascontiguousarray(X[i:i + batch_size], dtype=np.float32)
            views = [self._raw_logits(batch if axis is None else np.ascontiguousarray(np.flip(batch, axis)))
                     for axis in axes]
            out.append(np.mean(views, axis=0))
        return np.concatenate(out) if out else np.zeros((0, len(self.task.classes)), dtype=np.float32)

    def _raw_logits(self, batch: np.ndarray) -> np.ndarray:
        if self.backend == "onnx":
            return self._session().run(["logits"], {"image": batch})[0]
        import torch

        with torch.inference_mode():
            return self.network()(torch.from_numpy(batch)).numpy()

    def predict_proba(self, X: np.ndarray, tta: bool | None = None) -> np.ndarray:
        """Calibrated class probabilities."""
        return softmax(self.logits(X, tta) / float(self.config["temperature"]))

    def positive_probability(self, proba: np.ndarray) -> np.ndarray:
        """Probability of the positive finding per image."""
        return proba[:, list(self.task.positive_classes)].sum(axis=1)

    def explain(self, x: np.ndarray, class_index: int | None = None) -> np.ndarray:
        """Grad-CAM map (0-1, input size) of one prepared image."""
        return grad_cam(self.network(), x, class_index, saliency_layer(self.config["network"], x.shape[1:]))
