"""API fuzzing with schemathesis: requests generated from ``/api/v1/openapi.json`` of a real
running server (runner, store, uvicorn), valid ones and malformed ones, with an operator token so
that the write routes are exercised too. No generated request may get a 5xx."""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from andon.up import Line
from tests.web.conftest import make_token

# per operation and mode: ~600 requests in all, a few seconds (ANDON_FUZZ_EXAMPLES=150 to dig)
EXAMPLES = int(os.environ.get("ANDON_FUZZ_EXAMPLES", "20"))


def test_no_generated_request_gets_a_server_error(line: Line) -> None:
    schema = schemathesis.openapi.from_url(line.url + "/api/v1/openapi.json")
    # the event stream never ends: it has its own tests (tests/web/test_live.py)
    schema = schema.exclude(path="/api/v1/events/stream")
    auth = {"Authorization": f"Bearer {make_token(line, 'operator')}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14, "every documented operation is fuzzed"
    strategy = st.one_of(*(op.as_strategy(generation_mode=mode) for op in operations
                           for mode in GenerationMode))
    seen: set[str] = set()

    @given(case=strategy)
    @settings(max_examples=EXAMPLES * len(operations) * 2, deadline=None,
              derandomize="ANDON_FUZZ_EXAMPLES" not in os.environ,  # a deeper dig is random
              database=None, suppress_health_check=list(HealthCheck))
    def fuzz(case: schemathesis.Case) -> None:
        response = case.call(headers=auth, timeout=10)
        seen.add(f"{case.method} {case.path}")
        case.validate_response(response, checks=[not_a_server_error])

    fuzz()
    assert len(seen) == len(operations), f"only {sorted(seen)} were tried"
