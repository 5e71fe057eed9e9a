"""Slash commands as data, so that `help` is built from the handlers themselves and cannot drift."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SlashCommand:
    """A slash command: its name, its handler (whose docstring's first line is its help) and its usage lines."""

    name: str
    handler: Callable[..., Any]
    usage: tuple[str, ...]

    @property
    def summary(self) -> str:
        doc = (self.handler.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


def first_word(text: str | None) -> tuple[str, str]:
    """The subcommand (lower-cased) and the rest of a slash command's text."""
    parts = (text or "").strip().split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0].lower(), parts[1] if len(parts) > 1 else ""
