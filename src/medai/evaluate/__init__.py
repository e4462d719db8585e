"""Evaluation toolkit for clinical prediction models.

Metrics with bootstrap confidence intervals (stratified, or by patient with ``cluster``),
calibration and recalibration, subgroup tables, operating-threshold selection, plots, and
validation reports written as ``report.json`` + ``report.html`` in one call::

    from medai.evaluate import write_report
    write_report("out/", "Sepsis model, test split", y_true, p, threshold=0.3, groups={"sex": sex})

A case is called positive when ``score >= threshold`` everywhere in this package. Bad input raises
:class:`medai.errors.InvalidInput` (a ``ValueError``) naming the argument at fault.
"""

from medai.evaluate.bootstrap import Estimate, bootstrap_ci
from medai.evaluate.calibration import (
    CalibrationFit,
    CalibrationSummary,
    IsotonicRecalibrator,
    PlattRecalibrator,
    ReliabilityCurve,
    brier_score,
    calibration_slope_intercept,
    calibration_summary,
    expected_calibration_error,
    maximum_calibration_error,
    reliability_curve,
)
from medai.evaluate.evaluation import EvaluationResult, evaluate, report_sections, write_report
from medai.evaluate.metrics import METRICS, BinaryMetrics, binary_metrics
from medai.evaluate.plots import calibration_figure, plot_pngs, pr_figure, roc_figure, save_plots
from medai.evaluate.report import Image, Section, Table, render_report
from medai.evaluate.subgroups import SubgroupRow, subgroup_table
from medai.evaluate.thresholds import (
    ThresholdCurve,
    threshold_curve,
    threshold_for_sensitivity,
    threshold_maximising,
    threshold_youden,
)

__all__ = [
    "METRICS",
    "BinaryMetrics",
    "CalibrationFit",
    "CalibrationSummary",
    "Estimate",
    "EvaluationResult",
    "Image",
    "IsotonicRecalibrator",
    "PlattRecalibrator",
    "ReliabilityCurve",
    "Section",
    "SubgroupRow",
    "Table",
    "ThresholdCurve",
    "binary_metrics",
    "bootstrap_ci",
    "brier_score",
    "calibration_figure",
    "calibration_slope_intercept",
    "calibration_summary",
    "evaluate",
    "expected_calibration_error",
    "maximum_calibration_error",
    "plot_pngs",
    "pr_figure",
    "reliability_curve",
    "render_report",
    "report_sections",
    "roc_figure",
    "save_plots",
    "subgroup_table",
    "threshold_curve",
    "threshold_for_sensitivity",
    "threshold_maximising",
    "threshold_youden",
    "write_report",
]
