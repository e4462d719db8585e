"""Evaluation plots (ROC, precision-recall, reliability) drawn with matplotlib's Agg backend.

matplotlib is imported only when a plot is drawn, and without ``pyplot``, so drawing never changes
the caller's backend or opens a window.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from medai.evaluate._checks import as_probabilities, as_scores, is_probability
from medai.evaluate.bootstrap import Estimate
from medai.evaluate.calibration import Strategy, reliability_curve
from medai.evaluate.metrics import BinaryMetrics
from medai.evaluate.thresholds import threshold_curve

if TYPE_CHECKING:
    from matplotlib.figure import Figure

def _figure(width: float = 5.0, height: float = 4.5) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def figure_png(figure: Figure) -> bytes:
    """The figure encoded as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _legend_label(name: str, estimate: Estimate | None) -> str:
    if estimate is None:
        return "model"
    return f"{name} {estimate.format(3)}"


def roc_figure(y_true: Any, y_score: Any, auroc: Estimate | None = None, threshold: float | None = None) -> Figure:
    """ROC curve; the legend shows ``auroc`` (with its CI) and a marker shows the operating ``threshold``."""
    curve = threshold_curve(y_true, y_score)
    figure = _figure()
    axes = figure.add_subplot()
    fpr = np.r_[0.0, 1.0 - curve.specificity]
    tpr = np.r_[0.0, curve.sensitivity]
    axes.plot(fpr, tpr, lw=2, label=_legend_label("AUROC", auroc))
    axes.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="chance")
    if threshold is not None:
        point = threshold_curve(y_true, y_score, [threshold])
        axes.plot(1.0 - point.specificity, point.sensitivity, "o", color="black", label=f"threshold {threshold:g}")
    axes.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="1 - specificity", ylabel="sensitivity", title="ROC curve")
    axes.legend(loc="lower right")
    return figure


def pr_figure(y_true: Any, y_score: Any, auprc: Estimate | None = None, threshold: float | None = None) -> Figure:
    """Precision-recall curve with the prevalence as the chance line; legend and marker as in :func:`roc_figure`."""
    curve = threshold_curve(y_true, y_score)
    figure = _figure()
    axes = figure.add_subplot()
    recall, precision = np.r_[0.0, curve.sensitivity], np.r_[1.0, curve.ppv]
    axes.step(recall, precision, where="pre", lw=2, label=_legend_label("AUPRC", auprc))
    prevalence = curve.ppv[-1]  # at the lowest threshold every case is called positive
    axes.axhline(prevalence, ls="--", color="grey", lw=1, label="prevalence")
    if threshold is not None:
        point = threshold_curve(y_true, y_score, [threshold])
        axes.plot(point.sensitivity, point.ppv, "o", color="black", label=f"threshold {threshold:g}")
    axes.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="recall (sensitivity)", ylabel="precision (PPV)",
             title="Precision-recall curve")
    axes.legend(loc="lower left")
    return figure


def calibration_figure(y_true: Any, y_prob: Any, n_bins: int = 10, strategy: Strategy = "uniform") -> Figure:
    """Reliability diagram (observed rate against mean prediction per bin) above a histogram of predictions."""
    curve = reliability_curve(y_true, y_prob, n_bins, strategy)
    probs = as_probabilities(y_prob, "y_prob")
    figure = _figure(5.0, 5.5)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    filled = curve.count > 0
    top.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfect calibration")
    top.plot(
        curve.mean_predicted[filled], curve.observed_rate[filled], "o-", lw=2, label=f"model (ECE {curve.ece:.3f})"
    )
    top.set(xlim=(0, 1), ylim=(0, 1.01), ylabel="observed event rate", title="Calibration")
    top.legend(loc="upper left")
    bottom.hist(probs, bins=np.linspace(0.0, 1.0, 41), color="tab:blue", alpha=0.7)
    bottom.set(xlabel="predicted probability", ylabel="cases")
    return figure


def plot_pngs(
    y_true: Any,
    y_score: Any,
    *,
    metrics: BinaryMetrics | None = None,
    threshold: float | None = None,
    n_bins: int = 10,
) -> dict[str, bytes]:
    """PNG bytes of the ``"roc"``, ``"pr"`` and (when scores are probabilities) ``"calibration"`` plots.

    ``metrics`` puts AUROC/AUPRC with their CIs in the legends and supplies the operating threshold
    when ``threshold`` is not given.
    """
    if threshold is None and metrics is not None:
        threshold = metrics.threshold
    figures = {
        "roc": roc_figure(y_true, y_score, None if metrics is None else metrics.auroc, threshold),
        "pr": pr_figure(y_true, y_score, None if metrics is None else metrics.auprc, threshold),
    }
    if is_probability(as_scores(y_score)):
        figures["calibration"] = calibration_figure(y_true, y_score, n_bins)
    return {name: figure_png(figure) for name, figure in figures.items()}


def save_plots(
    out_dir: str | Path,
    y_true: Any,
    y_score: Any,
    *,
    metrics: BinaryMetrics | None = None,
    threshold: float | None = None,
    n_bins: int = 10,
) -> dict[str, Path]:
    """Write ``roc.png``, ``pr.png`` and (for probabilities) ``calibration.png`` into ``out_dir``.

    Returns the paths written, by plot name.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, png in plot_pngs(y_true, y_score, metrics=metrics, threshold=threshold, n_bins=n_bins).items():
        paths[name] = folder / f"{name}.png"
        paths[name].write_bytes(png)
    return paths
