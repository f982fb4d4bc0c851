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

Every accepted event must also survive what follows acceptance: its remediation conf is plain
JSON (no NaN, integers JavaScript keeps exactly) and reads back equal, the stored event reads
back equal, and the remediation stages that follow receipt (evidence, triage) run on it without
failing — an accepted event that later breaks the run (the incident stuck in `received`) fails.
The schema itself needs a login, as at `/patchit/openapi.json`: it is loaded with bob's token.

Bounded: PATCHIT_FUZZ_EXAMPLES examples for each of the first two runs (default 100) and 40%
of that for the third, with a deadline per example; each run prints how many cases it sent and
the status codes they got.
"""

from __future__ import annotations

import json
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
def ingest_operation(app, headers_for):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=headers_for("bob"))
    return schema["/events/ingest"]["POST"]


def _json_safe(value) -> bool:
    """Only JSON types, integers within ±(2^53-1) and finite floats (what every JSON reader keeps)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, bool) or item is None or isinstance(item, str):
            continue
        elif isinstance(item, int):
            if abs(item) > 2**53 - 1:
                return False
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                return False
        else:
            return False
    return True


def check_accepted_event_runs(store, incident_id: str) -> None:
    """What the remediation run does with an accepted event must not break on it."""
    from patchit_provider.capture.trigger import remediation_conf
    from patchit_provider.engine.models import AuditKind, FailureEvent, IncidentState
    from patchit_provider.engine.pipeline import Remediator
    from patchit_provider.engine.settings import PatchitSettings

    incident = store.get_incident(incident_id)
    conf = remediation_conf(incident.event)
    assert _json_safe(conf) and json.loads(json.dumps(conf, allow_nan=False)) == conf, conf
    event_json = incident.event.model_dump(mode="json")
    assert _json_safe(event_json)
    assert FailureEvent.model_validate_json(incident.event.model_dump_json()) == incident.event
    remediator = Remediator(store, PatchitSettings())
    remediator.collect_evidence(incident_id)
    done = remediator.triage(incident_id)
    assert done.state is not IncidentState.FAILED, [a.message for a in store.audit_trail(incident_id)]
    assert AuditKind.STAGE_FAILED not in [a.kind for a in store.audit_trail(incident_id)]


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
        if response.status_code == 201:
            check_accepted_event_runs(store, response.json()["incident_id"])

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
