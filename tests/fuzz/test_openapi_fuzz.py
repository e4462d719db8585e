"""Schemathesis over every operation of the OpenAPI, as each role: no 5xx, responses match the schema."""

import pytest

pytest.importorskip("schemathesis", reason="pip install 'medai[dev]' for API fuzzing")

from tests.fuzz.api import fuzz_openapi  # noqa: E402


def test_openapi_fuzz_finds_no_server_errors_or_schema_violations(service):
    result = fuzz_openapi(service.client.app, service.tokens, max_examples=3)
    assert result.operations >= 30 and result.cases >= result.operations
    assert not result.failures, "\n".join(result.failures)
