"""The stand-up's scheduled work and its messages: prompts in each person's timezone, reminders, the day's report
parent and its close, and the answers posted to the report — all through the outbox (storage.outbox).

The job finds what is due and queues it with deterministic keys (storage.standup_cases), so two processes running it
at once, or a rerun after a crash, send each message once. The renderers below build each message from the state
of the moment it is delivered; the hooks record where it landed, or what its failure means.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import hooks
from bot.jobs import outbox as outbox_jobs
from bot.server.runtime import Runtime
from bot.slack.gateway import Slack, SlackFailure, Verdict
from bot.slack.people import PROFILE_MAX_AGE
from bot.views import standup as views
from ceremonies import standup as domain
from storage import calendar, claims
from storage import people as people_store
from storage import standup as store
from storage import standup_cases as cases
from storage.models import Person

log = logging.getLogger("cadence.standup")

BULK_PROFILES_FROM = 20  # with more stale profiles than this, one users.list page fetches 200 at a time
USERS_LIST_PAGE = 200
USERGROUP_RETRY = timedelta(minutes=1)


# -- renderers: each message built from the state of the moment it is sent ------------------------------------------

@outbox_jobs.renderer(cases.PROMPT)
def render_prompt(runtime: Runtime, args: dict[str, Any]) -> outbox_jobs.Message | None:
    """A participant's prompt: the questions' button, yesterday's plan, and what other ceremonies add."""
    team_id, standup_id, user_id, day = args["team_id"], int(args["standup_id"]), args["user_id"], \
        date.fromisoformat(args["day"])
    with runtime.db.reading() as session:
        standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
        if standup is None:
            return None
        # Only the questions: the whole configuration would load every participant for every prompt.
        index = today_question(store.questions_of(session, team_id=team_id, standup_id=standup_id))
        previous = store.previous_answer(session, team_id=team_id, standup_id=standup_id, user_id=user_id,
                                         before=day, position=index) if index is not None else None
        extra = hooks.prompt_sections(session, hooks.PromptContext(
            team_id=team_id, channel_id=standup.channel_id, standup_id=standup_id, user_id=user_id, local_date=day))
    text, blocks = views.prompt_message(standup_id=standup_id, channel_id=standup.channel_id, day=day,
                                        previous_today=previous, extra=extra)
    return outbox_jobs.Message(text=text, blocks=blocks)


@outbox_jobs.renderer(cases.REMINDER)
def render_reminder(runtime: Runtime, args: dict[str, Any]) -> outbox_jobs.Message:
    text, blocks = views.reminder_message(standup_id=int(args["standup_id"]), channel_id=args["channel_id"],
                                          day=date.fromisoformat(args["day"]))
    return outbox_jobs.Message(text=text, blocks=blocks)


@outbox_jobs.renderer(cases.GONE)
def render_gone(runtime: Runtime, args: dict[str, Any]) -> outbox_jobs.Message:
    return outbox_jobs.Message(text=views.gone_message(user_id=args["user_id"], channel_id=args["channel_id"]))


@outbox_jobs.renderer(cases.PARENT)
def render_parent(runtime: Runtime, args: dict[str, Any]) -> outbox_jobs.Message | None:
    """The day's report parent (or, one message per answer, the closing summary) with the current counts."""
    team_id, run_id = args["team_id"], int(args["run_id"])
    with runtime.db.reading() as session:
        run = store.run_by_id(session, team_id=team_id, run_id=run_id)
        if run is None:
            return None
        holiday = run.local_date in calendar.holiday_days(session, team_id=team_id, start=run.local_date,
                                                          end=run.local_date)
        status = store.run_status(session, team_id=team_id, standup_id=run.standup_id, local_date=run.local_date,
                                  holiday=holiday)
    text, blocks = views.parent_message(day=run.local_date, answered=len(status.answered),
                                        expected=len(status.expected), closed=run.closed_at is not None,
                                        missing=status.pending, away=status.away, skipped=status.skipped)
    return outbox_jobs.Message(text=text, blocks=blocks)


@outbox_jobs.renderer(cases.ANSWER)
def render_answer(runtime: Runtime, args: dict[str, Any]) -> outbox_jobs.Message | None:
    """One answer in the report, as it stands (marked late or edited)."""
    team_id, answer_id = args["team_id"], int(args["answer_id"])
    with runtime.db.reading() as session:
        answer = store.answer_by_id(session, team_id=team_id, answer_id=answer_id)
        standup = store.standup_by_id(session, team_id=team_id, standup_id=answer.standup_id) if answer else None
        if answer is None or standup is None:
            return None
        items = store.answer_items(session, team_id=team_id, answer_id=answer_id)
        person = people_store.get_person(session, team_id=team_id, user_id=answer.user_id)
        style = domain.ReportStyle(standup.report_style)
    view = views.AnswerView(user_id=answer.user_id, name=person.display_name if person else answer.user_id,
                            items=tuple((domain.Question(i.question, is_blocker=i.is_blocker), i.text) for i in items),
                            late=answer.late, edited=answer.edited_at is not None)
    text, blocks = views.answer_report(view, day=answer.local_date, standalone=style is domain.ReportStyle.PER_ANSWER)
    return outbox_jobs.Message(text=text, blocks=blocks)


def today_question(questions: tuple[domain.Question, ...]) -> int | None:
    """The question whose answer is "today's plan", shown in the next prompt for reference."""
    for index, question in enumerate(questions):
        if "today" in question.text.lower():
            return index
    return 1 if len(questions) > 1 else None


# -- where messages landed, and what failures mean ---------------------------------------------------------------

def _prompt_args(payload: dict[str, Any]) -> tuple[str, int, str, date]:
    return payload["team_id"], int(payload["standup_id"]), payload["user_id"], date.fromisoformat(payload["day"])


@outbox_jobs.after_sent(cases.PROMPT)
def prompt_sent(session: Session, sent: outbox_jobs.Delivered) -> None:
    team_id, standup_id, user_id, day = _prompt_args(sent.payload)
    cases.prompt_sent(session, team_id=team_id, standup_id=standup_id, user_id=user_id, day=day,
                      channel=sent.channel, ts=sent.ts)


@outbox_jobs.on_failed(cases.PROMPT)
def prompt_failed(session: Session, failed: outbox_jobs.Undelivered) -> None:
    """Slack says the person is gone: no more prompts for them, and the stand-up's owner is told."""
    if failed.answer.verdict is Verdict.PERSON_GONE:
        team_id, standup_id, user_id, _day = _prompt_args(failed.payload)
        cases.person_gone(session, team_id=team_id, standup_id=standup_id, user_id=user_id, now=failed.now)


@outbox_jobs.after_sent(cases.PARENT)
def parent_sent(session: Session, sent: outbox_jobs.Delivered) -> None:
    cases.parent_sent(session, team_id=sent.team_id, run_id=int(sent.key.rsplit(":", 1)[1]), channel=sent.channel,
                      ts=sent.ts)


@outbox_jobs.after_sent(cases.ANSWER)
def answer_sent(session: Session, sent: outbox_jobs.Delivered) -> None:
    cases.answer_sent(session, team_id=sent.team_id, answer_id=int(sent.payload["answer_id"]),
                      channel=sent.channel, ts=sent.ts)


@outbox_jobs.after_sent(cases.ANSWER_EDIT)
def answer_updated(session: Session, sent: outbox_jobs.Delivered) -> None:
    cases.answer_updated(session, team_id=sent.team_id, answer_id=int(sent.payload["answer_id"]))


# -- the jobs ---------------------------------------------------------------------------------------------------------

def run_standups(runtime: Runtime, now: datetime) -> None:
    """Everything stand-ups do on a tick: user groups, prompts, reminders and window closes, each queued once."""
    with runtime.db.reading() as session:
        teams = store.scheduled_workspaces(session)
    for team_id in teams:
        slack = runtime.gateway.for_team(team_id)
        with runtime.db.reading() as session:
            standup_ids = [s.id for s in store.active_standups(session, team_id=team_id)]
        for standup_id in standup_ids:
            sync_usergroup(runtime, slack, team_id=team_id, standup_id=standup_id, now=now)
            queue_due_prompts(runtime, slack, team_id=team_id, standup_id=standup_id, now=now)
            queue_reminders(runtime, team_id=team_id, standup_id=standup_id, now=now)
        close_runs(runtime, team_id=team_id, now=now)


def queue_due_prompts(runtime: Runtime, slack: Slack, *, team_id: str, standup_id: int, now: datetime,
                      force: bool = False) -> int:
    """Queue every prompt due at `now` (and the days' report parents); the number newly queued."""
    with runtime.db.reading() as session:
        standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
        if standup is None:
            return 0
        config = store.config_of(session, standup)
        gone = {p.user_id for p in store.participants_of(session, team_id=team_id, standup_id=standup_id)
                if p.gone_since is not None}
        start, end = (now - timedelta(days=2)).date(), (now + timedelta(days=2)).date()
        holidays = calendar.holiday_days(session, team_id=team_id, start=start, end=end)
        away = store.away_ranges(session, team_id=team_id, user_ids=config.participants, start=start, end=end)
    users = [u for u in config.participants if u not in gone]
    profiles = _profiles(runtime, slack, team_id, users, now)  # cached a day: who left, and everyone's timezone
    left = [u for u in users if u in profiles and (profiles[u] is None or profiles[u].is_deleted)]
    participants = [domain.Participant(u, domain.participant_zone(config, profiles[u].timezone,
                                                                  runtime.settings.default_timezone),
                                       tuple(away.get(u, ())))
                    for u in users if u in profiles and u not in left]
    work = domain.due_prompts(config, participants, now=now, holidays=holidays, force=force)
    closes: dict[date, datetime] = defaultdict(lambda: now)
    for prompt in work.prompts:
        # The day closes when the last timezone's window does, not when the first prompted one's does.
        closes[prompt.local_date] = max([closes[prompt.local_date], prompt.closes_at,
                                         *(domain.answer_window(config, prompt.local_date, p.timezone).closes_at
                                           for p in participants)])
    with runtime.db.transaction() as session:
        for user_id in left:
            cases.person_gone(session, team_id=team_id, standup_id=standup_id, user_id=user_id, now=now)
        done = store.prompted(session, team_id=team_id, standup_id=standup_id,
                              dates={p.local_date for p in work.prompts})
        due = [p for p in work.prompts if (p.user_id, p.local_date) not in done]
        if not due:
            return 0
        standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
        if standup is None:
            return 0
        return cases.queue_prompts(session, standup=standup, config=config, due=due,
                                   closes={p.local_date: closes[p.local_date] for p in due}, now=now)


def queue_reminders(runtime: Runtime, *, team_id: str, standup_id: int, now: datetime) -> int:
    """One reminder, after the delay, to each prompted participant who has neither answered nor skipped."""
    with runtime.db.transaction() as session:
        standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
        if standup is None:
            return 0
        config = store.config_of(session, standup)
        waiting = [p for p in store.awaiting_reminder(session, team_id=team_id, standup_id=standup_id, now=now)
                   if domain.reminder_due(config, due_at=max(p.due_at, p.sent_at), closes_at=p.closes_at, now=now)]
        if not waiting:
            return 0
        away = store.away_ranges(session, team_id=team_id, user_ids={p.user_id for p in waiting},
                                 start=min(p.local_date for p in waiting), end=max(p.local_date for p in waiting))
        waiting = [p for p in waiting if not any(p.local_date in r for r in away.get(p.user_id, ()))]
        return cases.queue_reminders(session, team_id=team_id, standup=standup, prompts=waiting, now=now)


def close_runs(runtime: Runtime, *, team_id: str, now: datetime) -> None:
    """At the end of the answer window, the parent lists who did not answer and who was away (exactly once)."""
    with runtime.db.reading() as session:
        due = [r.id for r in store.runs_to_close(session, team_id=team_id, now=now)]
    for run_id in due:
        with runtime.db.transaction() as session:
            cases.close_run(session, team_id=team_id, run_id=run_id, now=now)


def sync_usergroup(runtime: Runtime, slack: Slack, *, team_id: str, standup_id: int, now: datetime) -> None:
    """Once a (UTC) day, people who joined or left the stand-up's user group join or leave the stand-up."""
    with runtime.db.transaction() as session:
        standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
        if standup is None or not standup.usergroup_id:
            return
        group = standup.usergroup_id
        # Not a message: a daily read of the group that one process does (so a claim, not the outbox).
        key = f"standup.usergroup:{standup_id}:{now.date().isoformat()}"
        if not claims.claim(session, team_id=team_id, kind="standup.usergroup", key=key, now=now):
            return
    try:
        members = slack.usergroup_members(usergroup=group)
    except SlackFailure as failure:
        log.warning("usergroups.users.list failed; the group is synced later: %s", failure.error,
                    extra={"team": team_id, "standup": standup_id})
        with runtime.db.transaction() as session:
            claims.release(session, key=key, now=now, retry_after=USERGROUP_RETRY, error=failure.error or "")
        return
    with runtime.db.transaction() as session:
        store.sync_usergroup(session, team_id=team_id, standup_id=standup_id, members=members)
        claims.finish(session, key=key, now=now)


# -- profiles, for timezones and who left ----------------------------------------------------------------------------

def _profiles(runtime: Runtime, slack: Slack, team_id: str, user_ids: list[str], now: datetime
              ) -> dict[str, Person | None]:
    """Profiles of many people: one query for the fresh cache; users.list pages (or users.info) for the rest.

    Someone Slack did not answer about is left out (their prompt waits for a later tick); None: no such user.
    """
    with runtime.db.reading() as session:
        cached = people_store.people(session, team_id=team_id, user_ids=user_ids)
    found: dict[str, Person | None] = {
        u: row for u, row in cached.items() if now - row.fetched_at < PROFILE_MAX_AGE}
    stale = [u for u in user_ids if u not in found]
    if len(stale) > BULK_PROFILES_FROM:
        found.update(_refresh_from_users_list(runtime, slack, team_id, set(stale), now))
    for user_id in user_ids:
        if user_id in found:
            continue
        try:
            user = slack.user_info(user=user_id)
        except SlackFailure as failure:
            if failure.verdict is Verdict.PERSON_GONE or failure.error == "user_not_found":
                found[user_id] = None
            else:
                log.warning("users.info failed; %s waits for a later tick: %s", user_id, failure.error,
                            extra={"team": team_id, "user": user_id})
            continue
        with runtime.db.transaction() as session:
            found[user_id] = _save(session, team_id, user, now)
    return found


def _refresh_from_users_list(runtime: Runtime, slack: Slack, team_id: str, wanted: set[str], now: datetime
                             ) -> dict[str, Person]:
    """Refresh many cached profiles with users.list (200 a call instead of one users.info each)."""
    saved: dict[str, Person] = {}
    cursor = ""
    while wanted - saved.keys():
        try:
            page = slack.list_users(limit=USERS_LIST_PAGE, cursor=cursor or None)
        except SlackFailure as failure:
            log.warning("users.list failed; falling back to users.info: %s", failure.error, extra={"team": team_id})
            break
        try:
            with runtime.db.transaction() as session:
                for user in page.get("members") or []:
                    if user.get("id") in wanted:
                        saved[user["id"]] = _save(session, team_id, user, now)
        except IntegrityError:
            # Another process cached the same people at the same moment; the cache is fresh either way.
            log.info("profiles were refreshed concurrently by another process", extra={"team": team_id})
            return {}
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
        if not cursor:
            break
    return saved


def _save(session: Session, team_id: str, user: dict[str, Any], now: datetime) -> Person:
    prof = user.get("profile") or {}
    name = prof.get("display_name") or prof.get("real_name") or user.get("real_name") or user.get("name") \
        or user["id"]
    return people_store.save_person(
        session, team_id=team_id, user_id=user["id"], display_name=name, timezone=user.get("tz"),
        is_deleted=bool(user.get("deleted")), is_bot=bool(user.get("is_bot")), is_admin=bool(user.get("is_admin")),
        is_owner=bool(user.get("is_owner")), fetched_at=now)


JOBS = (run_standups,)
