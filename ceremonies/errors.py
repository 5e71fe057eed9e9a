"""Typed domain errors; each carries the one clear message the user sees."""

from __future__ import annotations


class CadenceError(Exception):
    """A rule of a ceremony refused the request; `str(error)` is what the user is told."""


class NotFound(CadenceError):
    """The thing asked for does not exist (in this workspace)."""


class NotAllowed(CadenceError):
    """The person may not do this."""


class InvalidInput(CadenceError):
    """What the person typed cannot be used."""
