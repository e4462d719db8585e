"""Conversion of evaluation results to JSON-safe values (NaN and infinities become ``None``)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import numpy as np


def jsonable(value: Any) -> Any:
    """Recursively convert dataclasses, mappings, sequences, numpy values and paths to plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, PurePath):
        return str(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise TypeError(f"cannot convert {type(value).__name__} to JSON")


class JsonResult:
    """Mixin for result dataclasses: ``to_dict()`` gives JSON-safe values (NaN -> ``None``)."""

    def to_dict(self) -> dict[str, Any]:
        """The result as a dictionary of JSON-safe values; NaN and infinities become ``None``."""
        return jsonable(self)
