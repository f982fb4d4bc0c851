"""The incident page never shows a replay that did not happen as a passed step: a not-run check
has its own word and colour, and a validated incident that was not replayed says so by its state."""

from __future__ import annotations

from www_factories import add_incident

from patchit_provider.engine.models import CheckResult, IncidentState, Outcome, ValidationResult
from patchit_provider.engine.taxonomy import Category


def _page(client, headers_for, store, validation: ValidationResult) -> str:
    incident = add_incident(
        store,
        "sales_daily",
        category=Category.CODE_ERROR,
        state=IncidentState.VALIDATED,
        outcome=Outcome.PATCH_VALIDATED,
        diff="+x\n",
        checks=[],
    )
    incident.validation = validation
    store.save_incident(incident)
    return client.get(f"/incidents/{incident.incident_id}", headers=headers_for("viewer")).text


def test_a_replay_that_was_not_possible_is_shown_as_not_replayed(client, headers_for, store):
    why = "op_args[0] is an XCom and the values of the failed run were not fetched"
    text = _page(
        client,
        headers_for,
        store,
        ValidationResult(
            passed=True,
            replay="checks_only",
            not_replayed=why,
            checks=[
                CheckResult(name="compile", passed=True, output="1 Python file(s) compile"),
                CheckResult(name="replay", passed=True, status="not_run", output=f"not replayed: {why}"),
            ],
        ),
    )
    head, validation = text.split('id="validation"', 1)
    assert '<span class="pill tone-warn" title="op_args[0] is an XCom' in head  # next to "validated"
    assert '<span class="pill tone-warn">not replayed</span>' in validation and why in validation
    # the replay step: its own mark, word and colour, never the green tick
    assert (
        '<span class="tone-warn" title="not run">–</span> replay <span class="pill tone-warn">not replayed</span>'
        in validation
    )
    assert '<span class="tone-ok" title="passed">✓</span> replay' not in validation
    assert '<span class="tone-ok" title="passed">✓</span> compile' in validation


def test_a_real_replay_says_it_failed_before_and_passes_after(client, headers_for, store):
    text = _page(
        client,
        headers_for,
        store,
        ValidationResult(
            passed=True,
            replay="reproduced_and_fixed",
            checks=[CheckResult(name="replay", passed=True, output="unpatched: NameError reproduced; patched: ok")],
        ),
    )
    head, validation = text.split('id="validation"', 1)
    assert "not replayed" not in text
    assert '<span class="pill tone-ok">replayed: failed before, passes after</span>' in validation
    assert '<span class="tone-ok" title="passed">✓</span> replay' in validation
