"""Hourly model inputs for the sepsis sequence model, and torch-free streaming inference.

Every hour becomes one feature vector built only from that hour and the hours before it:

* for each of the 34 vitals and labs and for Age, Gender and ICULOS: the forward-filled
  value, standardised with robust statistics fitted on the training split only
  (``(value - median) / IQR``, clipped to ``[-clip, clip]``); a value never measured so far
  is imputed to the training median, i.e. 0 after standardising;
* for each of the 34 vitals and labs: whether it was measured this hour (0/1);
* for each of the 34 vitals and labs: ``log1p(hours since last measured)`` capped at
  ``delta_cap`` hours and divided by ``log1p(delta_cap)`` (1 when never measured).

Unit1, Unit2 and HospAdmTime are left out on purpose: they are hospital-specific and hurt
transfer to an unseen hospital.

``sequence_inputs`` builds the features of a whole stay at once; ``StreamFeaturizer`` builds
the same features one row at a time in O(1) (the two agree bit for bit). ``GRUStream`` carries
the per-patient state (last values, last-measured hours, GRU hidden state) and turns one new
row into one probability; ``GRUStream.from_dir`` runs the exported ONNX step with onnxruntime,
so streaming inference needs neither torch nor a re-run of the stay.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medai.datasets.physionet2019 import COLUMNS
from medai.errors import InvalidInput, Problem

CLINICAL = tuple(COLUMNS[:34])
"""The 34 vitals and labs, which get a value, a measured-this-hour mask and a time-since-measured feature."""
DEMOGRAPHIC = ("Age", "Gender", "ICULOS")
"""Demographics used as values only; Unit1, Unit2 and HospAdmTime are excluded (hospital-specific)."""
USED = CLINICAL + DEMOGRAPHIC
USED_INDEX = np.array([COLUMNS.index(name) for name in USED])
N_CLINICAL = len(CLINICAL)
FEATURE_NAMES = (
    [f"{name}" for name in USED]
    + [f"{name}_measured" for name in CLINICAL]
    + [f"{name}_log_hours_since" for name in CLINICAL]
)
N_FEATURES = len(FEATURE_NAMES)

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
ONNX_FILE = "gru_step.onnx"
_LOGIT_LIMIT = math.log((1 - 1e-7) / 1e-7)
"""Raw logits are clipped to the logit of [1e-7, 1 - 1e-7] before Platt scaling (as ``PlattRecalibrator`` does)."""


@dataclass
class InputStats:
    """Robust standardisation of the used columns, fitted on the training split only."""

    center: np.ndarray
    """Training median of each used column (``USED`` order)."""
    scale: np.ndarray
    """Training IQR of each used column (falls back to the standard deviation, then 1, when 0)."""
    clip: float = 5.0
    delta_cap: float = 72.0
    """Hours-since-measured are capped here (never-measured counts as the cap)."""

    def to_dict(self) -> dict:
        return {"columns": list(USED), "center": [float(v) for v in self.center],
                "scale": [float(v) for v in self.scale], "clip": self.clip, "delta_cap": self.delta_cap}

    @classmethod
    def from_dict(cls, data: dict) -> InputStats:
        if list(data["columns"]) != list(USED):
            raise InvalidInput(Problem("input_stats.columns", f"expected the columns {list(USED)}; the model was saved "
                                       "by an incompatible version of medai"))
        return cls(np.asarray(data["center"], dtype=np.float64), np.asarray(data["scale"], dtype=np.float64),
                   float(data["clip"]), float(data["delta_cap"]))


def fit_input_stats(stays_values: Iterable[np.ndarray], clip: float = 5.0, delta_cap: float = 72.0) -> InputStats:
    """Median and IQR of every used column over all measured hours of the given (training) stays."""
    rows = np.concatenate([_check_values(v, "stay_values")[:, USED_INDEX] for v in stays_values])
    center = np.zeros(len(USED))
    scale = np.ones(len(USED))
    for j in range(len(USED)):
        column = rows[:, j][~np.isnan(rows[:, j])]
        if column.size == 0:
            continue
        q25, q50, q75 = np.percentile(column, [25, 50, 75])
        center[j] = q50
        spread = q75 - q25
        if not spread > 0:
            spread = float(np.std(column))
        scale[j] = spread if spread > 0 else 1.0
    return InputStats(center, scale, float(clip), float(delta_cap))


def _check_values(values: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(COLUMNS):
        raise InvalidInput(Problem(name, f"expected an array of hours x {len(COLUMNS)} columns in "
                                         f"physionet2019.COLUMNS order, got shape {values.shape}"))
    return values


def _standardise(filled: np.ndarray, stats: InputStats) -> np.ndarray:
    z = np.clip((filled - stats.center) / stats.scale, -stats.clip, stats.clip)
    return np.where(np.isnan(z), 0.0, z)


def _delta(hours_since: np.ndarray, stats: InputStats) -> np.ndarray:
    return np.log1p(np.minimum(hours_since, stats.delta_cap)) / math.log1p(stats.delta_cap)


def sequence_inputs(stay_values: np.ndarray, stats: InputStats) -> np.ndarray:
    """The model inputs of a stay: float32 array hours x ``N_FEATURES`` (see the module docstring).

    Row ``t`` depends only on rows ``<= t`` of ``stay_values`` (hours x 40, ``COLUMNS`` order).
    """
    values = _check_values(stay_values, "stay_values")
    x = values[:, USED_INDEX]
    hours = np.arange(len(x))
    measured = ~np.isnan(x)
    last = np.maximum.accumulate(np.where(measured, hours[:, None], -1), axis=0)
    filled = np.where(last >= 0, np.take_along_axis(x, np.maximum(last, 0), axis=0), np.nan)
    hours_since = np.where(last >= 0, (hours[:, None] - last).astype(np.float64), np.inf)
    features = np.concatenate([
        _standardise(filled, stats),
        measured[:, :N_CLINICAL].astype(np.float64),
        _delta(hours_since[:, :N_CLINICAL], stats),
    ], axis=1)
    return features.astype(np.float32)


class StreamFeaturizer:
    """The features of one stay, one hourly row at a time, in O(1) per row (same values as ``sequence_inputs``)."""

    def __init__(self, stats: InputStats):
        self.stats = stats
        self.hour = 0
        self.last_value = np.full(len(USED), np.nan)
        self.last_hour = np.full(len(USED), -1, dtype=np.int64)

    def step(self, row: np.ndarray) -> np.ndarray:
        """The float32 feature vector (``N_FEATURES``) of the next hour of the stay."""
        row = np.asarray(row, dtype=np.float64)
        if row.shape != (len(COLUMNS),):
            raise InvalidInput(Problem("row", f"expected {len(COLUMNS)} values in physionet2019.COLUMNS order, "
                                              f"got shape {row.shape}"))
        x = row[USED_INDEX]
        measured = ~np.isnan(x)
        self.last_value[measured] = x[measured]
        self.last_hour[measured] = self.hour
        seen = self.last_hour >= 0
        hours_since = np.where(seen, (self.hour - self.last_hour).astype(np.float64), np.inf)
        features = np.concatenate([
            _standardise(self.last_value, self.stats),
            measured[:N_CLINICAL].astype(np.float64),
            _delta(hours_since[:N_CLINICAL], self.stats),
        ])
        self.hour += 1
        return features.astype(np.float32)


def calibrated_probability(logit: np.ndarray | float, platt: tuple[float, float] | None) -> np.ndarray:
    """``sigmoid(intercept + coef * logit)`` with Platt ``(intercept, coef)``, or ``sigmoid(logit)`` without."""
    z = np.asarray(logit, dtype=np.float64)
    if platt is not None:
        z = platt[0] + platt[1] * np.clip(z, -_LOGIT_LIMIT, _LOGIT_LIMIT)
    return 1.0 / (1.0 + np.exp(-z))


StepFunction = Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]
"""``(x_t (1, F) float32, h_prev (layers, 1, hidden) float32) -> (logit, h_next)``."""


class GRUStream:
    """One patient's live state; ``update(row)`` consumes one new hourly row and returns its probability.

    Each update is one GRU step on the carried hidden state: O(1) in the length of the stay.
    Make one with ``SepsisGRU.stream()`` (torch) or ``GRUStream.from_dir(path)`` (onnxruntime, no torch).
    """

    def __init__(self, step: StepFunction, stats: InputStats, num_layers: int, hidden_size: int,
                 platt: tuple[float, float] | None = None):
        self._step = step
        self.platt = platt
        self.featurizer = StreamFeaturizer(stats)
        self.hidden = np.zeros((num_layers, 1, hidden_size), dtype=np.float32)

    @property
    def hours_seen(self) -> int:
        return self.featurizer.hour

    def update(self, row: np.ndarray) -> float:
        """Probability of ``SepsisLabel = 1`` at the new hour, given this row and every row before it."""
        x = self.featurizer.step(row)[None, :]
        logit, self.hidden = self._step(x, self.hidden)
        return float(calibrated_probability(logit, self.platt))

    def peek(self, row: np.ndarray) -> float:
        """The probability if ``row`` were the next hour, without advancing the stream."""
        saved = (self.featurizer.hour, self.featurizer.last_value.copy(), self.featurizer.last_hour.copy(), self.hidden)
        try:
            return self.update(row)
        finally:
            self.featurizer.hour, self.featurizer.last_value, self.featurizer.last_hour, self.hidden = saved

    def fresh(self) -> GRUStream:
        """A new stream (empty state) sharing this one's step function, statistics and calibration."""
        clone = GRUStream.__new__(GRUStream)
        clone._step, clone.platt, clone.featurizer = self._step, self.platt, StreamFeaturizer(self.featurizer.stats)
        clone.hidden = np.zeros_like(self.hidden)
        return clone

    @classmethod
    def from_dir(cls, path: str | Path, backend: str = "auto", threads: int = 1) -> GRUStream:
        """A stream for a saved model: onnxruntime when ``gru_step.onnx`` is there (``backend='auto'``), else torch."""
        path = Path(path)
        config = read_config(path)
        onnx_path = path / ONNX_FILE
        if backend == "onnx" or (backend == "auto" and onnx_path.exists()):
            if not onnx_path.exists():
                raise InvalidInput(Problem(str(onnx_path), "no ONNX step in this model directory; "
                                                           "save the model with export_onnx=True"))
            step = onnx_step(onnx_path, threads)
            return cls(step, InputStats.from_dict(config["input_stats"]), config["params"]["num_layers"],
                       config["params"]["hidden_size"], _platt(config))
        if backend not in ("auto", "torch"):
            raise InvalidInput(Problem("backend", f"unknown backend {backend!r}; use 'auto', 'onnx' or 'torch'"))
        from medai.risk.sepsis.gru import SepsisGRU

        return SepsisGRU.load(path).stream()


def onnx_step(onnx_path: str | Path, threads: int = 1) -> StepFunction:
    """The exported single GRU step, run by onnxruntime on ``threads`` threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])

    def step(x: np.ndarray, h: np.ndarray) -> tuple[float, np.ndarray]:
        logit, h_next = session.run(None, {"x_t": x, "h_prev": h})
        return float(logit.reshape(-1)[0]), h_next

    return step


def read_config(path: str | Path) -> dict:
    """The hyperparameters, normalisation stats and calibration saved next to the weights."""
    file = Path(path) / CONFIG_FILE
    if not file.exists():
        raise InvalidInput(Problem(str(file), "not a saved SepsisGRU model directory (config.json is missing)", "not-found"))
    return json.loads(file.read_text())


def _platt(config: dict) -> tuple[float, float] | None:
    platt = config.get("platt")
    return None if platt is None else (float(platt["intercept"]), float(platt["coef"]))
