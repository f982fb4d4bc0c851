"""Slack's error codes (catalogs/slack.py): the Web API's `error` field as slack_sdk prints it, and
an incoming webhook's plain-text body as the Airflow Slack provider or a client prints it."""

from __future__ import annotations

import pytest

from patchit_provider.engine.taxonomy import Category
from patchit_provider.engine.triage.catalogs import slack
from patchit_testing import triage_text

# (source, output as posted, category, remediation)
POSTED = [
    (
        "https://github.com/czbiohub-sf/Rapid-QC-MS/issues/82",
        "Slack API error: The request to the Slack API failed. (url: https://www.slack.com/api/chat.postMessage)\n"
        "The server responded with: {'ok': False, 'error': 'channel_not_found'}",
        Category.CONFIG_MISSING,
        "escalate",
    ),
    (
        "https://github.com/apache/superset/issues/30026",
        "Error fetching slack channels Failed to list channels: The request to the Slack API failed. "
        "(url: https://slack.com/api/conversations.list)\nThe server responded with: {'ok': False, 'error': "
        "'not_authed'}",
        Category.INFRA_AUTH,
        "escalate",
    ),
    (
        "https://github.com/apache/superset/issues/31309",
        "2024-12-05 17:39:03,252:ERROR:superset.reports.api:Error fetching slack channels Failed to list channels: "
        "The request to the Slack API failed. (url: https://slack.com/api/conversations.list)\n"
        "The server responded with: {'ok': False, 'error': 'ratelimited'}",
        Category.INFRA_NETWORK,
        "retry",
    ),
    (
        "https://github.com/apache/superset/issues/31196",
        'superset.commands.report.exceptions.ReportScheduleClientErrorsException: [SupersetError(message="The '
        "request to the Slack API failed. (url: https://www.slack.com/api/files.upload)\\nThe server responded "
        "with: {'ok': False, 'error': 'method_deprecated'}\", error_type=<SupersetErrorType."
        "REPORT_NOTIFICATION_ERROR: 'REPORT_NOTIFICATION_ERROR'>, level=<ErrorLevel.WARNING: 'warning'>, "
        "extra=None)]",
        Category.CODE_ERROR,
        "patch",
    ),
    (
        "https://github.com/phallstrom/slackistrano/issues/80",
        "[slackistrano] Slack API Failure!\n[slackistrano]   URI: https://hooks.slack.com/services/\n"
        "[slackistrano]   Code: 404\n[slackistrano]   Message: Not Found\n[slackistrano]   Body: channel_not_found\n",
        Category.CONFIG_MISSING,
        "escalate",
    ),
    (
        # the provider's webhook hook (apache-airflow-providers-slack, hooks/slack_webhook.py check_webhook_response)
        "https://github.com/apache/airflow/blob/main/providers/slack/src/airflow/providers/slack/hooks/slack_webhook.py",
        "airflow.exceptions.AirflowException: Response body: 'invalid_token', Status Code: 403. See: "
        "https://api.slack.com/messaging/webhooks#handling_errors",
        Category.INFRA_AUTH,
        "escalate",
    ),
]


@pytest.mark.parametrize(("source", "text", "category", "remediation"), POSTED, ids=[p[0] for p in POSTED])
def test_slack_codes_decide(source, text, category, remediation):
    found = triage_text(text)
    assert (found.category, found.remediation.value) == (category, remediation), source
    assert found.decided_by.startswith("Slack error")


@pytest.mark.parametrize(
    "text",
    [
        "acme.ApiError: request failed, body: internal_error",  # a Slack-looking code outside Slack
        "requests.exceptions.HTTPError: 500 Server Error: Internal Server Error for url: https://api.acme.io/x",
    ],
)
def test_a_slack_looking_code_outside_slack_decides_nothing(text):
    assert slack.find("", text) is None
    assert "Slack" not in triage_text(text).decided_by


def test_every_code_has_a_category_and_the_source_of_slack_s_tables():
    assert all(isinstance(v.category, Category) and "api.slack.com" in v.source for v in slack.CODES.values())
    assert slack.CODES["not_in_channel"].category == Category.INFRA_AUTH
