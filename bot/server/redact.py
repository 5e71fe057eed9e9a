"""Logs never carry a token or a secret, nor what people wrote as the Slack libraries send and receive it: every log
record is redacted as it is made, whatever handler prints it and at every level."""

from __future__ import annotations

import ast
import json
import logging
import re
import threading
from typing import Any

from bot.server.settings import Settings

REDACTED = "[redacted]"
# Bot, user, app-config and refresh tokens (xoxb-, xoxp-, xoxa-, xoxr-, xoxe-, xoxe.xoxb-…) and app-level tokens;
# and GitHub App installation tokens (ghs_…), which githubkit creates and renews hourly out of sight.
TOKEN_PATTERN = re.compile(r"xox[abpre](?:\.xox[abp])?-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|ghs_[A-Za-z0-9]{20,}")
# Secrets shorter than this are not redacted literally: they would blank out ordinary words.
MIN_SECRET_LENGTH = 8

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


# At DEBUG slack_sdk logs each Web API request and response whole, under the request context of the person acting:
# "My cards" in an anonymous retro would log the cards' text beside their author. Of a body only these keys' plain
# values stay (who and where, not what); every other value becomes ELIDED.
KEPT_KEYS = frozenset({
    "ok", "error", "warning", "needed", "provided", "channel", "user", "users", "ts", "thread_ts", "view_id",
    "external_id", "trigger_id", "team", "team_id", "limit", "cursor", "types", "name", "include_locale",
})
ELIDED = "…"
# Any other line of the Slack libraries is cut here: some of them quote a whole payload ("Unhandled request (…)").
LIBRARY_LINE_LIMIT = 200
_SENT = re.compile(r"Sending a request - url: (?P<url>\S+?), (?P<rest>.*)", re.DOTALL)
_RECEIVED = re.compile(r"Received the following response - status: (?P<status>\d+), headers: .*?, body: (?P<body>.*)",
                       re.DOTALL)
_PART = re.compile(r"(?:^|, )(query_params|body_params|files|json_body|data|body|headers): ")


def library_line(message: str) -> str:
    """A log line of slack_sdk or slack_bolt without the text people wrote (bodies kept only as ids and errors)."""
    if sent := _SENT.fullmatch(message):
        parts = _PART.split(sent["rest"])[1:]
        shown = ", ".join(f"{name}: {_elided(value)}" for name, value in zip(parts[::2], parts[1::2], strict=False))
        return f"Sending a request - url: {sent['url']}, {shown}"
    if received := _RECEIVED.fullmatch(message):
        return f"Received the following response - status: {received['status']}, body: {_elided(received['body'])}"
    if len(message) > LIBRARY_LINE_LIMIT:
        return message[:LIBRARY_LINE_LIMIT] + f" {ELIDED} [{len(message) - LIBRARY_LINE_LIMIT} characters not logged]"
    return message


def _elided(text: str) -> str:
    """A logged dict (Python or JSON) with only the plain values of KEPT_KEYS; anything unreadable as one, elided."""
    text = text.strip()
    if text in ("None", "{}", "null", ""):
        return text
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return ELIDED
    if not isinstance(value, dict):
        return ELIDED
    return repr({key: value[key] if key in KEPT_KEYS and isinstance(value[key], str | int | float | bool | None)
                 else ELIDED for key in value})


def redact(text: str) -> str:
    """`text` with every Slack token and every configured secret replaced by `[redacted]`."""
    text = TOKEN_PATTERN.sub(REDACTED, text)
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def add_secrets(*secrets: str | None) -> None:
    """Redact these literal values too (signing secret, client secret, keys…)."""
    with _lock:
        _secrets.update(s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH)


def install(settings: Settings) -> None:
    """Redact every log record of this process from now on, including the secrets of `settings`."""
    global _installed
    keys = (settings.cadence_encryption_key or "").split(",")
    add_secrets(
        settings.slack_signing_secret,
        settings.slack_client_secret,
        settings.slack_state_secret,
        settings.slack_bot_token,
        settings.slack_app_token,
        settings.cadence_anonymity_secret,
        *(key.strip() for key in keys),
    )
    with _lock:
        if _installed:
            return
        make_record = logging.getLogRecordFactory()

        def redacting_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return _redacted(make_record(*args, **kwargs))

        logging.setLogRecordFactory(redacting_record)
        _installed = True


def _redacted(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        return record  # a malformed call; logging reports it when the record is formatted
    if record.name.startswith(("slack_sdk", "slack_bolt")):
        message = library_line(message)
    record.msg = redact(message)
    record.args = None
    if record.exc_info and record.exc_info[1] is not None:
        # The traceback is formatted (and redacted) now; formatters print exc_text, so exc_info is dropped.
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        record.exc_info = None
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record
