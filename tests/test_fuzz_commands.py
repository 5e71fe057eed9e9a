"""Every slash command, fed arbitrary text over HTTP: always an answer, never an exception or an error page."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.devtools.harness import Cadence
from bot.listeners import all_commands

COMMANDS = all_commands()
NASTY = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from(list("\"'“”„‘’`<>@#|\\\n\t\x00\x1b-")),
    max_size=400,
)
LONG = st.text(min_size=3000, max_size=6000, alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)))


def subcommands(command) -> list[str]:  # type: ignore[no-untyped-def]
    """The first word after the command in each usage line: `start`, `done`, `away`..."""
    words = set()
    for usage in command.usage:
        parts = usage.split()
        if len(parts) > 1 and parts[0] == command.name:
            words.add(parts[1].strip("[]<>"))
    return sorted(words)


def texts_for(command) -> st.SearchStrategy[str]:  # type: ignore[no-untyped-def]
    known = subcommands(command)
    prefixed = st.tuples(st.sampled_from(known or [""]), NASTY).map(lambda pair: f"{pair[0]} {pair[1]}")
    return st.one_of(NASTY, prefixed, LONG)


def answered_without_failing(cadence: Cadence, command_name: str, text: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.clear()
    reply = cadence.command(command_name, text, user="U1", channel="C1")
    assert reply.status == 200, (command_name, text, reply.body[:300])
    failures = [r for r in caplog.records if r.name == "cadence.errors" and r.levelno >= logging.ERROR]
    assert failures == [], (command_name, text, [r.getMessage() for r in failures])
    said = [r.get("text", "") for r in cadence.fake.responses()]
    assert not any("Something went wrong" in s for s in said), (command_name, text)


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
def test_any_text_gets_an_answer(cadence: Cadence, command, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    cadence.fake.add_user("U1", "tess")
    caplog.set_level(logging.INFO)

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                     HealthCheck.too_slow])
    @given(text=texts_for(command))
    def run(text: str) -> None:
        answered_without_failing(cadence, command.name, text, caplog)

    run()


def test_the_fuzzer_notices_a_failure(cadence: Cadence, caplog: pytest.LogCaptureFixture) -> None:
    """A listener that breaks on some text is caught by the same check (so the check can fail)."""

    def fragile(ack, command):  # type: ignore[no-untyped-def]
        ack()
        if "!!" in command["text"]:
            raise ValueError("bang")

    cadence.app.command("/fragile")(fragile)
    caplog.set_level(logging.INFO)
    answered_without_failing(cadence, "/fragile", "fine", caplog)
    with pytest.raises(AssertionError):
        answered_without_failing(cadence, "/fragile", "bad!!", caplog)
