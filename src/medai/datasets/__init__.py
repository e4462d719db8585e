"""Public datasets: one module per set (locate -> verify sha256 -> parse)."""

from medai.datasets.registry import DATASETS, Dataset, locate, verify

__all__ = ["DATASETS", "Dataset", "locate", "verify"]
