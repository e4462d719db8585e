"""ImageClassifier: a scikit-learn-style estimator around a MONAI ResNet, trained from scratch.

``fit`` trains with augmentation, class-balanced loss and a one-cycle schedule (the last epoch's
weights are kept, so no validation data steers training); ``calibrate`` fits a temperature on
held-out data; ``predict_proba`` averages test-time flips; ``explain`` returns a Grad-CAM map.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np

from medai.imaging.networks import DEFAULT_WIDTHS, build_network, network_config, saliency_layer
from medai.imaging.tasks import get_task


def _log_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class ImageClassifier:
    """Classifier for one :class:`~medai.imaging.tasks.ImagingTask` on prepared arrays ``(N, C, *size)``."""

    def __init__(self, task: str, *, epochs: int = 30, batch_size: int = 64, learning_rate: float = 3e-3,
                 weight_decay: float = 1e-4, widths: tuple[int, ...] = DEFAULT_WIDTHS, label_smoothing: float = 0.05,
                 tta: bool = True, seed: int = 0, threads: int = 2, log: Callable[[str], None] = _log_stderr):
        self.task = task
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.widths = widths
        self.label_smoothing = label_smoothing
        self.tta = tta
        self.seed = seed
        self.threads = threads
        self.log = log

    # ------------------------------------------------------------------------------------------
    # training

    def fit(self, X: np.ndarray, y: np.ndarray, X_monitor: np.ndarray | None = None,
            y_monitor: np.ndarray | None = None) -> ImageClassifier:
        """Train on ``X`` (float 0-1) and integer labels ``y``. ``X_monitor`` only prints progress."""
        import torch

        from medai.imaging.augment import augment

        task = get_task(self.task)
        torch.manual_seed(self.seed)
        torch.set_num_threads(self.threads)
        generator = torch.Generator().manual_seed(self.seed)
        self.config_ = network_config(task, tuple(self.widths))
        self.classes_ = np.arange(len(task.classes))
        self.temperature_ = 1.0
        net = build_network(self.config_)
        counts = np.bincount(y, minlength=len(task.classes)).astype(float)
        weights = torch.tensor((counts.sum() / np.maximum(counts, 1) / len(counts)) ** 0.5, dtype=torch.float32)
        loss_fn = torch.nn.CrossEntropyLoss(weight=weights, label_smoothing=self.label_smoothing)
        optimiser = torch.optim.AdamW(net.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        steps = self.epochs * int(np.ceil(len(X) / self.batch_size))
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=self.learning_rate, total_steps=steps)
        X_t, y_t = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)), torch.from_numpy(y.astype(np.int64))
        self.history_ = []
        for epoch in range(self.epochs):
            start, total = time.time(), 0.0
            net.train()
            order = torch.randperm(len(X_t), generator=generator)
            for i in range(0, len(order), self.batch_size):
                index = order[i:i + self.batch_size]
                if len(index) < 2:
                    continue
                batch = augment(X_t[index], generator, flip_axes=task.flip_axes)
                loss = loss_fn(net(batch), y_t[index])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                schedule.step()
                total += loss.item() * len(index)
            self.network_ = net
            entry = {"epoch": epoch + 1, "loss": total / len(X_t), "seconds": time.time() - start}
            if X_monitor is not None and y_monitor is not None:
                entry["monitor_auroc"] = self._monitor(X_monitor, y_monitor)
            self.history_.append(entry)
            self.log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in entry.items()))
        net.eval()
        self.network_ = net
        return self

    def _monitor(self, X: np.ndarray, y: np.ndarray) -> float:
        from sklearn.metrics import roc_auc_score

        task = get_task(self.task)
        positive = np.isin(y, task.positive_classes).astype(int)
        if positive.min() == positive.max():
            return float("nan")
        return float(roc_auc_score(positive, self.positive_probability(self.predict_proba(X, tta=False))))

    def calibrate(self, X: np.ndarray, y: np.ndarray) -> ImageClassifier:
        """Fit the softmax temperature that minimises the log loss on held-out ``(X, y)``."""
        from scipy.optimize import minimize_scalar

        logits = self.logits(X)
        onehot = np.eye(len(self.classes_))[y]

        def nll(log_t: float) -> float:
            z = logits / np.exp(log_t)
            z = z - z.max(axis=1, keepdims=True)
            return float(-(onehot * (z - np.log(np.exp(z).sum(axis=1, keepdims=True)))).sum(axis=1).mean())

        self.temperature_ = float(np.exp(minimize_scalar(nll, bounds=(-3, 3), method="bounded").x))
        return self

    # ------------------------------------------------------------------------------------------
    # prediction

    def logits(self, X: np.ndarray, tta: bool | None = None, batch_size: int = 128) -> np.ndarray:
        """Raw class scores, averaged over test-time flips when ``tta``."""
        import torch

        use_tta = self.tta if tta is None else tta
        axes = [()] + ([(a,) for a in get_task(self.task).flip_axes] if use_tta else [])
        out = []
        with torch.inference_mode():
            for i in range(0, len(X), batch_size):
                batch = torch.from_numpy(np.ascontiguousarray(X[i:i + batch_size], dtype=np.float32))
                views = [self.network_(batch.flip(axis) if axis else batch) for axis in axes]
                out.append(torch.stack(views).mean(0).numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.classes_)), dtype=np.float32)

    def predict_proba(self, X: np.ndarray, tta: bool | None = None) -> np.ndarray:
        """Calibrated class probabilities ``(N, n_classes)``."""
        return softmax(self.logits(X, tta) / self.temperature_)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class index per image."""
        return self.predict_proba(X).argmax(axis=1)

    def positive_probability(self, proba: np.ndarray) -> np.ndarray:
        """Probability of the task's positive finding (e.g. referable DR = grades 2-4)."""
        return proba[:, list(get_task(self.task).positive_classes)].sum(axis=1)

    def explain(self, x: np.ndarray, class_index: int | None = None) -> np.ndarray:
        """Grad-CAM of one prepared image for ``class_index`` (default: the predicted class), 0-1, input size."""
        return grad_cam(self.network_, x, class_index, saliency_layer(self.config_, x.shape[1:]))


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def grad_cam(network, x: np.ndarray, class_index: int | None, layer: str) -> np.ndarray:
    """MONAI Grad-CAM of ``class_index`` at residual stage ``layer``, upsampled to the input, scaled to 0-1."""
    import torch
    from monai.visualize import GradCAM

    network.eval()
    tensor = torch.from_numpy(np.ascontiguousarray(x[None], dtype=np.float32))
    # MONAI's default post-processing maps (min, max) to (1, 0); keep the raw map and scale it here
    cam = GradCAM(nn_module=network, target_layers=layer, postprocessing=lambda m: m)
    with torch.enable_grad():
        heat = cam(tensor, class_idx=class_index)[0, 0].detach().numpy()
    heat = heat - heat.min()
    peak = heat.max()
    return (heat / peak if peak > 0 else heat).astype(np.float32)
