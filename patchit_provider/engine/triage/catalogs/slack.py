"""Slack Web API and incoming-webhook error codes -> category.

Slack answers a failed call with a machine-readable code: the Web API in its JSON body
(`{"ok": false, "error": "not_in_channel"}`, https://api.slack.com/web#responses, each method's
"Errors" table, e.g. https://api.slack.com/methods/chat.postMessage#errors), an incoming webhook
as the plain-text body of a 400/403/404/410 (https://api.slack.com/messaging/webhooks#handling_errors).
slack_sdk prints the body (`SlackApiError: The request to the Slack API failed. ... The server
responded with: {'ok': False, 'error': 'channel_not_found'}`); the Airflow Slack provider's webhook
hook prints `Response body: 'no_service', Status Code: 404`. Only codes of this table count, and
only in an error that is Slack's.
"""

from __future__ import annotations

import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs.base import Verdict, each

SOURCE = (
    "https://api.slack.com/web#responses; https://api.slack.com/methods/chat.postMessage#errors; "
    "https://api.slack.com/messaging/webhooks#handling_errors"
)


def _v(category: C, why: str, remediation: Remediation | None = None, confidence: float = 0.85) -> Verdict:
    return Verdict(category, confidence, SOURCE, f"Slack {why}", remediation)


CODES: dict[str, Verdict] = {
    **each(
        "not_authed invalid_auth account_inactive token_revoked token_expired invalid_token no_permission "
        "missing_scope not_allowed_token_type access_denied ekm_access_denied team_access_not_granted "
        "org_login_required restricted_action action_prohibited posting_to_general_channel_denied not_in_channel",
        _v(C.INFRA_AUTH, "refused the token, its scopes or the bot's membership of the channel"),
    ),
    # "Value passed for channel was invalid": the configured channel (or user) is wrong, archived or gone;
    # a private channel is also invisible to a bot that was never invited to it
    **each(
        "channel_not_found is_archived channel_is_archived user_not_found users_not_found no_service "
        "no_service_id no_team team_not_found",
        _v(
            C.CONFIG_MISSING,
            "does not know the configured channel, user or webhook (wrong, archived or removed; a private "
            "channel needs the bot invited)",
        ),
    ),
    **each(
        "ratelimited rate_limited internal_error fatal_error service_unavailable request_timeout",
        _v(C.INFRA_NETWORK, "is rate limiting or failed on its side (transient)", Remediation.RETRY),
    ),
    **each(
        "invalid_arguments invalid_arg_name invalid_array_arg invalid_charset invalid_form_data invalid_post_type "
        "missing_post_type invalid_json json_not_object invalid_blocks invalid_blocks_format invalid_attachments "
        "invalid_payload msg_too_long no_text too_many_attachments unknown_method method_deprecated "
        "deprecated_endpoint",
        _v(C.CODE_ERROR, "rejected the call the code makes (arguments, payload or a retired method)"),
    ),
}

# Slack's name, or its Web API envelope (a top-level `ok: false` beside `error`), which slack_sdk prints on
# a line of its own after the URL line
_SLACK = re.compile(r"""slack|["']ok["']\s*:\s*(?:False|false)\s*,\s*["']error["']\s*:""", re.I)
# the JSON (or Python repr) body's error field; a webhook's plain-text body as the provider or a client prints it
_CODE = re.compile(
    r"""["']error["']\s*:\s*["'](?P<a>[a-z_]+)["']"""
    r"""|Response body:\s*b?["'](?P<b>[a-z_]+)["']"""
    r"""|\b(?:Body|body|response|Response):?\s+["']?(?P<c>[a-z_]+)["']?\s*$""",
    re.M,
)


def find(type_name: str, message: str) -> tuple[str, Verdict] | None:
    """The Slack error code of this table in an error that is Slack's (its name or its envelope)."""
    text = f"{type_name}: {message[:4000]}"
    if not _SLACK.search(text):
        return None
    for match in _CODE.finditer(text):
        name = match["a"] or match["b"] or match["c"]
        if name in CODES:
            return name, CODES[name]
    return None
