"""detect-secrets' maintained detectors, used as a library: its format plugins over the whole
text, its keyword plugin on the lines that name a secret, its heuristic filters on every hit.

Only the secret values come back (detect-secrets reports values, not spans); the caller
replaces them wherever they occur, so a token seen once with its key is also hidden where it
appears again without one.
"""

from __future__ import annotations

import re
from functools import lru_cache

from detect_secrets.filters.heuristic import is_likely_id_string
from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.cloudant import CloudantDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.ibm_cloud_iam import IbmCloudIamDetector
from detect_secrets.plugins.ibm_cos_hmac import IbmCosHmacDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.keyword import KeywordDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.softlayer import SoftlayerDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

from patchit_provider.engine.redaction.benign import is_benign_token, is_harmless_value

# Not used: PrivateKeyDetector (reports the BEGIN line only; rules.KEY_BLOCKS masks the block),
# IPPublicDetector (an address is evidence, not a secret), the high-entropy plugins (quoted
# strings only; PATCHIT's entropy net covers unquoted log text).
_FORMAT_PLUGINS: tuple[type[RegexBasedDetector], ...] = (
    ArtifactoryDetector,
    AWSKeyDetector,
    AzureStorageKeyDetector,
    BasicAuthDetector,
    CloudantDetector,
    DiscordBotTokenDetector,
    GitHubTokenDetector,
    GitLabTokenDetector,
    IbmCloudIamDetector,
    IbmCosHmacDetector,
    JwtTokenDetector,
    MailchimpDetector,
    NpmDetector,
    OpenAIDetector,
    PypiTokenDetector,
    SendGridDetector,
    SlackDetector,
    SoftlayerDetector,
    SquareOAuthDetector,
    StripeDetector,
    TelegramBotTokenDetector,
    TwilioKeyDetector,
)
# Plugins whose patterns need a digit to tell a token from an upper-case word (APPLICATION...).
_NEEDS_DIGIT = (ArtifactoryDetector, DiscordBotTokenDetector, TwilioKeyDetector, TelegramBotTokenDetector)
_KEYWORD_LINE = re.compile(
    r"(?i)api_?key|auth_?key|service_?key|account_?key|db_?key|database_?key|priv_?key|private_?key|client_?key|"
    r"db_?pass|database_?pass|key_?pass|password|passwd|pwd|secret|contrase"
)


@lru_cache(maxsize=1)
def _plugins() -> tuple[RegexBasedDetector, ...]:
    return tuple(cls() for cls in _FORMAT_PLUGINS)


@lru_cache(maxsize=1)
def _keyword() -> KeywordDetector:
    return KeywordDetector()


def _usable(plugin: RegexBasedDetector, value: str) -> bool:
    value = value.strip()
    if len(value) < 8 or is_benign_token(value):
        return False
    if isinstance(plugin, _NEEDS_DIGIT) and not any(c.isdigit() for c in value):
        return False
    if isinstance(plugin, BasicAuthDetector) and is_harmless_value(value):
        return False
    return True


def format_hits(text: str) -> set[str]:
    """Secret values the format plugins find anywhere in `text`."""
    found: set[str] = set()
    for plugin in _plugins():
        for value in plugin.analyze_string(text):
            if isinstance(value, str) and _usable(plugin, value):
                found.add(value.strip())
    return found


def keyword_hits(text: str) -> set[str]:
    """Values the keyword plugin finds on lines naming a secret (`password = "..."`, quoted)."""
    found: set[str] = set()
    keyword = _keyword()
    seen: set[int] = set()
    for match in _KEYWORD_LINE.finditer(text):
        start = text.rfind("\n", 0, match.start()) + 1
        if start in seen:
            continue
        seen.add(start)
        end = text.find("\n", match.end())
        line = text[start : end if end != -1 else len(text)]
        if len(line) > 2000:
            continue  # a minified blob: the assignment and entropy rules handle it
        for value in keyword.analyze_string(line):
            if not value or is_harmless_value(value, line) or len(value) < 4:
                continue
            if is_likely_id_string(value, line):  # quoted values only: never an indirect reference
                continue
            found.add(value)
    return found
