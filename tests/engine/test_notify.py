"""Notifications: payload formats, escaping and redaction, the shared rate limit, failing sinks."""

from __future__ import annotations

import importlib.util
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from patchit_provider.engine.models import (
    ErrorInfo,
    ErrorSummary,
    FailureEvent,
    Incident,
    IncidentState,
    Outcome,
    Publication,
    PublicationKind,
    Triage,
)
from patchit_provider.engine.notify import (
    Moment,
    Notifier,
    PostError,
    Sink,
    build_message,
    thread_key,
)
from patchit_provider.engine.store import list_notifications, open_store
from patchit_provider.engine.taxonomy import Category, Remediation

_spec = importlib.util.spec_from_file_location("redaction_corpus", Path(__file__).with_name("test_redaction.py"))
_corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_corpus)
CORPUS = _corpus.CORPUS

URL = "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Recorder:
    """A webhook double: records (url, body); `fail` makes it raise that exception."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.posts: list[tuple[str, dict]] = []
        self.fail = fail

    def __call__(self, url: str, body: dict) -> None:
        if self.fail is not None:
            raise self.fail
        self.posts.append((url, body))


def make_incident(
    n: int = 0,
    *,
    dag: str = "orders",
    category: Category = Category.SCHEMA_MISSING_COLUMN,
    summary: str = "Column 'amount' missing in orders",
    fingerprint: str | None = None,
    log: str = "",
    message: str = "'amount'",
) -> Incident:
    event = FailureEvent(
        pipeline_id=dag,
        run_id=f"run-{n}",
        task_id="load",
        try_number=1,
        log_text=log or None,
        error=ErrorInfo(type="KeyError", message=message),
    )
    triage = Triage(
        category=category,
        remediation=Remediation.PATCH,
        fingerprint=fingerprint or f"fp{category.name.lower()}{dag}",
        summary=summary,
        error=ErrorSummary(type="KeyError", message=message),
        confidence=0.9,
        next_step="Add the column upstream",
    )
    return Incident(
        incident_id=f"inc-{n:06d}",
        event=event,
        triage=triage,
        fingerprint=triage.fingerprint,
        state=IncidentState.TRIAGED,
    )


@pytest.fixture()
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'patchit.db'}") as opened:
        yield opened


def _all_text(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False)


# -- formats -----------------------------------------------------------------------------------


def test_slack_payload_shape():
    body = build_message(
        make_incident(), Moment.OPENED, "slack", incident_url="https://af.example.com/patchit/incidents/{incident_id}"
    )
    assert isinstance(body["text"], str) and body["text"]
    assert body["mrkdwn"] is True
    kinds = [block["type"] for block in body["blocks"]]
    assert kinds[0] == "header" and "section" in kinds and kinds[-1] == "context"
    assert len(body["blocks"]) <= 50
    for block in body["blocks"]:
        texts = [block["text"]] if "text" in block else block.get("fields", []) + block.get("elements", [])
        for obj in texts:
            assert obj["type"] in ("mrkdwn", "plain_text") and len(obj["text"]) <= 3000
    assert body["blocks"][0]["text"]["type"] == "plain_text" and len(body["blocks"][0]["text"]["text"]) <= 150
    assert "<https://af.example.com/patchit/incidents/inc-000000|Open in PATCHIT>" in _all_text(body)
    assert body["metadata"]["event_payload"]["thread_key"] == "patchit-fpschema_missing_columnorders"


def test_json_format_fields():
    incident = make_incident()
    incident.outcome = Outcome.PATCH_VALIDATED
    incident.publication = Publication(
        kind=PublicationKind.GITHUB, branch="patchit/fp1", url="https://github.com/o/r/pull/7", pr_number=7
    )
    body = build_message(incident, Moment.PUBLISHED, "json")
    assert body["event"] == "incident.published"
    assert body["incident_id"] == "inc-000000" and body["fingerprint"] == incident.fingerprint
    assert (body["category"], body["remediation"], body["outcome"]) == (
        "schema.missing_column",
        "patch",
        "patch_validated",
    )
    assert (body["dag_id"], body["task_id"], body["run_id"]) == ("orders", "load", "run-0")
    assert body["summary"] == "Column 'amount' missing in orders"
    assert body["links"] == {"pull_request": "https://github.com/o/r/pull/7", "branch": "patchit/fp1"}
    assert body["thread_key"] == thread_key(incident)
    slack = build_message(incident, Moment.PUBLISHED, "slack")
    assert "<https://github.com/o/r/pull/7|Pull request>" in _all_text(slack)


@pytest.mark.parametrize("moment", list(Moment))
def test_every_moment_renders_in_both_formats(moment):
    for fmt in ("slack", "json"):
        body = build_message(make_incident(), moment, fmt, detail="validate failed: boom")
        json.dumps(body)  # serializable


def test_thread_key_is_one_per_fingerprint():
    a1, a2 = make_incident(1, fingerprint="aaa111"), make_incident(2, fingerprint="aaa111")
    b = make_incident(3, fingerprint="bbb222")
    assert thread_key(a1) == thread_key(a2) == "patchit-aaa111" != thread_key(b)
    for fmt in ("slack", "json"):
        key = lambda body: body.get("thread_key") or body["metadata"]["event_payload"]["thread_key"]  # noqa: E731
        assert key(build_message(a1, Moment.OPENED, fmt)) == key(build_message(a2, Moment.ESCALATED, fmt))


def test_log_text_cannot_inject_markup_or_mentions():
    hostile = "<script>alert(1)</script> <!channel> <!here> @here @channel <@U123> <http://evil|click> & ```x```"
    incident = make_incident(summary=hostile, message=hostile)
    body = build_message(incident, Moment.OPENED, "slack", detail=hostile)
    text = _all_text(body)
    for raw in ("<script>", "<!channel>", "<!here>", "<@U123>", "<http://evil", "@here", "@channel", "```"):
        assert raw not in text, raw
    assert "&lt;script&gt;" in text and "&lt;!channel&gt;" in text and "&amp;" in text
    assert "@\u200bhere" in text


def test_secrets_never_leave_in_any_format():
    secrets_text = "\n".join(text for text, _ in CORPUS)
    incident = make_incident(summary=secrets_text[:3000], message=secrets_text[:3000], log=secrets_text)
    for moment in (Moment.OPENED, Moment.FAILED):
        for fmt in ("slack", "json"):
            body = _all_text(build_message(incident, moment, fmt, detail=secrets_text))
            leaked = [secret for _, secret in CORPUS if secret in body or json.dumps(secret)[1:-1] in body]
            assert not leaked, (moment, fmt, leaked)


def test_text_is_bounded():
    incident = make_incident(summary="x " * 50_000)
    slack = build_message(incident, Moment.OPENED, "slack")
    assert len(slack["text"]) <= 600
    assert all(len(b["text"]["text"]) <= 3000 for b in slack["blocks"] if "text" in b)
    assert len(build_message(incident, Moment.OPENED, "json")["summary"]) <= 3000


# -- rate limit --------------------------------------------------------------------------------

CAUSES = [
    ("orders", Category.SCHEMA_MISSING_COLUMN, 150),
    ("sales", Category.INFRA_NETWORK, 30),
    ("billing", Category.CODE_ERROR, 20),
]


def _storm() -> list[Incident]:
    out, n = [], 0
    for dag, category, count in CAUSES:
        for _ in range(count):
            out.append(make_incident(n, dag=dag, category=category))
            n += 1
    return out


def test_storm_sends_limit_then_one_summary(store):
    clock, post = Clock(), Recorder()
    notifier = Notifier([Sink("chat", URL)], post, store, limit=10, window_seconds=300, clock=clock)
    statuses = []
    for incident in _storm():
        statuses += [d.status for d in notifier.notify(incident, Moment.OPENED)]
        clock.advance(0.5)
    assert statuses.count("sent") == 10 and statuses.count("suppressed") == 190
    assert len(post.posts) == 10
    assert notifier.flush() == []  # the window has not rolled yet

    clock.advance(300)
    flushed = notifier.flush()
    assert [(d.kind, d.status) for d in flushed] == [("summary", "sent")]
    assert len(post.posts) == 11  # 10 messages + 1 summary, not 200
    text = post.posts[-1][1]["text"]
    assert text.startswith("190 more failures in the last")
    # 10 sent were all orders; the 190 held back: 140 orders, 30 sales, 20 billing
    assert "140 × schema.missing_column in orders" in text
    assert "30 × infra.network in sales" in text and "20 × code.error in billing" in text
    assert notifier.flush() == []  # reported once


def test_summary_goes_with_the_next_allowed_send(store):
    clock, post = Clock(), Recorder()
    notifier = Notifier([Sink("chat", URL, "json")], post, store, limit=2, window_seconds=60, clock=clock)
    for n in range(5):
        notifier.notify(make_incident(n), Moment.OPENED)
    assert len(post.posts) == 2
    clock.advance(61)
    deliveries = notifier.notify(make_incident(99, dag="sales"), Moment.ESCALATED)
    assert [(d.kind, d.status) for d in deliveries] == [("summary", "sent"), ("escalated", "sent")]
    summary = post.posts[2][1]
    assert summary["event"] == "incident.summary" and summary["suppressed"] == 3
    assert summary["groups"] == [{"category": "schema.missing_column", "dag_id": "orders", "incidents": 3}]
    assert post.posts[3][1]["event"] == "incident.escalated"


def test_two_notifiers_on_one_store_share_the_limit(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    clock, post_a, post_b = Clock(), Recorder(), Recorder()
    with open_store(url) as store_a, open_store(url) as store_b:
        a = Notifier([Sink("chat", URL)], post_a, store_a, limit=10, window_seconds=300, clock=clock)
        b = Notifier([Sink("chat", URL)], post_b, store_b, limit=10, window_seconds=300, clock=clock)
        for n in range(40):
            (a if n % 2 else b).notify(make_incident(n), Moment.OPENED)
        assert len(post_a.posts) + len(post_b.posts) == 10
        clock.advance(301)
        assert len(a.flush()) + len(b.flush()) == 1  # one summary, whoever sends it
        assert len(list_notifications(store_a, sink="chat")) == 41


_store_spec = importlib.util.spec_from_file_location("store_fixtures", Path(__file__).parent / "store" / "conftest.py")
_store_fixtures = importlib.util.module_from_spec(_store_spec)
_store_spec.loader.exec_module(_store_fixtures)
pg_schema_url = _store_fixtures.pg_schema_url  # a fresh PostgreSQL schema, as the store tests use


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_url(request, tmp_path):
    """One database for several workers: SQLite, or PostgreSQL when PATCHIT_TEST_PG_URL is set."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return request.getfixturevalue("pg_schema_url")


def test_concurrent_workers_take_exactly_the_limit(shared_url):
    import threading

    clock, post = Clock(), Recorder()
    stores = [open_store(shared_url) for _ in range(4)]
    notifiers = [Notifier([Sink("chat", URL)], post, s, limit=10, window_seconds=300, clock=clock) for s in stores]

    def worker(i: int) -> None:
        for n in range(25):
            notifiers[i].notify(make_incident(i * 100 + n, dag=f"dag{i}"), Moment.OPENED)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len(post.posts) == 10
        clock.advance(301)
        assert sum(len(n.flush()) for n in notifiers) == 1
        assert post.posts[-1][1]["text"].startswith("90 more failures")
    finally:
        for opened in stores:
            opened.close()


def test_limit_is_per_sink(store):
    clock, post = Clock(), Recorder()
    notifier = Notifier(
        [Sink("chat", URL), Sink("pager", "https://example.com/hook", "json")],
        post,
        store,
        limit=3,
        window_seconds=300,
        clock=clock,
    )
    for n in range(5):
        notifier.notify(make_incident(n), Moment.OPENED)
    assert [url for url, _ in post.posts].count(URL) == 3
    assert [url for url, _ in post.posts].count("https://example.com/hook") == 3


# -- failing sinks -----------------------------------------------------------------------------


def test_failing_post_is_reported_not_raised(store, caplog):
    post = Recorder(fail=PostError(f"POST {URL} answered 404: channel_not_found", status=404))
    notifier = Notifier([Sink("chat", URL)], post, store)
    deliveries = notifier.notify(make_incident(), Moment.OPENED)
    assert [(d.sink, d.status) for d in deliveries] == [("chat", "failed")]
    assert "channel_not_found" in deliveries[0].error
    assert "XXXXSECRETXXXX" not in deliveries[0].error and "XXXXSECRETXXXX" not in caplog.text
    row = list_notifications(store)[-1]
    assert (row["status"], row["suppressed"]) == ("failed", False)  # not retried: the payload would fail again


def test_any_exception_from_post_is_contained(store):
    notifier = Notifier([Sink("chat", URL)], Recorder(fail=ConnectionError("refused")), store)
    assert [d.status for d in notifier.notify(make_incident(), "retry_advised")] == ["failed"]
    assert [d.status for d in notifier.notify(make_incident(), "not-a-moment")] == ["failed"]


def test_broken_store_is_contained():
    class Broken:
        def _write(self):
            raise RuntimeError("database is gone")

    notifier = Notifier([Sink("chat", URL)], Recorder(), Broken())
    assert [d.status for d in notifier.notify(make_incident(), Moment.OPENED)] == ["failed"]
    assert [d.status for d in notifier.flush()] == ["failed"]


def test_rate_limited_by_the_sink_pauses_and_reports_later(store):
    clock = Clock()
    post = Recorder(fail=PostError("answered 429: rate_limited", status=429, retry_after=30))
    notifier = Notifier([Sink("chat", URL)], post, store, limit=10, window_seconds=300, clock=clock)
    assert [d.status for d in notifier.notify(make_incident(1), Moment.OPENED)] == ["failed"]
    assert [d.status for d in notifier.notify(make_incident(2), Moment.OPENED)] == ["suppressed"]  # paused
    post.fail = None
    clock.advance(31)
    deliveries = notifier.notify(make_incident(3, dag="sales"), Moment.OPENED)
    assert [(d.kind, d.status) for d in deliveries] == [("summary", "sent"), ("opened", "sent")]
    assert post.posts[0][1]["text"].startswith("2 more failures")  # the 429'd one and the paused one


# -- wired into the Remediator -----------------------------------------------------------------

_pipeline_spec = importlib.util.spec_from_file_location("pipeline_cases", Path(__file__).with_name("test_pipeline.py"))
_pipeline_cases = importlib.util.module_from_spec(_pipeline_spec)
_pipeline_spec.loader.exec_module(_pipeline_cases)
event_from_run = _pipeline_cases._event_from_run


class Moments:
    """A Notifier stand-in recording (incident_id, moment, detail); `fail` makes it raise."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.fail = fail

    def notify(self, incident, moment, *, detail=""):
        self.calls.append((incident.incident_id, str(moment), detail))
        if self.fail:
            raise RuntimeError("webhook exploded")
        return []


def _remediator(tmp_path, pipeline_repo, notifier, **settings):
    import sys

    from patchit_provider.engine.pipeline import Remediator
    from patchit_provider.engine.settings import PatchitSettings

    store = open_store(f"sqlite:///{tmp_path}/store.db")
    config = PatchitSettings(
        repo_map={"orders": str(pipeline_repo)},
        check_command=f"{sys.executable} run_orders.py data/orders.csv",
        validation_timeout=120,
    )
    return Remediator(store, config.model_copy(update=settings), notifier=notifier)


def test_remediator_notifies_opened_then_each_outcome(tmp_path, pipeline_repo):
    moments = Moments()
    remediator = _remediator(tmp_path, pipeline_repo, moments)
    incident = remediator.run_all(event_from_run(pipeline_repo, "run_orders.py data/orders.csv"))
    assert incident.state is IncidentState.PUBLISHED
    assert [m for _, m, _ in moments.calls] == ["opened", "patch_validated", "published"]

    # the same cause again is grouped into the open incident: no second "opened"
    again = event_from_run(pipeline_repo, "run_orders.py data/orders.csv")
    grouped = remediator.run_all(again.model_copy(update={"run_id": "manual__2", "event_id": ""}))
    assert grouped.state is IncidentState.GROUPED
    assert [m for _, m, _ in moments.calls] == ["opened", "patch_validated", "published"]
    remediator.store.close()


def test_remediator_notifies_rejection_and_stage_failure(tmp_path, pipeline_repo):
    moments = Moments()
    remediator = _remediator(tmp_path, pipeline_repo, moments, check_command="exit 1")
    rejected = remediator.run_all(event_from_run(pipeline_repo, "run_orders.py data/orders.csv"))
    assert rejected.state is IncidentState.REJECTED
    assert [m for _, m, _ in moments.calls] == ["opened", "rejected"]

    incident = remediator.receive(event_from_run(pipeline_repo, "run_orders.py data/orders.csv", dag="other"))
    with pytest.raises(RuntimeError):
        remediator.triage(incident.incident_id)  # no evidence yet
    assert moments.calls[-1][:2] == (incident.incident_id, "failed")
    assert "triage failed" in moments.calls[-1][2]
    remediator.store.close()


def test_remediator_notifies_retry_advice(tmp_path, pipeline_repo):
    (pipeline_repo / "fetch.py").write_text("import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=2)\n")
    moments = Moments()
    remediator = _remediator(tmp_path, pipeline_repo, moments)
    remediator.run_all(event_from_run(pipeline_repo, "fetch.py"))
    assert [m for _, m, _ in moments.calls] == ["opened", "retry_advised"]
    remediator.store.close()


def test_a_raising_notifier_never_breaks_the_remediation(tmp_path, pipeline_repo):
    moments = Moments(fail=True)
    remediator = _remediator(tmp_path, pipeline_repo, moments)
    incident = remediator.run_all(event_from_run(pipeline_repo, "run_orders.py data/orders.csv"))
    assert incident.state is IncidentState.PUBLISHED and len(moments.calls) == 3
    remediator.store.close()


def test_remediator_with_a_real_notifier_posts_redacted_slack_messages(tmp_path, pipeline_repo):
    post = Recorder()
    store = open_store(f"sqlite:///{tmp_path}/notify.db")
    notifier = Notifier([Sink("chat", URL)], post, store)
    remediator = _remediator(tmp_path, pipeline_repo, notifier)
    event = event_from_run(pipeline_repo, "run_orders.py data/orders.csv", secret=_pipeline_cases.SECRET)
    remediator.run_all(event)
    assert len(post.posts) == 3
    assert _pipeline_cases.SECRET not in _all_text({"posts": [body for _, body in post.posts]})
    remediator.store.close()
    store.close()
