"""A global deep quantile model: one small network trained across every series of a panel.

For every series and origin ``t`` the input is the last ``window`` values on the log scale,
relative to the level at ``t`` (the mean log value of the last ``anchor`` periods: 1 for weekly
admissions, 7 for daily census so the weekday pattern does not move it), so a state with 5
admissions and the nation with 20,000 share one shape language; the level itself; and calendar
features of the origin (season phase for weekly data, day of week for daily data).

The output is ``steps x levels`` quantiles of the log change, for each step, from the level (or,
with ``period`` p, from the value p periods back at the same phase: the seasonal-naive forecast).
With ``scaled`` the changes are measured in units of the window's own volatility (of one-step changes,
or of changes over one ``period``, matching what the forecast is measured from; its log is an
input), so smooth large series get sharp intervals and noisy small ones wide.
Quantiles cannot cross (each level adds a softplus increment to the one below).

Training minimises the pinball loss over every observed target; missing targets are masked and
windows with gaps are skipped, never zero-filled (at forecast time an isolated gap in the last
window is carried forward). Auxiliary panels (other series of the same spacing) add training
windows with weight ``auxiliary_weight``. ``n_seeds`` networks are averaged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np

from medai.forecast.panel import Panel
from medai.forecast.quantiles import HUB_LEVELS, monotone

try:
    import torch
    from torch import nn
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError("medai.forecast.network needs PyTorch: pip install 'medai[forecast]'") from error

CALENDARS = ("season", "weekday", "none")
MIN_SCALE = 0.005


def calendar_features(origin_dates: Sequence[date], kind: str) -> np.ndarray:
    """Calendar features of each origin: season phase (sin, cos of the week of year) or day of week (one-hot)."""
    if kind == "season":
        phase = np.array([2 * math.pi * d.timetuple().tm_yday / 365.25 for d in origin_dates])
        return np.stack([np.sin(phase), np.cos(phase)], axis=1)
    if kind == "weekday":
        return np.eye(7)[[d.weekday() for d in origin_dates]]
    return np.zeros((len(origin_dates), 0))


class _Net(nn.Module):
    def __init__(self, n_inputs: int, hidden: int, steps: int, n_levels: int):
        super().__init__()
        self.steps, self.n_levels = steps, n_levels
        self.body = nn.Sequential(nn.Linear(n_inputs, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(),
                                  nn.Linear(hidden, steps * n_levels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raw = self.body(x).view(-1, self.steps, self.n_levels)
        increments = nn.functional.softplus(raw[..., 1:])
        return torch.cat([raw[..., :1], raw[..., :1] + increments.cumsum(-1)], dim=-1)


def _pinball(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    error = target.unsqueeze(-1) - pred
    loss = torch.maximum(levels * error, (levels - 1) * error).mean(-1)
    return (loss * mask).sum() / mask.sum().clamp(min=1)


class GlobalQuantileNet:
    """Global multi-horizon quantile MLP over log-scaled windows (see the module docstring).

    ``predict(steps)`` forecasts the periods after the fitted panel's last date for each series,
    from that series' own last report when it is at most ``max_lag`` periods old (``NaN`` otherwise).
    """

    def __init__(self, window: int = 8, steps: int = 5, levels: Sequence[float] = HUB_LEVELS, calendar: str = "season",
                 hidden: int = 64, epochs: int = 60, batch_size: int = 256, learning_rate: float = 3e-3,
                 weight_decay: float = 1e-4, n_seeds: int = 3, max_lag: int = 2, threads: int = 1, anchor: int = 1,
                 scaled: bool = False, period: int = 0, auxiliary_weight: float = 1.0):
        self.window = window
        self.steps = steps
        self.levels = levels
        self.calendar = calendar
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.n_seeds = n_seeds
        self.max_lag = max_lag
        self.threads = threads
        self.anchor = anchor
        self.scaled = scaled
        self.period = period
        self.auxiliary_weight = auxiliary_weight

    # -- features ------------------------------------------------------------------------------

    def _inputs(self, z: np.ndarray, origins: np.ndarray, panel: Panel) -> np.ndarray:
        """Rows of (relative window, level, [log scale,] calendar) for series-origin pairs ``origins`` (i, t)."""
        i, t = origins[:, 0], origins[:, 1]
        windows = z[i[:, None], t[:, None] + np.arange(-self.window + 1, 1)]
        level, scale = self._frame(z, origins)
        dates = [panel.start + timedelta(days=panel.step_days * int(k)) for k in t]
        parts = [(windows - level[:, None]) / scale[:, None], level[:, None] / 10]
        if self.scaled:
            parts.append(np.log(scale)[:, None] / 5)
        parts.append(calendar_features(dates, self.calendar))
        return np.concatenate(parts, axis=1).astype(np.float32)

    def _frame(self, z: np.ndarray, origins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each origin's level (mean of its last ``anchor`` log values) and scale (when ``scaled``, the window's
        standard deviation of log changes over one step, or over one ``period`` when set; else 1)."""
        i, t = origins[:, 0], origins[:, 1]
        level = z[i[:, None], t[:, None] + np.arange(-self.anchor + 1, 1)].mean(axis=1)
        if not self.scaled:
            return level, np.ones_like(level)
        windows = z[i[:, None], t[:, None] + np.arange(-self.window + 1, 1)]
        lag = self.period or 1
        return level, np.maximum((windows[:, lag:] - windows[:, :-lag]).std(axis=1), MIN_SCALE)

    def _base(self, z: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """What each step's change is measured from, ``(origins, steps)``: the level, or with ``period`` p the
        value one or more whole periods back at the same phase (the seasonal-naive forecast)."""
        level, _ = self._frame(z, origins)
        if not self.period:
            return np.repeat(level[:, None], self.steps, axis=1)
        s = np.arange(1, self.steps + 1)
        back = s - self.period * np.ceil(s / self.period).astype(int)
        return z[origins[:, :1], origins[:, 1:] + back[None, :]]

    def _training_set(self, panel: Panel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        z = np.log1p(panel.values)
        n, T = z.shape
        origins = np.array([(i, t) for i in range(n) for t in range(self.window - 1, T - 1)], dtype=int).reshape(-1, 2)
        if origins.size:
            full = ~np.isnan(z[origins[:, :1], origins[:, 1:] + np.arange(-self.window + 1, 1)]).any(axis=1)
            origins = origins[full]
        future = origins[:, 1:] + np.arange(1, self.steps + 1)
        inside = future < T
        _, scale = self._frame(z, origins)
        targets = (np.where(inside, z[origins[:, :1], np.minimum(future, T - 1)], np.nan) - self._base(z, origins)) / scale[:, None]
        keep = (~np.isnan(targets)).any(axis=1)
        return self._inputs(z, origins[keep], panel), np.nan_to_num(targets[keep]), (~np.isnan(targets[keep])).astype(np.float32)

    # -- estimator -----------------------------------------------------------------------------

    def fit(self, panel: Panel, auxiliary: Sequence[Panel] = ()) -> GlobalQuantileNet:
        """Train ``n_seeds`` networks on every complete window of ``panel`` and of the ``auxiliary`` panels
        (more series of the same spacing that teach epidemic shapes, e.g. national ILI since 1997)."""
        if self.calendar not in CALENDARS:
            raise ValueError(f"calendar must be one of {', '.join(CALENDARS)}, got {self.calendar!r}")
        if not 1 <= self.anchor <= self.window or not 0 <= self.period < self.window:
            raise ValueError(f"anchor must be 1 to window ({self.window}) periods and period 0 to window - 1, "
                             f"got {self.anchor} and {self.period}")
        if any(extra.step_days != panel.step_days for extra in auxiliary):
            raise ValueError("auxiliary panels must have the same spacing as the panel")
        parts = [self._training_set(p) for p in (panel, *auxiliary)]
        x, y, mask = (np.concatenate([part[k] for part in parts]) for k in range(3))
        weight = np.concatenate([np.full(len(part[0]), 1.0 if k == 0 else self.auxiliary_weight, dtype=np.float32)
                                 for k, part in enumerate(parts)])
        mask = mask * weight[:, None]
        if len(x) < 10:
            raise ValueError(f"too little history to train: {len(x)} complete windows of {self.window} periods")
        torch.set_num_threads(self.threads)
        levels = torch.tensor(self.levels, dtype=torch.float32)
        xt, yt, mt = torch.from_numpy(x), torch.from_numpy(y.astype(np.float32)), torch.from_numpy(mask)
        self.nets_ = [self._train_one(xt, yt, mt, levels, seed) for seed in range(self.n_seeds)]
        self.panel_ = panel
        return self

    def _train_one(self, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, levels: torch.Tensor, seed: int) -> _Net:
        generator = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        net = _Net(x.shape[1], self.hidden, self.steps, len(self.levels))
        optimiser = torch.optim.AdamW(net.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        n_batches = max(1, math.ceil(len(x) / self.batch_size))
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=self.learning_rate, total_steps=self.epochs * n_batches)
        net.train()
        for _ in range(self.epochs):
            order = torch.randperm(len(x), generator=generator)
            for b in range(n_batches):
                rows = order[b * self.batch_size:(b + 1) * self.batch_size]
                optimiser.zero_grad()
                _pinball(net(x[rows]), y[rows], mask[rows], levels).backward()
                optimiser.step()
                schedule.step()
        net.eval()
        return net

    def predict(self, steps: int) -> np.ndarray:
        """Quantiles ``(series, steps, levels)`` for the ``steps`` periods after the panel's last date."""
        panel = self.panel_
        z = np.log1p(panel.values)
        last = panel.last_observed()
        lag = panel.n_times - 1 - last
        usable = (last >= self.window - 1) & (lag <= self.max_lag) & (lag + steps <= self.steps)
        out = np.full((len(panel.ids), steps, len(self.levels)), np.nan)
        rows = np.flatnonzero(usable)
        if rows.size == 0:
            return out
        filled = _fill_gaps(z[rows], last[rows], self.window)
        origins = np.stack([np.arange(len(rows)), last[rows]], axis=1)
        x = torch.from_numpy(self._inputs(filled, origins, panel))
        _, scale = self._frame(filled, origins)
        base = self._base(filled, origins)
        with torch.no_grad():
            change = np.mean([net(x).numpy() for net in self.nets_], axis=0)
        for k, i in enumerate(rows):
            window = slice(lag[i], lag[i] + steps)
            out[i] = monotone(np.expm1(base[k, window, None] + scale[k] * change[k, window]))
        return out

    # -- persistence ---------------------------------------------------------------------------

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Every network's weights under ``seed<k>.<name>`` (for safetensors)."""
        return {f"seed{k}.{name}": tensor for k, net in enumerate(self.nets_) for name, tensor in net.state_dict().items()}

    def load_state_dict(self, state: dict[str, torch.Tensor], n_inputs: int) -> GlobalQuantileNet:
        """Restore networks saved by :meth:`state_dict` (the panel to forecast is set with :meth:`use_panel`)."""
        self.nets_ = []
        for k in range(self.n_seeds):
            net = _Net(n_inputs, self.hidden, self.steps, len(self.levels))
            net.load_state_dict({name.split(".", 1)[1]: t for name, t in state.items() if name.startswith(f"seed{k}.")})
            net.eval()
            self.nets_.append(net)
        return self

    @property
    def n_inputs(self) -> int:
        """Width of the input layer."""
        return self.window + 1 + int(self.scaled) + len(calendar_features([date(2000, 1, 1)], self.calendar)[0])

    def use_panel(self, panel: Panel) -> GlobalQuantileNet:
        """Forecast from ``panel`` with the trained networks (no refit)."""
        self.panel_ = panel
        return self


def _fill_gaps(z: np.ndarray, last: np.ndarray, window: int) -> np.ndarray:
    """Windows ending at each series' last report, with an isolated missing value inside carried forward."""
    out = z.copy()
    for k, t in enumerate(last):
        segment = out[k, t - window + 1:t + 1]
        for j in range(1, window):
            if np.isnan(segment[j]):
                segment[j] = segment[j - 1]
        if np.isnan(segment[0]):
            segment[0] = segment[~np.isnan(segment)][0]
    return out
