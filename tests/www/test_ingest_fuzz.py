"""Fuzz `POST /events/ingest` from the app's published OpenAPI schema (schemathesis + hypothesis).

The schema is loaded from the app itself (`/openapi.json`, what Airflow serves at
`/patchit/openapi.json`), and schemathesis generates request bodies from the `FailureEvent`
component: valid events (positive mode) and events that violate it (negative mode: wrong types,
missing required fields, unknown keys, out-of-range values, non-objects). Every case is sent
in-process through schemathesis' ASGI transport, authenticated with a real JWT of `bob` (who
may trigger `patchit_remediation`), and the response must be neither a 5xx nor an undocumented
status code. The hand-off is the conftest's recording stub: no scheduler is involved, so the
documented 503 (hand-off failed) cannot happen here and any 5xx is a bug.

Bounded: PATCHIT_FUZZ_EXAMPLES examples per mode (default 120; two modes), with a deadline per
example; the run prints how many cases it sent and the status codes they got.
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
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES_PER_MODE = int(os.environ.get("PATCHIT_FUZZ_EXAMPLES", "120"))
DEADLINE_MS = 3_000
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def ingest_operation(app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return schema["/events/ingest"]["POST"]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_fuzzed_ingest_requests_get_no_5xx_and_only_documented_codes(
    ingest_operation, headers_for, handoff, store, capsys, mode
):
    bob = headers_for("bob")
    documented = {int(code) for code in ingest_operation.definition.raw["responses"]}
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=DEADLINE_MS,
        database=None,  # no .hypothesis/ directory in the work tree; failures print their reproducer
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        print_blob=True,
    )
    @given(case=ingest_operation.as_strategy(generation_mode=mode))
    def fuzz(case):
        response = case.call_and_validate(headers=bob, checks=CHECKS)
        statuses[response.status_code] += 1
        assert response.status_code < 500, response.text
        assert response.status_code in documented, (response.status_code, response.text)

    started = time.monotonic()
    fuzz()
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\n[ingest fuzz, {mode.value}] {sum(statuses.values())} cases in {elapsed:.1f}s; "
            f"status codes {dict(sorted(statuses.items()))}; incidents stored {store.count_incidents()}"
        )
    # The run really exercised the endpoint behind authentication, not just the 401/403 gate.
    assert not statuses.keys() & {401, 403}, statuses
    if mode is GenerationMode.POSITIVE:
        assert statuses[201] > 0 and handoff.calls, statuses
    else:
        assert statuses[422] > 0, statuses
