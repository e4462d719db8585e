"""A causal GRU for hourly sepsis prediction (PhysioNet/CinC 2019), with O(1) streaming and ONNX export.

``SepsisGRU`` follows the estimator contract: ``__init__`` stores parameters, ``fit(train, validation)``
learns the input normalisation (train split only), the network (early stopping on validation
AUROC) and an optional Platt calibration (validation), and returns self. The output at hour
``t`` depends only on rows ``<= t``: the inputs are forward-filled (``sequence.sequence_inputs``)
and the GRU is unidirectional.

``SepsisGRU.stream()`` / ``GRUStream.from_dir(path)`` give per-patient streams whose
``update(row)`` is one GRU step on the carried hidden state; ``save`` writes the single step as
ONNX ``(x_t, h_prev) -> (logit, h_next)`` so streaming runs on onnxruntime without torch.

``medai sepsis train`` trains it as part of the shipped blend; to train and inspect it alone::

    python -m medai.risk.sepsis.gru --data "$MEDAI_DATA_DIR" --out gru-model
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

try:
    import torch
    from torch import nn
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError("medai.risk.sepsis.gru needs PyTorch: pip install 'medai[deep]'") from error

from medai.datasets.physionet2019 import COLUMNS, PatientStay
from medai.errors import InvalidInput, Problem
from medai.explain.types import Explanation, FeatureContribution
from medai.risk.sepsis.gru_training import EpochTrainer, LoopResult, TrainingData, prepare_data, train_loop
from medai.risk.sepsis.gru_training import _logits as network_logits
from medai.risk.sepsis.sequence import (
    CLINICAL,
    CONFIG_FILE,
    FEATURE_NAMES,
    N_FEATURES,
    ONNX_FILE,
    WEIGHTS_FILE,
    GRUStream,
    InputStats,
    calibrated_probability,
    fit_input_stats,
    read_config,
    sequence_inputs,
)

__all__ = ["GRUNet", "GRUStep", "GRUStream", "SepsisGRU", "export_onnx_step", "sequence_inputs"]

FORMAT = "medai.risk.sepsis.gru/1"


class GRUNet(nn.Module):
    """Unidirectional GRU + (dropout, in training) linear head: one logit per hour."""

    def __init__(self, n_features: int, hidden_size: int = 64, num_layers: int = 2, dropout: float = 0.0):
        super().__init__()
        self.gru = nn.GRU(n_features, hidden_size, num_layers, batch_first=True,
                          dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` (batch, hours, features) -> logits (batch, hours) and the last hidden state."""
        out, h_n = self.gru(x, h0)
        return self.head(self.drop(out)).squeeze(-1), h_n


class GRUStep(nn.Module):
    """One hour of ``GRUNet``: ``(x_t (batch, F), h_prev (layers, batch, H)) -> (logit (batch,), h_next)``."""

    def __init__(self, net: GRUNet):
        super().__init__()
        self.net = net

    def forward(self, x_t: torch.Tensor, h_prev: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out, h_next = self.net.gru(x_t.unsqueeze(1), h_prev)
        return self.net.head(out[:, 0]).squeeze(-1), h_next


class SepsisGRU:
    """Hourly sepsis risk from a stay's vitals, labs and demographics, by a causal GRU.

    ``fit(train_stays, validation_stays)`` trains on the first ``max_hours`` hours of each
    training stay, with BCE on ``SepsisLabel`` per hour (positives weighted by ``pos_weight``;
    ``"auto"`` is ``sqrt(negatives / positives)``), Adam, length-bucketed padded batches, and
    early stopping on validation hourly AUROC (``patience`` epochs, ``max_train_seconds`` wall).
    With ``ema_decay`` (0 to turn off) the network evaluated and kept is an exponential moving
    average of the trained weights (steadier validation AUROC from epoch to epoch). With
    ``calibrate`` a Platt map is fitted on the validation hours. ``threads`` caps torch's CPU
    threads during ``fit`` (restored afterwards).
    """

    def __init__(self, hidden_size: int = 64, num_layers: int = 2, dropout: float = 0.1, epochs: int = 30,
                 lr: float = 2e-3, weight_decay: float = 1e-5, batch_size: int = 64, pos_weight: float | str = "auto",
                 max_hours: int = 336, patience: int = 5, max_train_seconds: float | None = 780.0,
                 ema_decay: float = 0.998, calibrate: bool = True, clip: float = 5.0, delta_cap: float = 72.0,
                 threads: int | None = 1, seed: int = 0, verbose: bool = False):
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.pos_weight = pos_weight
        self.max_hours = max_hours
        self.patience = patience
        self.ema_decay = ema_decay
        self.max_train_seconds = max_train_seconds
        self.calibrate = calibrate
        self.clip = clip
        self.delta_cap = delta_cap
        self.threads = threads
        self.seed = seed
        self.verbose = verbose

    _PARAMS = ("hidden_size", "num_layers", "dropout", "epochs", "lr", "weight_decay", "batch_size", "pos_weight",
               "max_hours", "patience", "max_train_seconds", "ema_decay", "calibrate", "clip", "delta_cap",
               "threads", "seed", "verbose")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._PARAMS}

    def set_params(self, **params: Any) -> SepsisGRU:
        for name, value in params.items():
            if name not in self._PARAMS:
                raise InvalidInput(Problem(name, f"unknown parameter; SepsisGRU takes {', '.join(self._PARAMS)}"))
            setattr(self, name, value)
        return self

    # ----------------------------------------------------------------- fitting

    def fit(self, train_stays: Sequence[PatientStay], validation_stays: Sequence[PatientStay]) -> SepsisGRU:
        """Learn input stats (train only), the network (early stopping on validation AUROC) and calibration."""
        train_stays = _labelled(train_stays, "train_stays")
        validation_stays = _labelled(validation_stays, "validation_stays")
        start = time.perf_counter()
        with _threads(self.threads):
            torch.manual_seed(self.seed)
            rng = np.random.default_rng(self.seed)
            self.input_stats_ = fit_input_stats((s.values for s in train_stays), self.clip, self.delta_cap)
            data = prepare_data(self, train_stays, validation_stays)
            trainer = EpochTrainer(self, data.pos_weight)
            self._log_start(data, len(train_stays), len(validation_stays))
            result = train_loop(self, data, trainer, rng, start)
            self.net_ = trainer.average
            self._finish_fit(result, data, start)
        return self

    def _log_start(self, data: TrainingData, n_train: int, n_validation: int) -> None:
        self._log(f"fit: {n_train} train stays ({int(data.n_all)} hours, {data.n_pos / data.n_all:.2%} positive), "
                  f"{n_validation} validation stays; pos_weight {data.pos_weight:.2f}")

    def _finish_fit(self, result: LoopResult, data: TrainingData, start: float) -> None:
        """Keep the best epoch's network, fit the Platt map on the validation hours and record the fit's figures.

        ``self.net_`` (any ``GRUNet`` of this shape) and ``self.input_stats_`` must be set; shared with Ray Train.
        """
        from sklearn.metrics import average_precision_score, roc_auc_score

        self.pos_weight_ = data.pos_weight
        self.n_features_in_ = N_FEATURES
        self.history_ = result.history
        self.net_.load_state_dict(result.best_state)
        self.net_.eval()
        self.best_epoch_ = result.best_epoch
        val_logits = np.concatenate(self._logits(data.val_x))
        self.platt_ = None
        if self.calibrate:
            from medai.evaluate import PlattRecalibrator

            recalibrator = PlattRecalibrator().fit(calibrated_probability(val_logits, None), data.val_y)
            self.platt_ = (float(recalibrator.intercept_), float(recalibrator.coef_))
        self.validation_auroc_ = float(roc_auc_score(data.val_y, val_logits))
        self.validation_auprc_ = float(average_precision_score(data.val_y, val_logits))
        self.fit_seconds_ = time.perf_counter() - start
        self._log(f"best epoch {self.best_epoch_}: validation AUROC {self.validation_auroc_:.4f}, "
                  f"AUPRC {self.validation_auprc_:.4f}; {self.fit_seconds_:.0f}s")

    def _log(self, message: str) -> None:
        if self.verbose:
            print(message, flush=True)

    # -------------------------------------------------------------- prediction

    def _check_fitted(self) -> None:
        if not hasattr(self, "net_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this SepsisGRU is not fitted yet; call fit(train_stays, validation_stays) "
                                 "or SepsisGRU.load(path) first")

    def sequence_inputs(self, stay_values: np.ndarray) -> np.ndarray:
        """The model inputs (hours x ``N_FEATURES``) of a stay, with the fitted normalisation."""
        self._check_fitted()
        return sequence_inputs(stay_values, self.input_stats_)

    def _logits(self, inputs: list[np.ndarray], batch_size: int = 256) -> list[np.ndarray]:
        """Raw logits per stay from precomputed inputs (length-sorted padded batches)."""
        return network_logits(self.net_, inputs, batch_size)

    def decision_function(self, stay_values: np.ndarray) -> np.ndarray:
        """Raw (uncalibrated) logit per hour."""
        self._check_fitted()
        return self._logits([self.sequence_inputs(stay_values)])[0]

    def predict_proba(self, stay_values: np.ndarray) -> np.ndarray:
        """Probability of ``SepsisLabel = 1`` at each hour of the stay (Platt-calibrated when fitted with it)."""
        return calibrated_probability(self.decision_function(stay_values), self.platt_)

    def predict_proba_stays(self, stays_values: Sequence[np.ndarray], batch_size: int = 256) -> list[np.ndarray]:
        """``predict_proba`` for many stays at once (batched; same values)."""
        self._check_fitted()
        logits = self._logits([self.sequence_inputs(v) for v in stays_values], batch_size)
        return [calibrated_probability(z, self.platt_) for z in logits]

    def predict(self, stay_values: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        """1 where the hourly probability reaches ``threshold``."""
        return (self.predict_proba(stay_values) >= threshold).astype(np.int8)

    def explain(self, stay_values: np.ndarray, hour: int = -1, top: int = 8) -> Explanation:
        """Which variables drove the risk at ``hour`` (default the latest), by occlusion.

        Each contribution is the drop in log-odds when that variable is treated as never
        measured in this stay (demographics: set to the training median). Only rows up to
        ``hour`` are used, so the explanation is as causal as the prediction.
        """
        self._check_fitted()
        values = np.asarray(stay_values, dtype=np.float64)
        if values.ndim != 2 or len(values) == 0:
            raise InvalidInput(Problem("stay_values", "expected a non-empty array of hours x 40 columns"))
        hour = hour if hour >= 0 else len(values) + hour
        if not 0 <= hour < len(values):
            raise InvalidInput(Problem("hour", f"hour {hour} is outside the stay (0..{len(values) - 1})"))
        values = values[:hour + 1]
        names = list(CLINICAL) + ["Age", "Gender"]
        variants = [values]
        for name in names:
            occluded = values.copy()
            occluded[:, COLUMNS.index(name)] = np.nan
            variants.append(occluded)
        logits = self._logits([self.sequence_inputs(v) for v in variants])
        base = float(logits[0][-1])
        contributions = []
        for name, logit in zip(names, logits[1:], strict=True):
            column = values[:, COLUMNS.index(name)]
            seen = column[~np.isnan(column)]
            if seen.size == 0:
                continue
            contributions.append(FeatureContribution(feature=name, value=round(float(seen[-1]), 3),
                                                     contribution=round(base - float(logit[-1]), 4)))
        contributions.sort(key=lambda c: -abs(c.contribution))
        contributions = contributions[:top]
        probability = float(calibrated_probability(base, self.platt_))
        drivers = ", ".join(f"{c.feature} {c.value:g} ({c.contribution:+.2f})" for c in contributions[:5])
        summary = f"Sepsis risk {probability:.1%} at hour {hour}" + (f"; main drivers (log-odds): {drivers}" if drivers else "")
        caveats = ["Occlusion contributions interact: they do not add up to the risk.",
                   "Trained on PhysioNet/CinC 2019 hospital A; not validated at other hospitals."]
        return Explanation(method="occlusion (variable treated as never measured)", summary=summary,
                           contributions=contributions, caveats=caveats)

    # --------------------------------------------------------------- streaming

    def step_module(self) -> GRUStep:
        """The single-hour module ``(x_t, h_prev) -> (logit, h_next)`` (what ``save`` exports to ONNX)."""
        self._check_fitted()
        return GRUStep(self.net_).eval()

    def stream(self) -> GRUStream:
        """A new per-patient stream backed by torch; ``update(row)`` returns the probability at that hour."""
        step_module = self.step_module()

        def step(x: np.ndarray, h: np.ndarray) -> tuple[float, np.ndarray]:
            with torch.inference_mode():
                logit, h_next = step_module(torch.from_numpy(x), torch.from_numpy(h))
            return float(logit[0]), h_next.numpy()

        return GRUStream(step, self.input_stats_, self.num_layers, self.hidden_size, self.platt_)

    # ------------------------------------------------------------- persistence

    def save(self, path_dir: str | Path, export_onnx: bool = True) -> Path:
        """Write ``weights.safetensors``, ``config.json`` (params, normalisation, calibration, training log)
        and, with ``export_onnx``, ``gru_step.onnx``; returns the folder."""
        self._check_fitted()
        folder = Path(path_dir)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {name: t.detach().cpu().contiguous() for name, t in self.net_.state_dict().items()}
        weights = folder / WEIGHTS_FILE
        save_safetensors(tensors, weights, {"format": FORMAT})
        config = {
            "format": FORMAT,
            "params": self.get_params(),
            "input_stats": self.input_stats_.to_dict(),
            "feature_names": FEATURE_NAMES,
            "platt": None if self.platt_ is None else {"intercept": self.platt_[0], "coef": self.platt_[1]},
            "training": {"best_epoch": self.best_epoch_, "pos_weight": self.pos_weight_,
                         "validation_auroc": self.validation_auroc_, "validation_auprc": self.validation_auprc_,
                         "fit_seconds": round(self.fit_seconds_, 1), "history": self.history_},
            "files": {WEIGHTS_FILE: _sha256(weights)},
        }
        if export_onnx:
            export_onnx_step(self, folder / ONNX_FILE)
            config["files"][ONNX_FILE] = _sha256(folder / ONNX_FILE)
        (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2))
        return folder

    @classmethod
    def load(cls, path_dir: str | Path) -> SepsisGRU:
        """A fitted model from a folder written by ``save`` (file hashes are checked)."""
        folder = Path(path_dir)
        config = read_config(folder)
        if config.get("format") != FORMAT:
            raise InvalidInput(Problem(str(folder / CONFIG_FILE), f"format {config.get('format')!r} is not {FORMAT!r}"))
        for name, digest in config.get("files", {}).items():
            if (folder / name).exists() and _sha256(folder / name) != digest:
                raise InvalidInput(Problem(str(folder / name), "sha256 does not match config.json; the file was "
                                                               "modified or corrupted"))
        model = cls(**config["params"])
        model.input_stats_ = InputStats.from_dict(config["input_stats"])
        model.n_features_in_ = N_FEATURES
        model.net_ = GRUNet(N_FEATURES, model.hidden_size, model.num_layers, model.dropout)
        model.net_.load_state_dict(load_safetensors(folder / WEIGHTS_FILE))
        model.net_.eval()
        platt = config.get("platt")
        model.platt_ = None if platt is None else (float(platt["intercept"]), float(platt["coef"]))
        training = config.get("training", {})
        model.best_epoch_ = training.get("best_epoch")
        model.pos_weight_ = training.get("pos_weight")
        model.validation_auroc_ = training.get("validation_auroc")
        model.validation_auprc_ = training.get("validation_auprc")
        model.fit_seconds_ = training.get("fit_seconds", 0.0)
        model.history_ = training.get("history", [])
        return model


# ------------------------------------------------------------------ helpers


def _labelled(stays: Sequence[PatientStay], name: str) -> list[PatientStay]:
    stays = list(stays)
    if not stays:
        raise InvalidInput(Problem(name, "no stays given"))
    for stay in stays:
        if stay.labels is None:
            raise InvalidInput(Problem(f"{name}: {stay.patient_id}", "stay has no SepsisLabel column"))
    return stays


@contextlib.contextmanager
def _threads(threads: int | None) -> Iterator[None]:
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()



def save_safetensors(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str] | None = None) -> None:
    """Write tensors as safetensors."""
    from safetensors.torch import save_file

    save_file({k: v.detach().contiguous() for k, v in tensors.items()}, str(path), metadata=metadata)


def load_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """Read a safetensors file into torch tensors."""
    from safetensors.torch import load_file

    return load_file(str(path))


def export_onnx_step(model: SepsisGRU, path: str | Path, opset_version: int = 17) -> Path:
    """Export the single GRU step ``(x_t, h_prev) -> (logit, h_next)`` to ONNX (batch axis dynamic)."""
    import warnings

    step = model.step_module()
    x = torch.zeros(1, N_FEATURES)
    h = torch.zeros(model.num_layers, 1, model.hidden_size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(step, (x, h), str(path), dynamo=False, opset_version=opset_version,
                          input_names=["x_t", "h_prev"], output_names=["logit", "h_next"],
                          dynamic_axes={"x_t": {0: "batch"}, "h_prev": {1: "batch"},
                                        "logit": {0: "batch"}, "h_next": {1: "batch"}})
    return Path(path)


# --------------------------------------------------------------------- CLI


def streaming_latency(model_dir: Path, stays: Sequence[PatientStay], max_rows: int = 20000) -> dict[str, float]:
    """Per-row ``GRUStream.update`` latency (onnxruntime, 1 thread) over the rows of the given stays."""
    from medai.risk.sepsis.sequence import _platt, onnx_step

    config = read_config(model_dir)
    step = onnx_step(Path(model_dir) / ONNX_FILE, threads=1)
    stats = InputStats.from_dict(config["input_stats"])
    times = []
    for stay in stays:
        stream = GRUStream(step, stats, config["params"]["num_layers"], config["params"]["hidden_size"], _platt(config))
        for row in stay.values:
            begin = time.perf_counter()
            stream.update(row)
            times.append(time.perf_counter() - begin)
        if len(times) >= max_rows:
            break
    micro = np.array(times) * 1e6
    return {"rows": int(micro.size), "p50_us": float(np.percentile(micro, 50)),
            "p99_us": float(np.percentile(micro, 99)), "mean_us": float(micro.mean())}


def main(argv: Sequence[str] | None = None) -> int:
    from sklearn.metrics import average_precision_score, roc_auc_score

    from medai.risk.sepsis.task import load_cohort, split_stays

    parser = argparse.ArgumentParser(prog="python -m medai.risk.sepsis.gru", description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="data root (default $MEDAI_DATA_DIR)")
    parser.add_argument("--out", required=True, help="model folder to write")
    parser.add_argument("--predictions", default=None, help="validation predictions .npz (default <out>/../val_predictions.npz)")
    parser.add_argument("--limit", type=int, default=None, help="read only the first N stays (smoke runs)")
    for flag, kind in (("--hidden-size", int), ("--num-layers", int), ("--dropout", float), ("--epochs", int),
                       ("--lr", float), ("--weight-decay", float), ("--batch-size", int), ("--pos-weight", str),
                       ("--patience", int), ("--max-train-seconds", float), ("--ema-decay", float),
                       ("--threads", int), ("--seed", int)):
        parser.add_argument(flag, type=kind, default=None, help="default: SepsisGRU's")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    stays = load_cohort(args.data, limit=args.limit)
    train, validation = split_stays(stays)
    print(f"loaded {len(stays)} stays in {time.perf_counter() - t0:.0f}s: {len(train)} train, "
          f"{len(validation)} validation", flush=True)
    params = {name: value for name, value in vars(args).items() if name in SepsisGRU._PARAMS and value is not None}
    if params.get("pos_weight", "auto") != "auto":
        params["pos_weight"] = float(params["pos_weight"])
    model = SepsisGRU(**params, verbose=True)
    print(f"params: {model.get_params()}", flush=True)
    model.fit(train, validation)
    out = model.save(args.out)
    print(f"saved {out}", flush=True)

    with _threads(model.threads):
        probabilities = model.predict_proba_stays([s.values for s in validation])
        logits = model._logits([model.sequence_inputs(s.values) for s in validation])
    lengths = np.array([len(p) for p in probabilities])
    flat_p = np.concatenate(probabilities)
    flat_y = np.concatenate([s.labels for s in validation]).astype(np.int8)
    predictions = Path(args.predictions) if args.predictions else out.parent / "val_predictions.npz"
    np.savez_compressed(predictions, patient_ids=np.array([s.patient_id for s in validation]),
                        lengths=lengths, offsets=np.concatenate([[0], np.cumsum(lengths)]),
                        probabilities=flat_p, logits=np.concatenate(logits), labels=flat_y)
    auroc, auprc = roc_auc_score(flat_y, flat_p), average_precision_score(flat_y, flat_p)
    print(f"validation predictions -> {predictions}: AUROC {auroc:.4f}  AUPRC {auprc:.4f} "
          f"({flat_y.size} hours, {len(validation)} stays)", flush=True)

    latency = streaming_latency(out, validation)
    print(f"streaming (onnxruntime, 1 thread): p50 {latency['p50_us']:.1f} us  p99 {latency['p99_us']:.1f} us "
          f"over {latency['rows']} rows", flush=True)
    summary = {"validation_auroc": auroc, "validation_auprc": auprc, "best_epoch": model.best_epoch_,
               "fit_seconds": model.fit_seconds_, "streaming_latency": latency, "predictions": str(predictions)}
    (out / "metrics.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
