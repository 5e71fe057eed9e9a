"""The stand-up's scheduled work and its messages: prompts in each person's timezone, reminders, the day's report
parent and its close, and the answers posted to the report — all through the outbox (storage.outbox).

The job finds what is due and queues it with deterministic keys (storage.standup_cases), so two processes running it
at once, or a rerun after a crash, send each message once. The renderers below build each message from the state
of the moment it is delivered; the hooks record where it landed, or what its failure means.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot import hooks
from bot.jobs import outbox as outbox_jobs
from bot.server.runtime import Runtime
from bot.slack import people
from bot.slack.gateway import Slack, SlackFailure, Verdict
from bot.slack.people import PROFILE_MAX_AGE
from bot.views import standup as views
from ceremonies import standup as domain
from storage import calendar, claims, due
from storage import people as people_store
from storage import standup as store
from storage import standup_cases as cases
from storage import standup_schedule as schedule
from storage.models import Person

log = logging.getLogger("cadence.standup")

BATCH = 200  # stand-ups claimed at a time
RUNS_AT_ONCE = 4
USERGROUP_RETRY = timedelta(minutes=1)
REFRESH_AHEAD = timedelta(hours=1)  # profiles and user groups are made fresh this long before the prompts
REFRESH_WAIT = timedelta(seconds=5)  # the most a tick waits for the refresh before it goes on with the prompts
REFRESH_TEAMS_AT_ONCE = 8


# -- renderers: each message built from the state of the moment it is sent ------------------------------------------

@outbox_jobs.renderer(cases.PROMPT)
def render_prompt(runtime: Runtime, args: dict[str, Any]) -> outbox_jobs.Message | None:
    """A participant's prompt: the questions' button, yesterday's plan, and what other ceremonies add."""
    return render_prompts(runtime, [args])[0]


@outbox_jobs.batch_renderer(cases.PROMPT)
def render_prompts(runtime: Runtime, batch: list[dict[str, Any]]) -> list[outbox_jobs.Message | None]:
    """Many participants' prompts (a workspace's batch of the morning's prompts): each stand-up, its questions and
    its participants' previous answers are read once for the batch, not once a prompt."""
    prompts = [(args["team_id"], int(args["standup_id"]), args["user_id"], date.fromisoformat(args["day"]))
               for args in batch]
    groups: dict[tuple[str, int], list[tuple[str, date]]] = defaultdict(list)
    for team_id, standup_id, user_id, day in prompts:
        groups[(team_id, standup_id)].append((user_id, day))
    standups: dict[tuple[str, int], store.Standup | None] = {}
    previous: dict[tuple[str, int, str, date], str] = {}
    extras: list[hooks.Blocks] = []
    with runtime.db.reading() as session:
        for (team_id, standup_id), wanted in groups.items():
            standup = standups[(team_id, standup_id)] = store.standup_by_id(session, team_id=team_id,
                                                                             standup_id=standup_id)
            if standup is None:
                continue
            # Only the questions: the whole configuration would load every participant for every prompt.
            index = today_question(store.questions_of(session, team_id=team_id, standup_id=standup_id))
            if index is None:
                continue
            by_day: dict[date, set[str]] = defaultdict(set)
            for user_id, day in wanted:
                by_day[day].add(user_id)
            for day, users in by_day.items():
                found = store.previous_answers(session, team_id=team_id, standup_id=standup_id, user_ids=users,
                                               before=day, position=index)
                previous.update({(team_id, standup_id, user_id, day): text for user_id, text in found.items()})
        for team_id, standup_id, user_id, day in prompts:
            standup = standups[(team_id, standup_id)]
            extras.append([] if standup is None else hooks.prompt_sections(session, hooks.PromptContext(
                team_id=team_id, channel_id=standup.channel_id, standup_id=standup_id, user_id=user_id,
                local_date=day)))
    messages: list[outbox_jobs.Message | None] = []
    built: dict[tuple[Any, ...], outbox_jobs.Message] = {}  # the same prompt for many people is built once
    for (team_id, standup_id, user_id, day), extra in zip(prompts, extras, strict=True):
        standup = standups[(team_id, standup_id)]
        if standup is None:
            messages.append(None)
            continue
        text = previous.get((team_id, standup_id, user_id, day))
        same = (standup_id, standup.channel_id, day, text, repr(extra))
        if same not in built:
            message, blocks = views.prompt_message(standup_id=standup_id, channel_id=standup.channel_id, day=day,
                                                   previous_today=text, extra=extra)
            built[same] = outbox_jobs.Message(text=message, blocks=blocks)
        messages.append(built[same])
    return messages


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


@outbox_jobs.after_sent_many(cases.PROMPT)
def prompts_sent(session: Session, sent: list[outbox_jobs.Delivered]) -> None:
    by_team: dict[str, list[cases.PromptSent]] = defaultdict(list)
    for one in sent:
        team_id, standup_id, user_id, day = _prompt_args(one.payload)
        by_team[team_id].append(cases.PromptSent(standup_id, user_id, day, one.channel, one.ts))
    for team_id, prompts in by_team.items():
        cases.prompts_sent(session, team_id=team_id, sent=prompts)


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
    """The stand-ups due now (storage.due): their prompts, reminders and window closes, each queued once.

    Only the stand-ups whose next moment has come are read, in batches claimed by this process (several processes
    split them); each run ends by storing the stand-up's next moment. Nothing here calls Slack: profiles and user
    groups were refreshed ahead (`refresh_ahead`), and the messages go out through the outbox.
    """
    while True:
        with runtime.db.transaction() as session:
            claimed = schedule.claim_due(session, now=now, limit=BATCH)
        if len(claimed) == 1:
            _run_safely(runtime, claimed[0], now)
        elif claimed:
            # Mostly waiting for the database: a few side by side (the morning rush is thousands of them).
            with ThreadPoolExecutor(max_workers=min(RUNS_AT_ONCE, len(claimed)),
                                    thread_name_prefix="standup-run") as pool:
                list(pool.map(lambda due_now: _run_safely(runtime, due_now, now), claimed))
        if len(claimed) < BATCH:
            return


def _run_safely(runtime: Runtime, claimed: tuple[str, int], now: datetime) -> None:
    team_id, standup_id = claimed
    try:
        run_standup(runtime, team_id=team_id, standup_id=standup_id, now=now)
    except Exception:
        # One broken stand-up must not hold up the others; its claim runs out and it is tried again.
        log.exception("stand-up %s could not run; it is tried again shortly", standup_id, extra={"team": team_id})


def run_standup(runtime: Runtime, *, team_id: str, standup_id: int, now: datetime) -> None:
    """One stand-up's due work at `now`, then its next due moment."""
    queue_due_prompts(runtime, None, team_id=team_id, standup_id=standup_id, now=now)
    queue_reminders(runtime, team_id=team_id, standup_id=standup_id, now=now)
    close_runs(runtime, team_id=team_id, standup_id=standup_id, now=now)
    with runtime.db.transaction() as session:
        standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
        if standup is not None:
            due.set_next(standup, now=now, at=schedule.next_due_at(
                session, standup, now=now, default_timezone=runtime.settings.default_timezone))


def queue_due_prompts(runtime: Runtime, slack: Slack | None, *, team_id: str, standup_id: int, now: datetime,
                      force: bool = False) -> int:
    """Queue every prompt due at `now` (and the days' report parents); the number newly queued.

    Timezones come from the cached profiles. Given `slack` (`/standup now`), missing or day-old profiles are asked of
    Slack first; without it (the scheduler) someone with no cached profile waits for the refresh ahead.
    """
    with runtime.db.reading() as session:
        standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
        if standup is None:
            return 0
        listed = store.participants_of(session, team_id=team_id, standup_id=standup_id)
        config = store.config_of(session, standup, participants=listed)
        gone = {p.user_id for p in listed if p.gone_since is not None}
        start, end = (now - timedelta(days=2)).date(), (now + timedelta(days=2)).date()
        holidays = calendar.holiday_days(session, team_id=team_id, start=start, end=end)
        away = store.away_ranges(session, team_id=team_id, user_ids=config.participants, start=start, end=end)
        users = [u for u in config.participants if u not in gone]
        profiles: dict[str, Person | None] = dict(people_store.people(session, team_id=team_id, user_ids=users))
    if slack is not None:
        stale = [u for u in users if u not in profiles or now - profiles[u].fetched_at >= PROFILE_MAX_AGE]
        profiles.update(people.refresh(runtime, slack, team_id=team_id, user_ids=stale, now=now))
    left = [u for u in users if u in profiles and (profiles[u] is None or profiles[u].is_deleted)]
    participants = [domain.Participant(u, domain.participant_zone(config, profiles[u].timezone,
                                                                  runtime.settings.default_timezone),
                                       tuple(away.get(u, ())))
                    for u in users if u in profiles and u not in left]
    work = domain.due_prompts(config, participants, now=now, holidays=holidays, force=force)
    closes: dict[date, datetime] = defaultdict(lambda: now)
    zones = {p.timezone for p in participants}
    last_window: dict[date, datetime] = {}  # a day's latest window close, over the participants' timezones
    for prompt in work.prompts:
        # The day closes when the last timezone's window does, not when the first prompted one's does.
        day = prompt.local_date
        if day not in last_window:
            last_window[day] = max(domain.answer_window(config, day, zone).closes_at for zone in zones)
        closes[day] = max(closes[day], prompt.closes_at, last_window[day])
    with runtime.db.transaction() as session:
        for user_id in left:
            cases.person_gone(session, team_id=team_id, standup_id=standup_id, user_id=user_id, now=now)
        done = store.prompted(session, team_id=team_id, standup_id=standup_id,
                              dates={p.local_date for p in work.prompts})
        due_now = [p for p in work.prompts if (p.user_id, p.local_date) not in done]
        if not due_now:
            return 0
        standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
        if standup is None:
            return 0
        queued = cases.queue_prompts(session, standup=standup, config=config, due=due_now,
                                     closes={p.local_date: closes[p.local_date] for p in due_now}, now=now)
        if force:  # the day's window and its reminders are new: the schedule looks again
            standup.next_due_at = now if not standup.paused else None
        return queued


def queue_reminders(runtime: Runtime, *, team_id: str, standup_id: int, now: datetime) -> int:
    """One reminder, after the delay, to each prompted participant who has neither answered nor skipped."""
    with runtime.db.transaction() as session:
        standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
        if standup is None:
            return 0
        # Only the reminder delay matters here: not the whole configuration (its participants and questions).
        delay = store.reminder_delay_of(standup)
        waiting = [p for p in store.awaiting_reminder(session, team_id=team_id, standup_id=standup_id, now=now)
                   if domain.reminder_due_after(delay, due_at=max(p.due_at, p.sent_at), closes_at=p.closes_at,
                                                now=now)]
        if not waiting:
            return 0
        away = store.away_ranges(session, team_id=team_id, user_ids={p.user_id for p in waiting},
                                 start=min(p.local_date for p in waiting), end=max(p.local_date for p in waiting))
        waiting = [p for p in waiting if not any(p.local_date in r for r in away.get(p.user_id, ()))]
        return cases.queue_reminders(session, team_id=team_id, standup=standup, prompts=waiting, now=now)


def close_runs(runtime: Runtime, *, team_id: str, standup_id: int, now: datetime) -> None:
    """At the end of the answer window, the parent lists who did not answer and who was away (exactly once)."""
    with runtime.db.reading() as session:
        due_runs = [r.id for r in store.runs_to_close(session, team_id=team_id, now=now)
                    if r.standup_id == standup_id]
    for run_id in due_runs:
        with runtime.db.transaction() as session:
            cases.close_run(session, team_id=team_id, run_id=run_id, now=now)


# -- ahead of the prompts: user groups and profiles --------------------------------------------------------------------

def refresh_ahead(runtime: Runtime, now: datetime) -> None:
    """For the stand-ups due within the next hour: sync their user groups (once a UTC day) and refresh the profiles
    (timezone, who left) of participants whose cached profile is missing or a day old, with users.info for each.

    Workspaces are served side by side (bounded); the tick waits at most REFRESH_WAIT for them, so a workspace whose
    Slack is slow delays nobody's prompts: its refresh goes on in the background and the next tick skips it.
    """
    with runtime.db.reading() as session:
        groups = schedule.groups_to_sync(session, now=now, ahead=REFRESH_AHEAD)
        stale = schedule.stale_participants(session, now=now, ahead=REFRESH_AHEAD, max_age=PROFILE_MAX_AGE)
    teams = sorted({g.team_id for g in groups} | stale.by_team.keys())
    if not teams:
        return
    by_team: dict[str, list[schedule.UsergroupDue]] = defaultdict(list)
    for group in groups:
        by_team[group.team_id].append(group)
    pool = _refreshing(runtime)
    started = {team_id: pool.submit(team_id, _refresh_team, runtime, team_id, by_team[team_id],
                                    stale.by_team.get(team_id, []), now) for team_id in teams}
    # Only someone with no profile at all (a new participant, a new group member) would miss a prompt due now;
    # a day-old profile still has the timezone, so those refreshes are not waited for.
    wait([f for team_id, f in started.items() if f is not None and (team_id in stale.never_fetched or team_id in by_team)],
         timeout=REFRESH_WAIT.total_seconds())


def _refresh_team(runtime: Runtime, team_id: str, groups: list[schedule.UsergroupDue], stale: list[str],
                  now: datetime) -> None:
    slack = runtime.gateway.for_team(team_id)
    for group in groups:
        sync_usergroup(runtime, slack, team_id=team_id, standup_id=group.standup_id, now=now)
    if groups:  # the groups may have brought new people, whose profiles are needed too
        with runtime.db.reading() as session:
            stale = schedule.stale_participants(session, now=now, ahead=REFRESH_AHEAD,
                                                max_age=PROFILE_MAX_AGE).by_team.get(team_id, [])
    people.refresh(runtime, slack, team_id=team_id, user_ids=stale, now=now)


class _PerTeam:
    """A bounded pool running at most one task per workspace at a time (a slow workspace's task is not doubled)."""

    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="standup-refresh")
        self._running: set[str] = set()
        self._lock = threading.Lock()

    def submit(self, team_id: str, function: Any, *args: Any) -> Future[None] | None:
        with self._lock:
            if team_id in self._running:
                return None
            self._running.add(team_id)

        def run() -> None:
            try:
                function(*args)
            except Exception:
                log.exception("refreshing profiles and user groups failed; tried again on a later tick",
                              extra={"team": team_id})
            finally:
                with self._lock:
                    self._running.discard(team_id)

        return self._pool.submit(run)


_pools: dict[int, _PerTeam] = {}
_pools_lock = threading.Lock()


def _refreshing(runtime: Runtime) -> _PerTeam:
    """The refresh pool of one app (a process has one; tests run several side by side)."""
    with _pools_lock:
        pool = _pools.get(id(runtime))
        if pool is None:
            pool = _pools[id(runtime)] = _PerTeam(REFRESH_TEAMS_AT_ONCE)
            weakref.finalize(runtime, _pools.pop, id(runtime), None)
        return pool


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
        schedule.usergroup_synced(session, team_id=team_id, standup_id=standup_id, now=now)
        claims.finish(session, key=key, now=now)


JOBS = (refresh_ahead, run_standups)
