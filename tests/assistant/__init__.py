"""Tests of medai.assistant."""
