"""Schemathesis against the service's own OpenAPI, authenticated as each role.

Every generated request must get a non-5xx answer whose body matches the documented schema.
Used by ``tests/fuzz/test_openapi_fuzz.py`` (a few examples per operation) and by
``benchmarks/reliability.py`` (many).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import hypothesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st


@dataclass
class ApiFuzzResult:
    """Requests sent and what went wrong, per operation."""

    operations: int = 0
    cases: int = 0
    failures: list[str] = field(default_factory=list)


def _checks():
    from schemathesis.checks import not_a_server_error, response_schema_conformance

    return [not_a_server_error, response_schema_conformance]


def fuzz_openapi(app, tokens: dict[str, str], max_examples: int = 3, seed: int = 0) -> ApiFuzzResult:
    """Generate ``max_examples`` requests per operation and send each as every role in ``tokens``."""
    import schemathesis

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    result = ApiFuzzResult()
    for entry in schema.get_all_operations():
        operation = entry.ok()
        result.operations += 1
        failures: list[str] = []

        @hypothesis.settings(max_examples=max_examples, deadline=None, database=None, derandomize=True,
                             phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @hypothesis.given(case=operation.as_strategy(), role=st.sampled_from(sorted(tokens)))
        def run(case, role):
            result.cases += 1
            try:
                response = case.call(headers={"Authorization": f"Bearer {tokens[role]}"}, allow_redirects=False, timeout=120)
            except Exception as error:  # an exception escaping the app is a crash
                failures.append(f"{case.method} {case.formatted_path} as {role}: crashed with {type(error).__name__}: {error}"[:300])
                return
            try:
                case.validate_response(response, checks=_checks())
            except Exception as error:  # schemathesis raises a FailureGroup with the reasons
                reason = " | ".join(line for line in str(error).splitlines() if line.strip())[:300]
                failures.append(f"{case.method} {case.formatted_path} as {role} -> {response.status_code}: {reason}")

        run()
        result.failures.extend(dict.fromkeys(failures))  # one line per distinct failure
    return result

