"""A deep tabular model for readmission: category embeddings + an MLP (torch), served through ONNX.

Each categorical feature gets an embedding (size ``min(16, (levels + 1) // 2)``); continuous
features are signed-log transformed, standardised on the training rows and given missing
indicators. Two hidden layers with dropout; AdamW on binary cross-entropy with early stopping
on the AUROC of held-out training patients. ``save`` writes ``weights.safetensors``,
``config.json`` and ``mlp.onnx``; :class:`MLPOnnx` scores with onnxruntime (no torch needed).
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

ONNX_FILE, WEIGHTS_FILE, CONFIG_FILE = "mlp.onnx", "weights.safetensors", "config.json"


class InputScaler:
    """Continuous columns -> signed log, standardised, NaN as 0 with an indicator per column that had NaN."""

    def fit(self, continuous: np.ndarray) -> InputScaler:
        logged = np.sign(continuous) * np.log1p(np.abs(continuous))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column gets mean 0
            self.mean_ = np.nan_to_num(np.nanmean(logged, axis=0))
            spread = np.nan_to_num(np.nanstd(logged, axis=0))
        self.scale_ = np.where(spread > 1e-9, spread, 1.0)  # a constant column stays on its own scale
        self.nan_columns_ = np.flatnonzero(np.isnan(continuous).any(axis=0))
        return self

    def transform(self, continuous: np.ndarray) -> np.ndarray:
        logged = np.sign(continuous) * np.log1p(np.abs(continuous))
        scaled = np.nan_to_num((logged - self.mean_) / self.scale_)
        return np.hstack([scaled, np.isnan(continuous[:, self.nan_columns_])]).astype(np.float32)

    def to_dict(self) -> dict:
        return {"mean": self.mean_.tolist(), "scale": self.scale_.tolist(), "nan_columns": self.nan_columns_.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> InputScaler:
        scaler = cls()
        scaler.mean_, scaler.scale_ = np.array(data["mean"]), np.array(data["scale"])
        scaler.nan_columns_ = np.array(data["nan_columns"], dtype=int)
        return scaler


def _split(X: np.ndarray, n_continuous: int) -> tuple[np.ndarray, np.ndarray]:
    return X[:, :n_continuous], X[:, n_continuous:].astype(np.int64)


def _network(cardinalities: list[int], n_inputs: int, hidden: tuple[int, ...], dropout: float):
    import torch
    from torch import nn

    class TabularNet(nn.Module):
        """Embeddings of the category codes, concatenated with the continuous inputs, through an MLP."""

        def __init__(self) -> None:
            super().__init__()
            self.embeddings = nn.ModuleList(nn.Embedding(k, min(16, (k + 1) // 2)) for k in cardinalities)
            width = n_inputs + sum(e.embedding_dim for e in self.embeddings)
            layers: list[nn.Module] = []
            for size in hidden:
                layers += [nn.Linear(width, size), nn.BatchNorm1d(size), nn.ReLU(), nn.Dropout(dropout)]
                width = size
            self.body = nn.Sequential(*layers, nn.Linear(width, 1))

        def forward(self, codes: torch.Tensor, continuous: torch.Tensor) -> torch.Tensor:
            embedded = [e(codes[:, j]) for j, e in enumerate(self.embeddings)]
            return self.body(torch.cat([continuous, *embedded], dim=1)).squeeze(1)

    return TabularNet()


class ReadmissionMLP:
    """Embedding MLP classifier (scikit-learn contract; ``X`` is :attr:`Encoded.X`, see ``features.py``)."""

    def __init__(self, hidden: tuple[int, ...] = (128, 64), dropout: float = 0.3, learning_rate: float = 1e-3,
                 weight_decay: float = 1e-4, batch_size: int = 512, max_epochs: int = 40, patience: int = 5,
                 threads: int = 1, seed: int = 0):
        self.hidden = hidden
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.threads = threads
        self.seed = seed

    def _tensors(self, X: np.ndarray):
        import torch

        continuous, codes = _split(X, self.n_continuous_)
        codes = np.clip(codes, 0, np.array(self.cardinalities_) - 1)
        return torch.from_numpy(codes), torch.from_numpy(self.scaler_.transform(continuous))

    def fit(self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, *, cardinalities: list[int],
            n_continuous: int, log: Callable[[str], None] | None = None) -> ReadmissionMLP:
        """Train on (X, y), keeping the epoch with the best AUROC on (X_val, y_val)."""
        import torch
        from sklearn.metrics import roc_auc_score

        torch.set_num_threads(self.threads)
        torch.manual_seed(self.seed)
        self.cardinalities_, self.n_continuous_ = list(cardinalities), n_continuous
        self.scaler_ = InputScaler().fit(X[:, :n_continuous])
        codes, continuous = self._tensors(X)
        target = torch.from_numpy(np.asarray(y, dtype=np.float32))
        self.network_ = _network(self.cardinalities_, continuous.shape[1], tuple(self.hidden), self.dropout)
        optimiser = torch.optim.AdamW(self.network_.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        generator = torch.Generator().manual_seed(self.seed)
        best, best_state, waited, start = -1.0, None, 0, time.perf_counter()
        for epoch in range(self.max_epochs):
            self.network_.train()
            for batch in torch.randperm(len(target), generator=generator).split(self.batch_size):
                optimiser.zero_grad()
                loss_fn(self.network_(codes[batch], continuous[batch]), target[batch]).backward()
                optimiser.step()
            auroc = roc_auc_score(y_val, self.predict_proba(X_val))
            if log:
                log(f"MLP epoch {epoch + 1}: held-out AUROC {auroc:.4f}")
            if auroc > best:
                best, waited, self.best_epoch_ = auroc, 0, epoch + 1
                best_state = {k: v.detach().clone() for k, v in self.network_.state_dict().items()}
            else:
                waited += 1
                if waited >= self.patience:
                    break
        self.network_.load_state_dict(best_state)
        self.network_.eval()
        self.validation_auroc_, self.fit_seconds_ = best, time.perf_counter() - start
        return self

    def logits(self, X: np.ndarray) -> np.ndarray:
        """Raw log-odds for each row."""
        import torch

        self.network_.eval()
        codes, continuous = self._tensors(X)
        with torch.no_grad():
            return np.concatenate([self.network_(c, x).numpy() for c, x in
                                   zip(codes.split(8192), continuous.split(8192))]).astype(float)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probability of readmission within 30 days for each row (before calibration)."""
        return 1.0 / (1.0 + np.exp(-self.logits(X)))

    def explain(self, X: np.ndarray) -> np.ndarray:
        """Per-feature contributions in log-odds: gradient x input for continuous features (baseline: the
        training mean), occlusion (code set to 'other') for categorical ones."""
        import torch

        codes, continuous = self._tensors(X)
        continuous.requires_grad_(True)
        self.network_(codes, continuous).sum().backward()
        attributions = (continuous.grad * continuous).detach().numpy()
        n = self.n_continuous_
        continuous_part = attributions[:, :n].copy()
        for k, column in enumerate(self.scaler_.nan_columns_):  # the missing indicator belongs to its column
            continuous_part[:, column] += attributions[:, n + k]
        base = self.logits(X)
        occluded = []
        for j in range(len(self.cardinalities_)):
            changed = X.copy()
            changed[:, n + j] = 0
            occluded.append(base - self.logits(changed))
        return np.hstack([continuous_part, np.stack(occluded, axis=1)])

    def config(self) -> dict:
        return {"hidden": list(self.hidden), "dropout": self.dropout, "cardinalities": self.cardinalities_,
                "n_continuous": self.n_continuous_, "scaler": self.scaler_.to_dict(), "best_epoch": self.best_epoch_}

    def save(self, directory: Path) -> None:
        """Write weights (safetensors), config and the ONNX graph into ``directory``."""
        import torch
        from safetensors.torch import save_file

        directory.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in self.network_.state_dict().items()}, str(directory / WEIGHTS_FILE))
        (directory / CONFIG_FILE).write_text(json.dumps(self.config(), indent=1))
        codes, continuous = self._tensors(np.zeros((2, self.n_continuous_ + len(self.cardinalities_))))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notices
            torch.onnx.export(self.network_, (codes, continuous), str(directory / ONNX_FILE), dynamo=False,
                              input_names=["codes", "continuous"], output_names=["logit"],
                              dynamic_axes={"codes": {0: "n"}, "continuous": {0: "n"}, "logit": {0: "n"}})

    @classmethod
    def load(cls, directory: Path, threads: int = 1) -> ReadmissionMLP:
        """Rebuild the torch model from ``save``'s files (for training-side analysis; serving uses :class:`MLPOnnx`)."""
        from safetensors.torch import load_file

        config = json.loads((directory / CONFIG_FILE).read_text())
        model = cls(hidden=tuple(config["hidden"]), dropout=config["dropout"], threads=threads)
        model.cardinalities_, model.n_continuous_ = config["cardinalities"], config["n_continuous"]
        model.scaler_, model.best_epoch_ = InputScaler.from_dict(config["scaler"]), config["best_epoch"]
        n_inputs = model.n_continuous_ + len(model.scaler_.nan_columns_)
        model.network_ = _network(model.cardinalities_, n_inputs, model.hidden, model.dropout)
        model.network_.load_state_dict(load_file(str(directory / WEIGHTS_FILE)))
        model.network_.eval()
        return model


class MLPOnnx:
    """The exported MLP on onnxruntime: the same inputs and probabilities as :class:`ReadmissionMLP`."""

    def __init__(self, onnx_path: Path, config: dict, threads: int = 1):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = threads
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.config = config
        self.scaler = InputScaler.from_dict(config["scaler"])

    @classmethod
    def from_dir(cls, directory: Path, threads: int = 1) -> MLPOnnx:
        return cls(directory / ONNX_FILE, json.loads((directory / CONFIG_FILE).read_text()), threads)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        continuous, codes = _split(X, self.config["n_continuous"])
        codes = np.clip(codes, 0, np.array(self.config["cardinalities"]) - 1)
        (logit,) = self.session.run(None, {"codes": codes, "continuous": self.scaler.transform(continuous)})
        return 1.0 / (1.0 + np.exp(-logit.astype(float)))
