"""Fixtures for the model package tests: a valid card to vary and a tiny PNG plot."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from matplotlib.figure import Figure

from medai import __version__
from medai.models import ModelCard


def _card_data(**overrides: Any) -> dict[str, Any]:
    """The fields of a valid model card, with ``overrides`` applied."""
    data: dict[str, Any] = {
        "name": "toy-sepsis",
        "version": "1.0.0",
        "task": "binary classification: sepsis within 6 hours",
        "summary": "A toy logistic model used to test model packages.",
        "intended_use": "Testing the medai model package machinery.",
        "out_of_scope_use": ["Any clinical decision."],
        "training_data": [
            {"name": "toy-train", "citation": "Made up (2024).", "licence": "CC0-1.0", "n": 100},
        ],
        "evaluation_data": [
            {
                "name": "toy-test",
                "citation": "Made up (2024).",
                "licence": "CC0-1.0",
                "url": "https://example.org/toy",
                "n": 50,
            },
        ],
        "metrics": [
            {"name": "AUROC", "value": 0.912, "ci_low": 0.89, "ci_high": 0.931, "dataset": "toy-test", "split": "test"},
        ],
        "calibration": {"method": "isotonic", "ece": 0.031},
        "subgroups": [
            {
                "attribute": "sex",
                "group": "female",
                "n": 25,
                "metric": "AUROC",
                "value": 0.9,
                "ci_low": 0.85,
                "ci_high": 0.95,
            },
        ],
        "operating_point": {"threshold": 0.3, "rationale": "Sensitivity of 0.85 on validation.", "sensitivity": 0.85},
        "limitations": ["Trained on synthetic data."],
        "ethical_considerations": "None beyond those of any test fixture.",
        "authors": ["medai tests"],
        "licence": "Apache-2.0",
        "created": datetime(2024, 5, 1, tzinfo=UTC).isoformat(),
        "medai_version": __version__,
        "plots": [],
    }
    data.update(overrides)
    return data


@pytest.fixture
def card_data() -> Callable[..., dict[str, Any]]:
    """Build the fields of a valid card as a dict; keyword arguments replace fields."""
    return _card_data


@pytest.fixture
def make_card() -> Callable[..., ModelCard]:
    """Build a valid :class:`ModelCard`; keyword arguments replace fields."""
    return lambda **overrides: ModelCard.model_validate(_card_data(**overrides))


@pytest.fixture(scope="session")
def png_bytes() -> bytes:
    """A tiny PNG drawn with matplotlib."""
    figure = Figure(figsize=(1, 1), dpi=20)
    figure.add_subplot().plot([0, 1], [0, 1])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
