"""Webhook notifications through the http provider's HttpHook, against a local stand-in for
Slack's incoming webhook: 200 "ok", 400 "invalid_payload", 429 with Retry-After."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from patchit_provider.engine.models import ErrorInfo, ErrorSummary, FailureEvent, Incident, IncidentState, Triage
from patchit_provider.engine.notify import Moment
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.store import list_notifications, open_store
from patchit_provider.engine.taxonomy import Category, Remediation
from patchit_provider.notifications.webhook import build_notifier, check_response

# path -> (status, body, extra headers); /slow sleeps first
ANSWERS = {
    "/services/T1/B1/ok": (200, "ok", {}),
    "/services/T1/B1/bad": (400, "invalid_payload", {}),
    "/services/T1/B1/busy": (429, "rate_limited", {"Retry-After": "7"}),
    "/services/T1/B1/gone": (410, "channel_is_archived", {}),
    "/hooks/generic": (202, "", {}),
}


class FakeSlack:
    def __init__(self) -> None:
        slack = self
        self.requests: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                slack.requests.append({"path": self.path, "headers": dict(self.headers), "body": raw})
                if self.path.endswith("/slow"):
                    time.sleep(2)
                    status, text, headers = 200, "ok", {}
                else:
                    try:
                        json.loads(raw)
                        status, text, headers = ANSWERS.get(self.path, (404, "no_service", {}))
                    except ValueError:
                        status, text, headers = 400, "invalid_payload", {}
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def slack():
    server = FakeSlack()
    yield server
    server.close()


@pytest.fixture()
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'patchit.db'}") as opened:
        yield opened


@pytest.fixture()
def webhook(monkeypatch, slack):
    """webhook(conn_id, path, **extra): an HTTP connection from AIRFLOW_CONN_<ID> (JSON form)."""

    def make(conn_id: str, path: str, **extra) -> str:
        conn = {"conn_type": "http", "host": slack.base + path, "extra": extra}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return conn_id

    return make


def _incident(n: int = 0) -> Incident:
    message = "column 'amount' missing; password=hunter22 <!channel>"
    event = FailureEvent(
        pipeline_id="orders",
        run_id=f"run-{n}",
        task_id="load",
        try_number=1,
        error=ErrorInfo(type="KeyError", message=message),
    )
    triage = Triage(
        category=Category.SCHEMA_MISSING_COLUMN,
        remediation=Remediation.PATCH,
        fingerprint="fp123",
        summary=message,
        error=ErrorSummary(type="KeyError", message=message),
        confidence=0.9,
    )
    return Incident(
        incident_id=f"inc-{n:04d}", event=event, triage=triage, fingerprint="fp123", state=IncidentState.TRIAGED
    )


def _settings(*conn_ids: str, **kwargs) -> PatchitSettings:
    return PatchitSettings(notify_conn_ids=",".join(conn_ids), **kwargs)


def test_no_webhook_configured_means_no_notifier(store):
    assert build_notifier(store, PatchitSettings()) is None


def test_slack_webhook_gets_the_message(slack, webhook, store):
    webhook(
        "patchit_slack",
        "/services/T1/B1/ok",
        format="slack",
        incident_url="https://airflow.example.com/patchit/incidents/{incident_id}",
    )
    notifier = build_notifier(store, _settings("patchit_slack"))
    deliveries = notifier.notify(_incident(), Moment.OPENED)
    assert [(d.sink, d.status) for d in deliveries] == [("patchit_slack", "sent")]
    [request] = slack.requests
    assert request["path"] == "/services/T1/B1/ok"
    assert request["headers"]["Content-Type"] == "application/json"
    assert not {"format", "incident_url"} & {key.lower() for key in request["headers"]}  # extras are not headers
    body = json.loads(request["body"])
    assert body["text"] and body["blocks"] and body["metadata"]["event_payload"]["thread_key"] == "patchit-fp123"
    raw = request["body"].decode()
    assert "hunter22" not in raw and "<!channel>" not in raw
    assert "https://airflow.example.com/patchit/incidents/inc-0000" in raw
    assert list_notifications(store)[-1]["status"] == "sent"


def test_json_webhook(slack, webhook, store):
    webhook("patchit_json", "/hooks/generic", format="json")
    notifier = build_notifier(store, _settings("patchit_json"))
    assert [d.status for d in notifier.notify(_incident(), Moment.ESCALATED)] == ["sent"]
    body = json.loads(slack.requests[0]["body"])
    assert (
        body["event"] == "incident.escalated" and body["dag_id"] == "orders" and body["thread_key"] == "patchit-fp123"
    )


def test_invalid_payload_is_reported_not_raised(slack, webhook, store):
    webhook("patchit_bad", "/services/T1/B1/bad")
    notifier = build_notifier(store, _settings("patchit_bad"))
    [delivery] = notifier.notify(_incident(), Moment.OPENED)
    assert delivery.status == "failed" and "400" in delivery.error and "invalid_payload" in delivery.error
    assert "/services/T1/B1/bad" not in delivery.error  # the webhook URL is the secret
    row = list_notifications(store)[-1]
    assert row["status"] == "failed" and not row["suppressed"]  # the same payload would fail again


def test_rate_limited_by_slack_waits_for_retry_after(slack, webhook, store):
    webhook("patchit_busy", "/services/T1/B1/busy")
    notifier = build_notifier(store, _settings("patchit_busy"))
    [delivery] = notifier.notify(_incident(1), Moment.OPENED)
    assert delivery.status == "failed" and "429" in delivery.error
    row = list_notifications(store)[-1]
    assert row["retry_at"] is not None and 5 <= (row["retry_at"] - row["sent_at"]).total_seconds() <= 9
    assert row["suppressed"]  # reported by the next summary
    assert [d.status for d in notifier.notify(_incident(2), Moment.OPENED)] == ["suppressed"]
    assert len(slack.requests) == 1  # nothing posted while Slack asked us to wait


def test_one_bad_webhook_does_not_silence_the_others(slack, webhook, store):
    webhook("patchit_gone", "/services/T1/B1/gone")
    webhook("patchit_ok", "/services/T1/B1/ok")
    notifier = build_notifier(store, _settings("patchit_gone", "patchit_missing_conn", "patchit_ok"))
    assert [s.name for s in notifier.sinks] == ["patchit_gone", "patchit_ok"]  # the missing one is skipped
    statuses = {d.sink: d.status for d in notifier.notify(_incident(), Moment.REJECTED)}
    assert statuses == {"patchit_gone": "failed", "patchit_ok": "sent"}


def test_timeout_bounds_a_slow_webhook(slack, webhook, store):
    """The server sleeps 2 s; a 0.3 s timeout ends the wait. Measured against the same delivery to
    a fast endpoint just before (the hook's first use and a loaded machine cost both the same), so
    the figure is the wait for the server alone: waiting it out would add 1.7 s or more."""
    webhook("patchit_fast", "/services/T1/B1/ok", timeout=0.3)
    webhook("patchit_slow", "/services/T1/B1/slow", timeout=0.3)
    fast_notifier = build_notifier(store, _settings("patchit_fast"))
    started = time.monotonic()
    [fast] = fast_notifier.notify(_incident(1), Moment.FAILED, detail="validate failed")
    baseline = time.monotonic() - started
    assert fast.status == "sent"
    notifier = build_notifier(store, _settings("patchit_slow"))
    started = time.monotonic()
    [delivery] = notifier.notify(_incident(2), Moment.FAILED, detail="validate failed")
    assert time.monotonic() - started - baseline < 1.2
    assert delivery.status == "failed" and "Timeout" in delivery.error


def test_storm_through_the_hook_sends_limit_and_one_summary(slack, webhook, store):
    """The limiter's clock is held still while 20 failures arrive (on a loaded machine the real
    sends can take longer than the window, which let a fourth through), then moved past it."""
    import datetime

    webhook("patchit_storm", "/services/T1/B1/ok")
    notifier = build_notifier(store, _settings("patchit_storm", notify_rate_limit=3, notify_window_seconds=1))
    start = notifier.limiter.clock()
    notifier.limiter.clock = lambda: start
    for n in range(20):
        notifier.notify(_incident(n), Moment.OPENED)
    assert len(slack.requests) == 3
    notifier.limiter.clock = lambda: start + datetime.timedelta(seconds=1.1)
    assert [d.kind for d in notifier.flush()] == ["summary"]
    assert json.loads(slack.requests[-1]["body"])["text"].startswith("17 more failures")


@pytest.mark.parametrize(
    "status,retry_after,wait", [(429, "12", 12.0), (429, None, None), (429, "Wed, 21 Oct 2015 07:28:00 GMT", 60.0)]
)
def test_check_response_retry_after(status, retry_after, wait):
    from patchit_provider.engine.notify import PostError

    with pytest.raises(PostError) as raised:
        check_response("c", status, "rate_limited", retry_after)
    assert raised.value.retry_after == wait and raised.value.retryable
