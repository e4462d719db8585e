"""Tests of the crisis safety layer."""
