"""Tests of the assistant conversation layer."""
