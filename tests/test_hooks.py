"""Hooks between ceremonies: every listener hears, one failing listener does not silence the others."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from bot import hooks
from storage import outbox
from storage.db import Database


@pytest.fixture
def clean_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hooks, "_answer_listeners", [])
    monkeypatch.setattr(hooks, "_prompt_sections", [])


EVENT = hooks.StandupAnswerRecorded(
    team_id="T1", channel_id="C1", report_channel_id="C1", standup_id=1, run_id=1, answer_id=1, user_id="U1",
    local_date=date(2026, 12, 1), blocker_text="waiting on review", report_parent_key="standup.parent:1",
    answer_key="standup.answer:1", is_edit=False, now=datetime(2026, 12, 1, 9, tzinfo=UTC),
)


@pytest.mark.usefixtures("clean_hooks")
def test_a_failing_listener_does_not_stop_the_next(db: Database) -> None:
    heard: list[str | None] = []

    def broken(session: Session, event: hooks.StandupAnswerRecorded) -> None:
        outbox.add(session, team_id="T1", key="broken", kind="test", channel="C1", now=event.now, text="half done")
        raise RuntimeError("boom")

    def tracker(session: Session, event: hooks.StandupAnswerRecorded) -> None:
        heard.append(event.blocker_text)
        outbox.add(session, team_id="T1", key="tracker", kind="test", channel="C1", now=event.now, text="heard")

    hooks.on_standup_answer(broken)
    hooks.on_standup_answer(tracker)
    hooks.on_standup_answer(tracker)
    with db.transaction() as session:  # inside the answer's transaction
        hooks.standup_answer_recorded(session, EVENT)
    assert heard == ["waiting on review"]
    with db.transaction() as session:  # the failing listener's writes were undone, the others' kept
        assert (outbox.state_of(session, key="broken"), outbox.state_of(session, key="tracker")) == (None, "pending")


@pytest.mark.usefixtures("clean_hooks")
def test_prompt_sections_are_gathered_in_order(db: Database) -> None:
    context = hooks.PromptContext(team_id="T1", channel_id="C1", standup_id=1, user_id="U1",
                                  local_date=date(2026, 12, 1))
    hooks.add_prompt_section(lambda session, ctx: [{"type": "divider"}])
    hooks.add_prompt_section(lambda session, ctx: [{"type": "section", "text": {"type": "mrkdwn", "text": ctx.user_id}}])
    with db.reading() as session:
        blocks = hooks.prompt_sections(session, context)
    assert [b["type"] for b in blocks] == ["divider", "section"]
    assert blocks[1]["text"]["text"] == "U1"
