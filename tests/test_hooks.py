"""Hooks between ceremonies: every listener hears, one failing listener does not silence the others."""

from __future__ import annotations

from datetime import date

import pytest

from bot import hooks


@pytest.fixture
def clean_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hooks, "_answer_listeners", [])
    monkeypatch.setattr(hooks, "_prompt_sections", [])


EVENT = hooks.StandupAnswerRecorded(
    team_id="T1", channel_id="C1", report_channel_id="C1", standup_id=1, run_id=1, answer_id=1, user_id="U1",
    local_date=date(2026, 12, 1), blocker_text="waiting on review", report_thread_ts="1.1", answer_permalink=None,
    is_edit=False,
)


@pytest.mark.usefixtures("clean_hooks")
def test_a_failing_listener_does_not_stop_the_next() -> None:
    heard: list[str | None] = []

    def broken(runtime, client, event):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    def tracker(runtime, client, event):  # type: ignore[no-untyped-def]
        heard.append(event.blocker_text)

    hooks.on_standup_answer(broken)
    hooks.on_standup_answer(tracker)
    hooks.on_standup_answer(tracker)
    hooks.standup_answer_recorded(None, None, EVENT)  # type: ignore[arg-type]
    assert heard == ["waiting on review"]


@pytest.mark.usefixtures("clean_hooks")
def test_prompt_sections_are_gathered_in_order() -> None:
    context = hooks.PromptContext(team_id="T1", channel_id="C1", standup_id=1, user_id="U1",
                                  local_date=date(2026, 12, 1))
    hooks.add_prompt_section(lambda runtime, ctx: [{"type": "divider"}])
    hooks.add_prompt_section(lambda runtime, ctx: [{"type": "section", "text": {"type": "mrkdwn", "text": ctx.user_id}}])
    blocks = hooks.prompt_sections(None, context)  # type: ignore[arg-type]
    assert [b["type"] for b in blocks] == ["divider", "section"]
    assert blocks[1]["text"]["text"] == "U1"
