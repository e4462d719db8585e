"""Model packages (weights + card + hash-checked manifest), the model registry and model cards.

>>> from medai.models import default_registry
>>> package = default_registry().get("my-model")        # doctest: +SKIP
>>> package.identity()                                  # doctest: +SKIP
{'model_id': 'my-model', 'model_version': '1.0.0', 'weights_sha256': '...'}
"""

from medai.models.card import (
    DataSource,
    Metric,
    ModelCard,
    OperatingPoint,
    Plot,
    SubgroupResult,
    parse_card,
    render_html,
    render_markdown,
)
from medai.models.errors import ModelCardError, ModelNotFoundError, ModelPackageError, ModelPackageWarning
from medai.models.manifest import Manifest
from medai.models.package import ModelPackage, load_package, save_package
from medai.models.registry import ModelRegistry, ModelSummary, default_registry, shipped_models_dir

__all__ = [
    "DataSource",
    "Manifest",
    "Metric",
    "ModelCard",
    "ModelCardError",
    "ModelNotFoundError",
    "ModelPackage",
    "ModelPackageError",
    "ModelPackageWarning",
    "ModelRegistry",
    "ModelSummary",
    "OperatingPoint",
    "Plot",
    "SubgroupResult",
    "default_registry",
    "load_package",
    "parse_card",
    "render_html",
    "render_markdown",
    "save_package",
    "shipped_models_dir",
]
