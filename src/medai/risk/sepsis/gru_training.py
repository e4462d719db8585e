"""The sepsis GRU's training loop, shared by ``SepsisGRU.fit`` (one process) and Ray Train workers.

:func:`prepare_data` turns stays into padded-batch inputs; :class:`EpochTrainer` holds the network,
its weight average, optimiser, schedule and loss, and :meth:`EpochTrainer.train_epoch` is the one
epoch step both paths run; :func:`train_loop` adds validation, early stopping and the stop rules.

A data-parallel worker passes ``shard=(rank, world)``: every worker draws the same global batches
(same seed) and trains on rows ``rank::world`` of each, with the loss divided by the global batch's
hours so that DDP's gradient average is the single-process gradient. ``reduce`` (sum over workers)
and ``agree`` (stop if any worker says so) are the hooks that keep the workers in step; their
defaults are the single-process identities.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from medai.datasets.physionet2019 import PatientStay
from medai.errors import InvalidInput, Problem
from medai.risk.sepsis.sequence import N_FEATURES, sequence_inputs

if TYPE_CHECKING:
    from medai.risk.sepsis.gru import SepsisGRU

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


@dataclass
class TrainingData:
    """Model inputs of the training stays (first ``max_hours`` hours) and of the validation stays."""

    train_x: list[np.ndarray]
    train_y: list[np.ndarray]
    val_x: list[np.ndarray]
    val_y: np.ndarray
    pos_weight: float
    n_pos: float
    n_all: float

    @property
    def lengths(self) -> np.ndarray:
        """Hours per training stay."""
        return np.array([len(y) for y in self.train_y])


def prepare_data(model: SepsisGRU, train_stays: Sequence[PatientStay],
                 validation_stays: Sequence[PatientStay]) -> TrainingData:
    """Inputs with ``model.input_stats_`` (already fitted on the training stays) and the positive-class weight."""
    cap = model.max_hours
    kept = [s for s in train_stays if len(s.values)]
    train_x = [sequence_inputs(s.values[:cap], model.input_stats_) for s in kept]
    train_y = [s.labels[:cap].astype(np.float32) for s in kept]
    val_x = [sequence_inputs(s.values, model.input_stats_) for s in validation_stays]
    val_y = np.concatenate([s.labels for s in validation_stays])
    if np.unique(val_y).size < 2:
        raise InvalidInput(Problem("validation_stays", "validation hours must include both SepsisLabel 0 and 1 "
                                                       "(early stopping uses AUROC); use a larger validation split"))
    n_pos = float(sum(y.sum() for y in train_y))
    n_all = float(sum(len(y) for y in train_y))
    if model.pos_weight == "auto":
        pos_weight = float(np.sqrt((n_all - n_pos) / max(n_pos, 1.0)))
    else:
        pos_weight = float(model.pos_weight)
    return TrainingData(train_x, train_y, val_x, val_y, pos_weight, n_pos, n_all)


class EpochTrainer:
    """The trained network, its exponential moving average (the kept network), Adam, the LR plateau schedule and the loss.

    ``wrap`` turns the trained network into what the forward pass calls (Ray's ``prepare_model``
    for DDP); the average is kept unwrapped. Without ``ema_decay`` the average is the network itself.
    """

    def __init__(self, model: SepsisGRU, pos_weight: float,
                 wrap: Callable[[nn.Module], nn.Module] | None = None):
        from medai.risk.sepsis.gru import GRUNet

        self.ema_decay = model.ema_decay
        self.module = GRUNet(N_FEATURES, model.hidden_size, model.num_layers, model.dropout)
        self.average = copy.deepcopy(self.module) if model.ema_decay else self.module
        self.net = wrap(self.module) if wrap is not None else self.module
        self.optimiser = torch.optim.Adam(self.module.parameters(), lr=model.lr, weight_decay=model.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(self.optimiser, mode="max", factor=0.5, patience=1)
        self.loss_fn = nn.BCEWithLogitsLoss(reduction="none", pos_weight=torch.tensor(pos_weight))
        self.updates = 0

    def train_epoch(self, batches: Iterable[Batch], shard: tuple[int, int] = (0, 1)) -> tuple[float, float]:
        """One pass over ``batches``: this worker's rows of each, one optimiser step and average update per batch.

        Returns (sum of per-hour losses, hours) over this worker's rows. Batches with fewer stays than
        workers are skipped by every worker (never in one process).
        """
        rank, world = shard
        self.net.train()
        total, steps = 0.0, 0.0
        for x, y, mask in batches:
            if world > 1:
                if len(x) < world:
                    continue
                denominator = mask.sum() / world  # DDP averages over workers: the sum is the global batch mean
                x, y, mask = x[rank::world], y[rank::world], mask[rank::world]
            else:
                denominator = mask.sum()
            logits, _ = self.net(x)
            loss = (self.loss_fn(logits, y) * mask).sum() / denominator
            self.optimiser.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(self.module.parameters(), 1.0)
            self.optimiser.step()
            self.updates += 1
            if self.ema_decay:
                decay = min(self.ema_decay, (1.0 + self.updates) / (10.0 + self.updates))
                with torch.no_grad():
                    for average, current in zip(self.average.parameters(), self.module.parameters(), strict=True):
                        average.lerp_(current, 1.0 - decay)
            total += loss.item() * float(denominator)
            steps += float(mask.sum())
        return total, steps


@dataclass
class LoopResult:
    """What the loop leaves: the best average network's state, its epoch and the per-epoch history."""

    best_state: dict[str, torch.Tensor]
    best_epoch: int
    history: list[dict]


def train_loop(model: SepsisGRU, data: TrainingData, trainer: EpochTrainer, rng: np.random.Generator, start: float,
               shard: tuple[int, int] = (0, 1),
               reduce: Callable[[tuple[float, float]], tuple[float, float]] = lambda sums: sums,
               agree: Callable[[bool], bool] = lambda stop: stop,
               on_epoch: Callable[[dict, bool, LoopResult], None] | None = None) -> LoopResult:
    """Epochs of :meth:`EpochTrainer.train_epoch`, each followed by validation AUROC on the average network,
    the LR schedule and early stopping (``model.patience`` epochs, ``model.max_train_seconds`` from ``start``).

    ``on_epoch(entry, last, result_so_far)`` is called after every epoch (``last`` on the final one).
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    best_auroc, best_state, best_epoch, stale = -np.inf, None, 0, 0
    history: list[dict] = []
    lengths = data.lengths
    for epoch in range(1, model.epochs + 1):
        epoch_start = time.perf_counter()
        total, steps = reduce(trainer.train_epoch(_batches(data.train_x, data.train_y, lengths, model.batch_size, rng),
                                                  shard))
        val_logits = np.concatenate(_logits(trainer.average, data.val_x))
        auroc = float(roc_auc_score(data.val_y, val_logits))
        auprc = float(average_precision_score(data.val_y, val_logits))
        trainer.scheduler.step(auroc)
        elapsed = time.perf_counter() - start
        entry = {"epoch": epoch, "train_loss": total / steps, "validation_auroc": auroc, "validation_auprc": auprc,
                 "lr": trainer.optimiser.param_groups[0]["lr"], "seconds": round(elapsed, 1)}
        history.append(entry)
        improved = auroc > best_auroc
        if improved:
            best_auroc, best_epoch, stale = auroc, epoch, 0
            best_state = copy.deepcopy(trainer.average.state_dict())
        else:
            stale += 1
        model._log(f"epoch {epoch:3d}  loss {total / steps:.4f}  val AUROC {auroc:.4f}  AUPRC {auprc:.4f}  "
                   f"{'*' if improved else ' '} {time.perf_counter() - epoch_start:.0f}s/epoch, {elapsed:.0f}s total")
        epoch_seconds = time.perf_counter() - epoch_start
        stop = False
        if stale >= model.patience:
            model._log(f"early stop: no improvement for {stale} epochs")
            stop = True
        elif model.max_train_seconds is not None and elapsed + epoch_seconds > model.max_train_seconds:
            model._log(f"stop: the next epoch would pass max_train_seconds={model.max_train_seconds:g}")
            stop = True
        stop = agree(stop)
        result = LoopResult(best_state, best_epoch, history)
        if on_epoch is not None:
            on_epoch(entry, stop or epoch == model.epochs, result)
        if stop:
            break
    return LoopResult(best_state, best_epoch, history)


def _logits(net: nn.Module, inputs: list[np.ndarray], batch_size: int = 256) -> list[np.ndarray]:
    """Raw logits per stay from precomputed inputs (length-sorted padded batches), in eval mode."""
    net.eval()
    out: list[np.ndarray | None] = [None] * len(inputs)
    order = np.argsort([len(x) for x in inputs], kind="stable")
    with torch.inference_mode():
        for begin in range(0, len(order), batch_size):
            chunk = order[begin:begin + batch_size]
            longest = max(len(inputs[i]) for i in chunk)
            if longest == 0:
                for i in chunk:
                    out[i] = np.zeros(0, dtype=np.float32)
                continue
            batch = np.zeros((len(chunk), longest, N_FEATURES), dtype=np.float32)
            for row, i in enumerate(chunk):
                batch[row, :len(inputs[i])] = inputs[i]
            logits, _ = net(torch.from_numpy(batch))
            logits = logits.numpy()
            for row, i in enumerate(chunk):
                out[i] = logits[row, :len(inputs[i])].copy()
    return out  # type: ignore[return-value]


def _batches(xs: list[np.ndarray], ys: list[np.ndarray], lengths: np.ndarray, batch_size: int,
             rng: np.random.Generator) -> Iterator[Batch]:
    """Padded batches of similar length: sort by jittered length, chunk, shuffle the chunks."""
    jitter = lengths * np.exp(rng.uniform(-0.15, 0.15, size=len(lengths)))
    order = np.argsort(jitter, kind="stable")
    chunks = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    for c in rng.permutation(len(chunks)):
        chunk = chunks[c]
        longest = int(lengths[chunk].max())
        x = np.zeros((len(chunk), longest, N_FEATURES), dtype=np.float32)
        y = np.zeros((len(chunk), longest), dtype=np.float32)
        mask = np.zeros((len(chunk), longest), dtype=np.float32)
        for row, i in enumerate(chunk):
            n = lengths[i]
            x[row, :n], y[row, :n], mask[row, :n] = xs[i], ys[i], 1.0
        yield torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(mask)
