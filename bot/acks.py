"""An acknowledgement that stays given: a workaround for a race in Bolt's thread listener runner.

When a listener raises after calling `ack()`, slack_bolt (1.x, listener/thread_runner.py) sets `ack.response` back
to None. If that happens within Bolt's 10 ms poll, the request thread never sees the ack: Slack waits the full
3 seconds and gets a 404 "unhandled request", although the person was acknowledged and then told about the error.
That is exactly what a failing database does (the first query fails at once), so the ack is made sticky.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext
from slack_bolt.context.ack import Ack
from slack_bolt.response import BoltResponse


class StickyAck(Ack):
    """An Ack whose response, once set, is never taken back."""

    @property  # type: ignore[override]
    def response(self) -> BoltResponse | None:
        return self.__dict__.get("_response")

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        if value is not None or self.__dict__.get("_response") is None:
            self.__dict__["_response"] = value


def keep_acks(context: BoltContext, next: Callable[[], Any]) -> Any:
    """Bolt middleware: give every request a StickyAck before any listener runs."""
    context["ack"] = StickyAck()
    return next()
