"""Work nobody waits for runs after what is queued, once per person however many times it was asked for."""

from __future__ import annotations

import logging
import threading

import pytest

from bot.server.background import BackgroundWork


def test_work_already_waiting_for_the_same_key_is_not_queued_twice() -> None:
    background = BackgroundWork(threads=1)
    release, ran = threading.Event(), []
    background.submit("blocker", lambda: release.wait(5) and None)  # holds the only thread: the rest waits

    background.submit(("home", "T1", "U1"), lambda: ran.append("U1 first"))
    background.submit(("home", "T1", "U1"), lambda: ran.append("U1 again"))
    background.submit(("home", "T1", "U2"), lambda: ran.append("U2"))
    release.set()
    background.settle()
    background.shutdown()

    assert ran == ["U1 first", "U2"]


def test_a_change_after_the_work_started_gets_a_run_of_its_own() -> None:
    background = BackgroundWork(threads=1)
    started, release, ran = threading.Event(), threading.Event(), []

    def first() -> None:
        started.set()
        release.wait(5)
        ran.append("first")

    background.submit("home U1", first)
    started.wait(5)
    background.submit("home U1", lambda: ran.append("second"))  # the first run may have read the older state
    release.set()
    background.settle()
    background.shutdown()

    assert ran == ["first", "second"]


def test_a_failure_is_logged_and_later_work_still_runs(caplog: pytest.LogCaptureFixture) -> None:
    background = BackgroundWork(threads=1)
    ran = []

    def broken() -> None:
        raise RuntimeError("Slack said no")

    with caplog.at_level(logging.ERROR, logger="cadence.background"):
        background.submit("home U1", broken)
        background.submit("home U2", lambda: ran.append("U2"))
        background.settle()
    background.shutdown()

    assert ran == ["U2"]
    assert [r.getMessage() for r in caplog.records] == ["background work home U1 failed"]
