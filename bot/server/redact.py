"""Logs never carry a token or a secret: every log record is redacted as it is made, whatever handler prints it."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from bot.server.settings import Settings

REDACTED = "[redacted]"
# Bot, user, app-config and refresh tokens (xoxb-, xoxp-, xoxa-, xoxr-, xoxe-, xoxe.xoxb-…) and app-level tokens.
TOKEN_PATTERN = re.compile(r"xox[abpre](?:\.xox[abp])?-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+")
# Secrets shorter than this are not redacted literally: they would blank out ordinary words.
MIN_SECRET_LENGTH = 8

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


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
        settings.retro_anonymity_secret,
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
    record.msg = redact(message)
    record.args = None
    if record.exc_info and record.exc_info[1] is not None:
        # The traceback is formatted (and redacted) now; formatters print exc_text, so exc_info is dropped.
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        record.exc_info = None
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record
