"""Hypothesis fuzzing of every parser: malformed input gets the parser's clear error, never a crash or hang.

Small by default (``MEDAI_FUZZ_EXAMPLES``, 25 per target); ``benchmarks/reliability.py`` runs many more.
Crashers found are kept in ``tests/fuzz/corpus/`` and replayed by ``test_corpus_replays_cleanly``.
"""

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz.targets import Target, targets

EXAMPLES = int(os.environ.get("MEDAI_FUZZ_EXAMPLES", "25"))
CORPUS = Path(__file__).parent / "corpus"
TEXT_TARGETS = {"psv-physionet2019", "csv-forecast-census", "csv-readmission", "note-rules-deid", "note-extract"}
JSON_TARGETS = {"fhir-json-resource", "fhir-bundle-ingest"}


def check(target: Target, example) -> None:
    """Run one input; only the target's documented error may escape."""
    try:
        target.run(example)
    except target.expected as error:
        assert str(error).strip(), f"{target.name}: empty error message"


@pytest.mark.parametrize("target", targets(), ids=lambda t: t.name)
def test_parser_never_crashes(target):
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(example=target.strategy)
    def run(example):
        check(target, example)

    run()


def _corpus_cases():
    by_name = {t.name: t for t in targets()}
    for path in sorted(CORPUS.glob("*")):
        if path.name.startswith(".") or path.suffix == ".md":
            continue
        name = path.name.split("__")[0]
        yield pytest.param(by_name[name], path, id=path.name)


@pytest.mark.parametrize("target,path", list(_corpus_cases()))
def test_corpus_replays_cleanly(target, path):
    data = path.read_bytes()
    if target.name in TEXT_TARGETS:
        check(target, data.decode("utf-8", "replace"))
    elif target.name in JSON_TARGETS:
        check(target, json.loads(data))
    else:
        check(target, data)
