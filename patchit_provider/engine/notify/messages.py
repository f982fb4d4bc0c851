"""Notification payloads: a Slack incoming-webhook message or a generic JSON document.

Every value comes from logs and code PATCHIT does not control, so each one is redacted, then
bounded, then (for Slack) escaped: `&`, `<`, `>` become entities, which also disarms `<!here>`,
`<!channel>` and `<@U…>`, and a bare `@here`/`@channel`/`@everyone` gets a zero-width space so no
setting can turn it into a mention. Redaction comes first: escaping could hide a token from it.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum
from typing import Any, Literal
from urllib.parse import quote

from patchit_provider.engine.models import Incident, utcnow
from patchit_provider.engine.redaction import redact, redact_obj
from patchit_provider.engine.store.notifications import Summary

Format = Literal["slack", "json"]
FORMATS: tuple[str, ...] = ("slack", "json")
SCHEMA = "patchit.notification/v1"

# Slack's limits: section text 3,000, field 2,000, header 150; the fallback `text` is kept short.
MAX_TEXT = 2_800
MAX_FIELD = 300
MAX_FALLBACK = 600
MAX_GROUPS = 8


class Moment(str, Enum):
    """When a notification is sent: on creation (after triage) and on each outcome."""

    OPENED = "opened"
    PATCH_VALIDATED = "patch_validated"
    PUBLISHED = "published"
    ESCALATED = "escalated"
    RETRY_ADVISED = "retry_advised"
    REJECTED = "rejected"
    FAILED = "failed"


_TITLES = {
    Moment.OPENED: ("New incident", ":rotating_light:"),
    Moment.PATCH_VALIDATED: ("Patch validated", ":white_check_mark:"),
    Moment.PUBLISHED: ("Patch published", ":rocket:"),
    Moment.ESCALATED: ("Escalated to a human", ":raising_hand:"),
    Moment.RETRY_ADVISED: ("Retry advised", ":repeat:"),
    Moment.REJECTED: ("Patch rejected", ":no_entry:"),
    Moment.FAILED: ("PATCHIT stage failed", ":x:"),
}
_MENTION = re.compile(r"@(?=(?:here|channel|everyone)\b)", re.I)


def thread_key(incident: Incident) -> str:
    """One thread/grouping key per cause: every message about one fingerprint shares it."""
    return f"patchit-{incident.fingerprint or (incident.triage.fingerprint if incident.triage else None) or incident.incident_id}"


def clean(value: object, limit: int = MAX_FIELD) -> str:
    """Redacted and bounded plain text (the JSON format's values)."""
    text = redact(str(value))[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_escape(value: object, limit: int = MAX_FIELD) -> str:
    """Redacted, bounded, then mrkdwn-escaped text that cannot mention, link or break layout."""
    text = clean(value, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MENTION.sub("@\u200b", text).replace("`", "ˋ")


def incident_link(incident_id: str, template: str) -> str | None:
    """`template` such as https://airflow.example.com/patchit/incidents/{incident_id}."""
    return template.replace("{incident_id}", quote(incident_id, safe="")) if template else None


def document(incident: Incident, moment: Moment | str, *, detail: str = "", incident_url: str = "") -> dict[str, Any]:
    """The generic JSON format; the Slack message is rendered from the same document."""
    moment = Moment(moment)
    event, triage, publication = incident.event, incident.triage, incident.publication
    links = {
        "incident": incident_link(incident.incident_id, incident_url),
        "pull_request": publication.url if publication else None,
        "branch": publication.branch if publication else None,
    }
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "event": f"incident.{moment.value}",
        "thread_key": thread_key(incident),
        "incident_id": incident.incident_id,
        "fingerprint": incident.fingerprint,
        "category": triage.category.value if triage else None,
        "remediation": triage.remediation.value if triage else None,
        "confidence": triage.confidence if triage else None,
        "outcome": incident.outcome.value if incident.outcome else None,
        "state": incident.state.value,
        "dag_id": event.pipeline_id,
        "task_id": event.task_id,
        "run_id": event.run_id,
        "platform": event.platform.value,
        "occurrences": incident.occurrences,
        "summary": triage.summary if triage else (event.error.message if event.error else ""),
        "next_step": triage.next_step if triage else "",
        "detail": detail,
        "links": {k: v for k, v in links.items() if v},
        "at": utcnow().isoformat(),
    }
    return _bounded(redact_obj(data)[0])


def build_message(
    incident: Incident, moment: Moment | str, fmt: Format = "slack", *, detail: str = "", incident_url: str = ""
) -> dict[str, Any]:
    """The body to POST for `incident` at `moment`, in `fmt`."""
    data = document(incident, moment, detail=detail, incident_url=incident_url)
    return data if fmt == "json" else _slack(data, Moment(moment))


def summary_text(summary: Summary, now: datetime | None = None) -> str:
    """ "37 more failures in the last 5 minutes: 30 × schema.missing_column in orders, ..." (plain, redacted)."""
    span = max(0.0, ((now or utcnow()) - summary.since).total_seconds())
    count = summary.incidents or summary.notifications
    head = f"{count} more failure{'s' if count != 1 else ''} in the last {_duration(span)}"
    parts = [f"{n} × {category} in {pipeline}" for category, pipeline, n in summary.groups[:MAX_GROUPS]]
    rest = len(summary.groups) - MAX_GROUPS
    if rest > 0:
        parts.append(f"and {rest} more group{'s' if rest != 1 else ''}")
    held = f" ({summary.notifications} notifications held back by the rate limit)"
    return clean(head + (": " + ", ".join(parts) if parts else "") + held, MAX_TEXT)


def build_summary(summary: Summary, fmt: Format = "slack", *, now: datetime | None = None) -> dict[str, Any]:
    """The one message that stands for every notification the rate limit held back."""
    text = summary_text(summary, now)
    if fmt == "json":
        return {
            "schema": SCHEMA,
            "event": "incident.summary",
            "thread_key": "patchit-summary",
            "suppressed": summary.notifications,
            "incidents": summary.incidents,
            "groups": [{"category": c, "dag_id": p, "incidents": n} for c, p, n in summary.groups],
            "summary": text,
            "since": summary.since.isoformat(),
            "at": (now or utcnow()).isoformat(),
        }
    escaped = slack_escape(text, MAX_TEXT)
    return {
        "text": slack_escape(text, MAX_FALLBACK),
        "mrkdwn": True,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f":chart_with_upwards_trend: *PATCHIT* {escaped}"}}
        ],
        "metadata": {"event_type": "patchit_summary", "event_payload": {"thread_key": "patchit-summary"}},
    }


# -- rendering ---------------------------------------------------------------------------------


def _bounded(data: dict[str, Any]) -> dict[str, Any]:
    return {
        k: clean(v, MAX_TEXT if k in ("summary", "detail") else MAX_FIELD) if isinstance(v, str) else v
        for k, v in data.items()
    }


def _slack(data: dict[str, Any], moment: Moment) -> dict[str, Any]:
    title, emoji = _TITLES[moment]
    where = data["dag_id"] + (f".{data['task_id']}" if data["task_id"] else "")
    fields = [
        ("DAG", data["dag_id"]),
        ("Task", data["task_id"] or "-"),
        ("Run", data["run_id"]),
        ("Category", data["category"] or "-"),
        ("Remediation", data["remediation"] or "-"),
        ("Outcome", data["outcome"] or data["state"]),
        ("Occurrences", data["occurrences"]),
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"PATCHIT · {title}"}},
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{slack_escape(value)}"} for name, value in fields],
        },
    ]
    body = "\n".join(part for part in (data["summary"], data["detail"], data["next_step"]) if part)
    if body:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "> " + slack_escape(body, MAX_TEXT).replace("\n", "\n> ")},
            }
        )
    links = data["links"]
    context = [
        f"fingerprint `{slack_escape(data['fingerprint'] or '-')}`",
        f"incident `{slack_escape(data['incident_id'])}`",
        f"thread `{slack_escape(data['thread_key'])}`",
    ]
    for name, label in (("incident", "Open in PATCHIT"), ("pull_request", "Pull request")):
        if links.get(name):
            context.append(f"<{_link_url(links[name])}|{label}>")
    if links.get("branch") and not links.get("pull_request"):
        context.append(f"branch `{slack_escape(links['branch'])}`")
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]})
    fallback = f"{emoji} PATCHIT {title}: {where} — {data['category'] or 'untriaged'}"
    fallback += f": {data['summary']}" if data["summary"] else ""
    return {
        "text": slack_escape(fallback, MAX_FALLBACK),
        "mrkdwn": True,
        "blocks": blocks,
        "metadata": {
            "event_type": "patchit_incident",
            "event_payload": {
                "thread_key": data["thread_key"],
                "incident_id": data["incident_id"],
                "fingerprint": data["fingerprint"] or "",
                "event": data["event"],
            },
        },
    }


def _link_url(url: str) -> str:
    """A URL inside <url|label>: `|` and `>` would end it early, so they are percent-encoded."""
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def _duration(seconds: float) -> str:
    if seconds < 90:
        value, unit = max(1, round(seconds)), "second"
    elif seconds < 90 * 60:
        value, unit = round(seconds / 60), "minute"
    else:
        value, unit = round(seconds / 3600), "hour"
    return f"{value} {unit}{'s' if value != 1 else ''}"
