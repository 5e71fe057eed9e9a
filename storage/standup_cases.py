"""Stand-up use cases: each changes rows and queues the messages the change causes, in the caller's transaction.

Every message goes through the outbox (storage.outbox) with a deterministic key, so that several processes (or a
rerun after a crash) doing the same work queue each message once. The message content is built when it is sent by
the renderers of bot.jobs.standup (named here by `render`), from the state of that moment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ceremonies import standup as domain
from storage import outbox
from storage import standup as store

PROMPT, REMINDER, PARENT, SUMMARY, ANSWER, GONE = (
    "standup.prompt", "standup.reminder", "standup.parent", "standup.summary", "standup.answer", "standup.gone")
ANSWER_EDIT = "standup.answer_edit"


def prompt_key(standup_id: int, user_id: str, day: date) -> str:
    return f"{PROMPT}:{standup_id}:{user_id}:{day.isoformat()}"


def reminder_key(standup_id: int, user_id: str, day: date) -> str:
    return f"{REMINDER}:{standup_id}:{user_id}:{day.isoformat()}"


def parent_key(run_id: int) -> str:
    return f"{PARENT}:{run_id}"


def answer_key(answer_id: int) -> str:
    return f"{ANSWER}:{answer_id}"


def delete_standup(session: Session, *, team_id: str, standup_id: int) -> bool:
    """Delete a stand-up, everything recorded for it and every message still queued for it (a deleted stand-up
    prompts nobody; and on SQLite a new stand-up may get its id, whose keys must be free)."""
    run_ids = session.scalars(select(store.StandupRun.id).where(store.StandupRun.team_id == team_id,
                                                                store.StandupRun.standup_id == standup_id)).all()
    answer_ids = session.scalars(select(store.StandupAnswer.id).where(
        store.StandupAnswer.team_id == team_id, store.StandupAnswer.standup_id == standup_id)).all()
    outbox.forget(session, team_id=team_id,
                  keys=[*(parent_key(r) for r in run_ids), *(f"{SUMMARY}:{r}" for r in run_ids),
                        *(answer_key(a) for a in answer_ids)],
                  prefixes=[f"{PROMPT}:{standup_id}:", f"{REMINDER}:{standup_id}:", f"{GONE}:{standup_id}:"])
    return store.delete_standup(session, team_id=team_id, standup_id=standup_id)


@dataclass(frozen=True)
class AnswerRecorded:
    """What recording an answer did: which answer, whether it was an edit, and the keys of its messages."""

    answer_id: int
    standup_id: int
    channel_id: str
    report_channel_id: str
    run_id: int
    local_date: date
    is_edit: bool
    late: bool
    blocker_text: str | None
    answer_key: str
    report_parent_key: str | None


def queue_parent(session: Session, *, run: store.StandupRun, now: datetime) -> str:
    """The day's report parent, posted once (rendered from the day's state when it goes out); its key."""
    key = parent_key(run.id)
    outbox.add(session, team_id=run.team_id, key=key, kind=PARENT, channel=run.report_channel_id, now=now,
               render=PARENT, args={"team_id": run.team_id, "run_id": run.id})
    return key


def redraw_parent(session: Session, *, run: store.StandupRun, now: datetime) -> None:
    """Redraw the day's parent with the current counts (once, however many changes ask before it goes out)."""
    key = queue_parent(session, run=run, now=now)
    outbox.redraw(session, team_id=run.team_id, key=f"redraw:{key}", kind=f"{PARENT}.redraw", render=PARENT,
                  args={"team_id": run.team_id, "run_id": run.id}, now=now,
                  channel=run.report_channel_id if run.report_ts else "", ts=run.report_ts,
                  ref_key=None if run.report_ts else key)


def person_gone(session: Session, *, team_id: str, standup_id: int, user_id: str, now: datetime) -> bool:
    """A participant's account is gone: they get no more prompts, and the stand-up's owner is told once."""
    standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
    if standup is None or not store.mark_gone(session, team_id=team_id, standup_id=standup_id, user_id=user_id,
                                              now=now):
        return False
    outbox.add(session, team_id=team_id, key=f"{GONE}:{standup_id}:{user_id}", kind=GONE, channel=standup.owner_id,
               now=now, render=GONE, args={"user_id": user_id, "channel_id": standup.channel_id})
    return True


def queue_prompts(session: Session, *, standup: store.Standup, config: domain.StandupConfig,
                  due: Iterable[domain.DuePrompt], closes: dict[date, datetime], now: datetime) -> int:
    """Open the days' runs (and their parents), record each due prompt and queue it; the number newly queued.

    A prompt already queued (by another process, or an earlier tick) is left alone: its key is taken.
    """
    runs = {day: store.open_run(session, team_id=standup.team_id, standup=standup, local_date=day,
                                closes_at=closes_at, now=now) for day, closes_at in sorted(closes.items())}
    if config.report_style is domain.ReportStyle.THREAD:
        for run in runs.values():
            queue_parent(session, run=run, now=now)
    # One statement, in one order for every process, so that two of them queueing the same keys cannot deadlock.
    ordered = sorted(due, key=lambda p: prompt_key(standup.id, p.user_id, p.local_date))
    queued = outbox.add_many(session, [
        outbox.Queued(team_id=standup.team_id, key=prompt_key(standup.id, p.user_id, p.local_date), kind=PROMPT,
                      channel=p.user_id, render=PROMPT, due_at=min(now, p.due_at),
                      args={"team_id": standup.team_id, "standup_id": standup.id, "user_id": p.user_id,
                            "day": p.local_date.isoformat()})
        for p in ordered], now=now)
    fresh = [p for p in ordered if prompt_key(standup.id, p.user_id, p.local_date) in queued]
    if fresh:
        recorded = store.prompted(session, team_id=standup.team_id, standup_id=standup.id,
                                  dates={p.local_date for p in fresh})
        rows = [dict(team_id=standup.team_id, standup_id=standup.id, run_id=runs[p.local_date].id, user_id=p.user_id,
                     local_date=p.local_date, timezone=p.timezone, due_at=p.due_at, closes_at=p.closes_at,
                     sent_at=now, dm_channel_id="", dm_ts="", reminded_at=None)
                for p in fresh if (p.user_id, p.local_date) not in recorded]
        if rows:  # the table's insert for many rows: one statement, without loading them back as objects
            session.execute(insert(store.StandupPrompt.__table__), rows)
    return len(fresh)


def prompt_sent(session: Session, *, team_id: str, standup_id: int, user_id: str, day: date, channel: str,
                ts: str) -> None:
    """Remember where a prompt is (the DM and its ts)."""
    prompt = store.prompt_of(session, team_id=team_id, standup_id=standup_id, user_id=user_id, local_date=day)
    if prompt is not None:
        prompt.dm_channel_id, prompt.dm_ts = channel, ts


@dataclass(frozen=True)
class PromptSent:
    """Where one prompt landed, for `prompts_sent`."""

    standup_id: int
    user_id: str
    day: date
    channel: str
    ts: str


def prompts_sent(session: Session, *, team_id: str, sent: Iterable[PromptSent]) -> None:
    """`prompt_sent` for many prompts of a workspace: read in one statement, written in one flush."""
    sent = list(sent)
    prompts = store.prompts_of(session, team_id=team_id, keys=[(s.standup_id, s.user_id, s.day) for s in sent])
    for one in sent:
        prompt = prompts.get((one.standup_id, one.user_id, one.day))
        if prompt is not None:
            prompt.dm_channel_id, prompt.dm_ts = one.channel, one.ts


def queue_reminders(session: Session, *, team_id: str, standup: store.Standup,
                    prompts: Iterable[store.StandupPrompt], now: datetime) -> int:
    """Queue one reminder to each of `prompts` and record it; the number newly queued."""
    queued = 0
    for prompt in sorted(prompts, key=lambda p: reminder_key(standup.id, p.user_id, p.local_date)):
        if outbox.add(session, team_id=team_id, key=reminder_key(standup.id, prompt.user_id, prompt.local_date),
                      kind=REMINDER, channel=prompt.user_id, now=now, render=REMINDER,
                      args={"standup_id": standup.id, "channel_id": standup.channel_id,
                            "day": prompt.local_date.isoformat()}):
            store.mark_reminded(session, team_id=team_id, prompt_id=prompt.id, now=now)
            queued += 1
    return queued


def close_run(session: Session, *, team_id: str, run_id: int, now: datetime) -> bool:
    """Close a day at the end of its window: the parent (or, one message per answer, a summary) names who did not
    answer and who was away. False when another process closed it first."""
    closed = session.execute(
        update(store.StandupRun).where(store.StandupRun.team_id == team_id, store.StandupRun.id == run_id,
                                       store.StandupRun.closed_at.is_(None))
        .values(closed_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if not closed:
        return False
    run = store.run_by_id(session, team_id=team_id, run_id=run_id)
    standup = store.standup_by_id(session, team_id=team_id, standup_id=run.standup_id) if run else None
    if run is None or standup is None:
        return True
    session.refresh(run)
    if domain.ReportStyle(standup.report_style) is domain.ReportStyle.PER_ANSWER:
        outbox.add(session, team_id=team_id, key=f"{SUMMARY}:{run.id}", kind=SUMMARY, channel=run.report_channel_id,
                   now=now, render=PARENT, args={"team_id": team_id, "run_id": run.id})
    else:
        redraw_parent(session, run=run, now=now)
    return True


def record_answer(session: Session, *, team_id: str, standup: store.Standup, config: domain.StandupConfig,
                  user_id: str, day: date, answers: dict[int, str], timezone: str, now: datetime
                  ) -> AnswerRecorded | None:
    """Store a participant's answers (or their edit) and queue what it changes in the report: the answer's post (or
    its update in place) and the day's parent with the new count. None when these answers were already stored: a
    repeated submission changes nothing and sends nothing."""
    run = store.run_of(session, team_id=team_id, standup_id=standup.id, local_date=day)
    if run is None:  # answered from a prompt of a run that the scheduler has not opened (should not happen)
        window = domain.answer_window(config, day, timezone)
        run = store.open_run(session, team_id=team_id, standup=standup, local_date=day, closes_at=window.closes_at,
                             now=now)
    prompt = store.prompt_of(session, team_id=team_id, standup_id=standup.id, user_id=user_id, local_date=day)
    closes_at = prompt.closes_at if prompt else run.closes_at
    stored = store.record_answer(
        session, team_id=team_id, run=run, user_id=user_id, questions=config.questions, answers=answers,
        late=domain.is_late(closes_at=closes_at, submitted_at=now), now=now)
    if stored is None:
        return None
    answer, is_edit = stored
    thread = config.report_style is domain.ReportStyle.THREAD
    parent = queue_parent(session, run=run, now=now) if thread else None
    key = answer_key(answer.id)
    args = {"team_id": team_id, "answer_id": answer.id}
    if answer.report_ts is None:
        outbox.add(session, team_id=team_id, key=key, kind=ANSWER, now=now, render=ANSWER, args=args,
                   channel="" if thread else run.report_channel_id, ref_key=parent)
    if is_edit:
        outbox.redraw(session, team_id=team_id, key=f"redraw:{key}", kind=ANSWER_EDIT, render=ANSWER, args=args,
                      now=now, channel=answer.report_channel_id or "", ts=answer.report_ts,
                      ref_key=None if answer.report_ts else key)
    if thread:
        redraw_parent(session, run=run, now=now)
    items = store.answer_items(session, team_id=team_id, answer_id=answer.id)
    # The answer to the blocker question as asked that day; None when the stand-up has no blocker question.
    blocker = next((i.text for i in items if i.is_blocker), None if config.blocker_index is None else "")
    return AnswerRecorded(answer_id=answer.id, standup_id=standup.id, channel_id=standup.channel_id,
                          report_channel_id=run.report_channel_id, run_id=run.id, local_date=run.local_date,
                          is_edit=is_edit, late=answer.late, blocker_text=blocker, answer_key=key,
                          report_parent_key=parent)


def answer_sent(session: Session, *, team_id: str, answer_id: int, channel: str, ts: str) -> None:
    """Remember where an answer is in the report."""
    answer = store.answer_by_id(session, team_id=team_id, answer_id=answer_id)
    if answer is not None:
        answer.report_channel_id, answer.report_ts = channel, ts


def answer_permalink(session: Session, *, team_id: str, answer_id: int, permalink: str) -> None:
    """Keep the link to an answer in the report (Slack's, asked once)."""
    answer = store.answer_by_id(session, team_id=team_id, answer_id=answer_id)
    if answer is not None:
        answer.permalink = permalink[:store.PERMALINK_LENGTH] or None


def answer_updated(session: Session, *, team_id: str, answer_id: int) -> None:
    """The report shows the answer as edited."""
    answer = store.answer_by_id(session, team_id=team_id, answer_id=answer_id)
    if answer is not None:
        answer.report_stale = False


def parent_sent(session: Session, *, team_id: str, run_id: int, channel: str, ts: str) -> None:
    """Remember where the day's parent is."""
    run = store.run_by_id(session, team_id=team_id, run_id=run_id)
    if run is not None:
        run.report_channel_id, run.report_ts = channel, ts
