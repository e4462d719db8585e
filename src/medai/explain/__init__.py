"""Explanation types every prediction carries (attributions, evidence spans, saliency)."""

from medai.explain.types import EvidenceSpan, Explanation, FeatureContribution

__all__ = ["EvidenceSpan", "Explanation", "FeatureContribution"]
