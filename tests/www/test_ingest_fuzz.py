"""Fuzz `POST /events/ingest` from the app's published OpenAPI schema (schemathesis + hypothesis).

The schema is loaded from the app itself (`/openapi.json`, what Airflow serves at
`/patchit/openapi.json`), and schemathesis generates request bodies from the `FailureEvent`
component: valid events (positive mode) and events that violate it (negative mode: wrong types,
missing required fields, unknown keys, out-of-range values, non-objects). Every case is sent
in-process through schemathesis' ASGI transport, authenticated with a real JWT of `bob` (who
may trigger `patchit_remediation`), and the response must be neither a 5xx nor an undocumented
status code. Three runs: `positive` and `negative` (body broken) carry bob's token; in
`malformed-auth` schemathesis may break the headers instead (a malformed `Authorization` for
the published bearer scheme), and those cases are sent as generated and must be answered 401. The hand-off is the conftest's recording stub: no scheduler is involved, so the
documented 503 (hand-off failed) cannot happen here and any 5xx is a bug.

Bounded: PATCHIT_FUZZ_EXAMPLES examples for each of the first two runs (default 100) and 40%
of that for the third, with a deadline per example; each run prints how many cases it sent and
the status codes they got.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import pytest

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.core.parameters import ParameterLocation  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES_PER_MODE = int(os.environ.get("PATCHIT_FUZZ_EXAMPLES", "100"))
DEADLINE_MS = 3_000
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def ingest_operation(app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return schema["/events/ingest"]["POST"]


RUNS = {  # name: (generation mode, bob's token fixed in the strategy, examples)
    "positive": (GenerationMode.POSITIVE, True, EXAMPLES_PER_MODE),
    "negative": (GenerationMode.NEGATIVE, True, EXAMPLES_PER_MODE),
    "malformed-auth": (GenerationMode.NEGATIVE, False, max(1, EXAMPLES_PER_MODE * 2 // 5)),
}


@pytest.mark.parametrize("run", list(RUNS))
def test_fuzzed_ingest_requests_get_no_5xx_and_only_documented_codes(
    ingest_operation, headers_for, handoff, store, capsys, run
):
    mode, fixed_auth, examples = RUNS[run]
    bob = headers_for("bob")
    # A fully given header location is never negated: the body is what gets broken then.
    strategy = ingest_operation.as_strategy(generation_mode=mode, headers=bob if fixed_auth else None)
    documented = {int(code) for code in ingest_operation.definition.raw["responses"]}
    statuses: Counter[int] = Counter()
    bad_auth: Counter[int] = Counter()

    @settings(
        max_examples=examples,
        deadline=DEADLINE_MS,
        database=None,  # no .hypothesis/ directory in the work tree; failures print their reproducer
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        print_blob=True,
    )
    @given(case=strategy)
    def fuzz(case):
        header_info = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
        malformed_auth = header_info is not None and header_info.mode.is_negative
        response = case.call_and_validate(headers=None if malformed_auth else bob, checks=CHECKS)
        (bad_auth if malformed_auth else statuses)[response.status_code] += 1
        assert response.status_code < 500, response.text
        assert response.status_code in documented, (response.status_code, response.text)
        if malformed_auth:
            assert response.status_code == 401, (case.headers, response.status_code, response.text)

    started = time.monotonic()
    fuzz()
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\n[ingest fuzz, {run}] {sum(statuses.values()) + sum(bad_auth.values())} cases in "
            f"{elapsed:.1f}s; with bob's JWT: {dict(sorted(statuses.items()))}; with a malformed "
            f"Authorization header: {dict(sorted(bad_auth.items()))}; incidents stored {store.count_incidents()}"
        )
    # The run really exercised the endpoint behind authentication, not just the 401/403 gate.
    assert not statuses.keys() & {401, 403}, statuses
    if run == "positive":
        assert statuses[201] > 0 and handoff.calls, statuses
    elif run == "negative":
        # Not "no 2xx": a few schema-violating bodies are accepted because pydantic's lax mode
        # coerces them (e.g. a numeric string for an integer field); that is no server error.
        assert statuses[422] > 0 and not bad_auth, (statuses, bad_auth)
    else:
        assert bad_auth[401] > 0, bad_auth
