"""Logging set-up: plain text or one JSON object a line, with workspace, channel and user where known."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import IO

from bot.server.requestlog import ContextFilter

CONTEXT_FIELDS = ("team", "channel", "user", "listener", "request_id")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:  # already formatted (and redacted) by bot.server.redact
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        where = " ".join(f"{name}={getattr(record, name)}" for name in CONTEXT_FIELDS if getattr(record, name, None))
        return f"{line} [{where}]" if where else line


def make_handler(fmt: str = "text", stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing to `stream` (standard error by default) whose records carry the current Slack request."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    return handler


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """Send the app's logs to standard error in the chosen format."""
    handler = make_handler(fmt)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
