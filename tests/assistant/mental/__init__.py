"""Tests of the mental-health support flows and distortion detector."""
