"""`/standup`: async stand-ups — setup, prompts in each person's timezone, answers, the quiet report, reminders."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError

from bot import hooks
from bot.listeners import roles
from bot.listeners.commands import SlashCommand, first_word
from bot.listeners.home import refresh_home
from bot.server import metrics
from bot.server.runtime import Runtime, runtime_of
from bot.slack.fanout import Delivery, FanOut, Post
from bot.slack.people import PROFILE_MAX_AGE, Profile, profile
from bot.views import standup as views
from bot.views.help import command_usage_blocks, command_usage_text
from ceremonies import standup as domain
from ceremonies.errors import InvalidInput, NotAllowed, NotFound
from storage import calendar, claims
from storage import people as people_store
from storage import standup as store
from storage.models import HOLIDAY_NAME_LENGTH

log = logging.getLogger("cadence.standup")

RETRY_AFTER = timedelta(minutes=1)
PROMPT_LEASE = timedelta(minutes=5)
GONE_ERRORS = frozenset({"user_not_found", "user_disabled", "account_inactive"})  # no point retrying


# -- slash command --------------------------------------------------------------------------------------------------

def handle_standup_command(ack: Ack, command: dict, client: WebClient, context: BoltContext, respond: Respond) -> None:
    """Async stand-ups: DM prompts in each person's timezone, answers in a quiet threaded report."""
    runtime = runtime_of(context)
    team_id, channel_id, user_id = command["team_id"], command["channel_id"], command["user_id"]
    subcommand, rest = first_word(command.get("text"))
    if subcommand == "help":
        ack(text=command_usage_text(STANDUP), blocks=command_usage_blocks(STANDUP), response_type="ephemeral")
    elif subcommand == "":
        ack(**_status(runtime, team_id=team_id, channel_id=channel_id), response_type="ephemeral")
    elif subcommand == "setup":
        ack()
        _require_owner_or_admin(runtime, client, team_id=team_id, channel_id=channel_id, user_id=user_id,
                                action="change this stand-up's settings")
        _open_setup(runtime, client, team_id=team_id, channel_id=channel_id, trigger_id=command["trigger_id"])
    elif subcommand in ("pause", "resume") and not rest:
        ack()
        with runtime.db.transaction() as session:
            owner_id = _standup_here(session, team_id, channel_id).owner_id
        roles.require_admin(runtime, client, team_id=team_id, user_id=user_id, owner_id=owner_id,
                            action=f"{subcommand} this stand-up", owner_label="the stand-up's owner")
        with runtime.db.transaction() as session:
            standup = _standup_here(session, team_id, channel_id)
            standup.paused = subcommand == "pause"
        respond(text="Stand-up paused: no prompts until `/standup resume`." if subcommand == "pause"
                else "Stand-up resumed.", response_type="ephemeral")
    elif subcommand == "delete" and not rest:
        with runtime.db.transaction() as session:
            standup = store.get_standup(session, team_id=team_id, channel_id=channel_id)
        if standup is None:
            ack(text="There is no stand-up in this channel.", response_type="ephemeral")
            return
        # Before ack, so that the confirmation is the reply; the owner needs no Slack call, others one cached one.
        roles.require_admin(runtime, client, team_id=team_id, user_id=user_id, owner_id=standup.owner_id,
                            action="delete this stand-up", owner_label="the stand-up's owner")
        text, blocks = views.delete_confirmation(standup.id, channel_id)
        ack(text=text, blocks=blocks, response_type="ephemeral")
    elif subcommand == "now" and not rest:
        ack()
        with runtime.db.transaction() as session:
            standup = _standup_here(session, team_id, channel_id)
        sent = send_due_prompts(runtime, client, team_id=team_id, standup_id=standup.id, now=runtime.now(), force=True)
        respond(text=f"Started today's stand-up: {sent} prompt{'s' if sent != 1 else ''} sent "
                "(people already prompted today or away are left out).", response_type="ephemeral")
    elif subcommand == "away":
        try:
            away = domain.parse_away(rest)
        except InvalidInput as problem:
            ack(**_usage(str(problem)))
            return
        ack(text=_record_away(runtime, team_id=team_id, user_id=user_id, away=away), response_type="ephemeral")
    elif subcommand == "holidays":
        _holidays(ack, runtime, team_id=team_id, user_id=user_id, text=rest)
    else:
        ack(**_usage(f"I don't know `{(command.get('text') or '').strip()[:50]}`."))


def _usage(problem: str | None = None) -> dict[str, Any]:
    return {"text": command_usage_text(STANDUP, problem), "blocks": command_usage_blocks(STANDUP, problem),
            "response_type": "ephemeral"}


def _require_owner_or_admin(runtime: Runtime, client: WebClient, *, team_id: str, channel_id: str, user_id: str,
                            action: str) -> None:
    """Refuse (NotAllowed) unless there is no stand-up in the channel yet, or `user_id` owns it or is an admin."""
    with runtime.db.transaction() as session:
        standup = store.get_standup(session, team_id=team_id, channel_id=channel_id)
        owner_id = standup.owner_id if standup is not None else None
    if standup is not None:
        roles.require_admin(runtime, client, team_id=team_id, user_id=user_id, owner_id=owner_id, action=action,
                            owner_label="the stand-up's owner")


def _standup_here(session: Any, team_id: str, channel_id: str) -> store.Standup:
    standup = store.get_standup(session, team_id=team_id, channel_id=channel_id)
    if standup is None:
        raise NotFound("There is no stand-up in this channel yet. `/standup setup` creates one.")
    return standup


def _holidays(ack: Ack, runtime: Runtime, *, team_id: str, user_id: str, text: str) -> None:
    action, rest = first_word(text)
    if action == "list" and not rest:
        with runtime.db.transaction() as session:
            days = calendar.holidays(session, team_id=team_id, start=runtime.now().date() - timedelta(days=1))
        lines = [f"• {h.day.isoformat()} {h.name}".rstrip() for h in days] or ["No upcoming holidays."]
        ack(text="Workspace holidays:\n" + "\n".join(lines)[:3500], response_type="ephemeral")
        return
    if action not in ("add", "remove") or not rest:
        ack(**_usage("Holidays: `/standup holidays add 2026-12-25 [name]`, `remove 2026-12-25` or `list`."))
        return
    day_text, name = first_word(rest)
    try:
        day = domain.parse_day(day_text)
        if len(name.strip()) > HOLIDAY_NAME_LENGTH:
            raise InvalidInput(f"A holiday's name can have at most {HOLIDAY_NAME_LENGTH} characters.")
    except InvalidInput as problem:
        ack(**_usage(str(problem)))
        return
    with runtime.db.transaction() as session:
        if action == "add":
            changed = calendar.add_holiday(session, team_id=team_id, day=day, name=name.strip(), added_by=user_id,
                                           now=runtime.now())
            message = f"{day.isoformat()} is a holiday: no stand-up prompts for anyone." if changed \
                else f"{day.isoformat()} already was a holiday."
        else:
            changed = calendar.remove_holiday(session, team_id=team_id, day=day)
            message = f"{day.isoformat()} is no longer a holiday." if changed else f"{day.isoformat()} was no holiday."
    ack(text=message, response_type="ephemeral")


def _record_away(runtime: Runtime, *, team_id: str, user_id: str, away: Any) -> str:
    with runtime.db.transaction() as session:
        store.add_away(session, team_id=team_id, user_id=user_id, away=away, now=runtime.now())
    return views.away_recorded_message(away)


def _status(runtime: Runtime, *, team_id: str, channel_id: str) -> dict[str, Any]:
    with runtime.db.transaction() as session:
        standup = store.get_standup(session, team_id=team_id, channel_id=channel_id)
        if standup is None:
            return {"text": "There is no stand-up in this channel yet. `/standup setup` creates one; "
                            "`/standup help` lists every command."}
        config = store.config_of(session, standup)
        latest = store.latest_run_date(session, team_id=team_id, standup_id=standup.id)
        status = store.run_status(session, team_id=team_id, standup_id=standup.id, local_date=latest) if latest \
            else None
        paused = standup.paused
    text, blocks = views.status_blocks(
        config, paused=paused, day=latest, answered=status.answered if status else [],
        pending=status.pending if status else [], away=status.away if status else [],
        skipped=status.skipped if status else [])
    return {"text": text, "blocks": blocks}


# -- setup ----------------------------------------------------------------------------------------------------------

def _usergroups(client: WebClient) -> dict[str, str]:
    try:
        groups = client.usergroups_list().get("usergroups") or []
    except SlackApiError as error:
        log.warning("usergroups.list failed; the setup modal offers no user groups: %s", error.response.get("error"))
        return {}
    return {g["id"]: f"@{g.get('handle') or g.get('name') or g['id']}" for g in groups if g.get("id")}


def _open_setup(runtime: Runtime, client: WebClient, *, team_id: str, channel_id: str, trigger_id: str) -> None:
    with runtime.db.transaction() as session:
        standup = store.get_standup(session, team_id=team_id, channel_id=channel_id)
        config = store.config_of(session, standup) if standup else domain.StandupConfig(
            channel_id=channel_id, report_channel_id=channel_id, participants=(),
            questions=domain.default_questions(), team_timezone=runtime.settings.default_timezone)
    client.views_open(trigger_id=trigger_id,
                      view=views.setup_modal(config, channel_id=channel_id, usergroups=_usergroups(client)))


def submit_setup(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    """Save the setup modal in one go, or refuse it inline (the bot must be in the report channel)."""
    runtime = runtime_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    form = views.parse_setup(body["view"])
    problems = dict(form.problems)
    members = list(form.users)
    group_members: list[str] = []
    if form.usergroup_id:
        try:
            group_members = list(client.usergroups_users_list(usergroup=form.usergroup_id).get("users") or [])
            members.extend(group_members)
        except SlackApiError as error:
            problems[views.B_USERGROUP] = f"Slack would not list that group's members ({error.response.get('error')})."
    config = form.config(members)
    problems.update(views.setup_errors(domain.config_problems(config)))
    if form.report_channel_id and views.B_REPORT_CHANNEL not in problems:
        problems.update(_report_channel_problem(client, form.report_channel_id))
    elif not form.report_channel_id:
        problems[views.B_REPORT_CHANNEL] = "Pick the channel the report goes to."
    # Checked again on saving: the modal names its channel, and its owner or the admins may have changed meanwhile.
    try:
        _require_owner_or_admin(runtime, client, team_id=team_id, channel_id=form.channel_id, user_id=user_id,
                                action="change this stand-up's settings")
    except NotAllowed as refusal:
        problems = {views.B_PARTICIPANTS: str(refusal)[:150]}
    if problems:
        ack(response_action="errors", errors=problems)
        return
    ack()
    with runtime.db.transaction() as session:
        store.save_standup(session, team_id=team_id, channel_id=form.channel_id, owner_id=user_id, config=config,
                           now=runtime.now(), from_usergroup=[m for m in group_members if m not in form.users])
    client.chat_postEphemeral(channel=form.channel_id, user=user_id,
                              text=f"Stand-up saved: {domain.days_label(config.days)} at "
                                   f"{config.local_time.strftime('%H:%M')} for {len(config.participants)} people; "
                                   f"report in <#{config.report_channel_id}>.")


def _report_channel_problem(client: WebClient, channel_id: str) -> dict[str, str]:
    try:
        info = client.conversations_info(channel=channel_id).get("channel") or {}
    except SlackApiError as error:
        if error.response.get("error") in ("channel_not_found", "not_in_channel"):
            return {views.B_REPORT_CHANNEL: views.not_in_channel_error(channel_id)}
        raise
    if info.get("is_archived"):
        return {views.B_REPORT_CHANNEL: "That channel is archived; pick another one."}
    if not info.get("is_member") and not info.get("is_im"):
        return {views.B_REPORT_CHANNEL: views.not_in_channel_error(channel_id)}
    return {}


def confirm_delete(ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond) -> None:
    """Delete the stand-up after its owner (or an admin) confirmed on the ephemeral message."""
    ack()
    runtime = runtime_of(context)
    standup_id = int(body["actions"][0]["value"])
    team_id = body["team"]["id"]
    with runtime.db.transaction() as session:
        standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
    if standup is not None:
        roles.require_admin(runtime, client, team_id=team_id, user_id=body["user"]["id"], owner_id=standup.owner_id,
                            action="delete this stand-up", owner_label="the stand-up's owner")
    with runtime.db.transaction() as session:
        removed = store.delete_standup(session, team_id=team_id, standup_id=standup_id)
    respond(replace_original=True, text="Stand-up deleted." if removed else "That stand-up was already deleted.")


def cancel_delete(ack: Ack, respond: Respond) -> None:
    """Keep the stand-up: replace the confirmation with a short note."""
    ack()
    respond(replace_original=True, text="Kept the stand-up.")


# -- prompt buttons -------------------------------------------------------------------------------------------------

def _standup_and_questions(runtime: Runtime, team_id: str, standup_id: int) -> tuple[store.Standup, domain.StandupConfig]:
    with runtime.db.transaction() as session:
        standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
        if standup is None:
            raise NotFound("That stand-up no longer exists.")
        return standup, store.config_of(session, standup)


def open_answer_modal(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    """Write stand-up: open the modal with the questions (and today's answers when there are some)."""
    ack()
    runtime = runtime_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    standup_id, day = views.parse_day_value(body["actions"][0]["value"])
    _standup, config = _standup_and_questions(runtime, team_id, standup_id)
    with runtime.db.transaction() as session:
        run = store.run_of(session, team_id=team_id, standup_id=standup_id, local_date=day)
        answer = store.answer_of(session, team_id=team_id, run_id=run.id, user_id=user_id) if run else None
        previous = {i.position: i.text for i in store.answer_items(session, team_id=team_id, answer_id=answer.id)} \
            if answer else None
    client.views_open(trigger_id=body["trigger_id"],
                      view=views.answer_modal(standup_id=standup_id, day=day, questions=config.questions,
                                              previous=previous))


def open_edit_modal(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    """Edit my answer: open the modal filled with the answer as it stands."""
    ack()
    runtime = runtime_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    with runtime.db.transaction() as session:
        answer = store.answer_by_id(session, team_id=team_id, answer_id=int(body["actions"][0]["value"]))
        if answer is None or answer.user_id != user_id:
            raise NotFound("That answer no longer exists.")
        items = store.answer_items(session, team_id=team_id, answer_id=answer.id)
        standup_id, day = answer.standup_id, answer.local_date
    _standup, config = _standup_and_questions(runtime, team_id, standup_id)
    client.views_open(trigger_id=body["trigger_id"],
                      view=views.answer_modal(standup_id=standup_id, day=day, questions=config.questions,
                                              previous={i.position: i.text for i in items}))


def skip_today(ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond) -> None:
    """Skip today: recorded, no reminder, and the prompt (or the Home it was clicked on) says so."""
    ack()
    runtime = runtime_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    standup_id, day = views.parse_day_value(body["actions"][0]["value"])
    with runtime.db.transaction() as session:
        store.record_skip(session, team_id=team_id, standup_id=standup_id, user_id=user_id, local_date=day,
                          now=runtime.now())
    if body.get("response_url"):  # clicked in the prompt; the Home has no message to replace
        text, blocks = views.skipped_message(day)
        respond(replace_original=True, text=text, blocks=blocks)
    refresh_home(runtime, client, team_id=team_id, user_id=user_id)


def open_away_modal(ack: Ack, body: dict, client: WebClient) -> None:
    """I'm away…: a modal with the first and last day away."""
    ack()
    standup_id, day = views.parse_day_value(body["actions"][0]["value"])
    client.views_open(trigger_id=body["trigger_id"], view=views.away_modal(standup_id=standup_id, day=day))


def submit_away(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    """Record time away from the modal (refused inline when the range is backwards or over a year)."""
    runtime = runtime_of(context)
    start, end = views.parse_away_modal(body["view"])
    if start is None or end is None:
        ack(response_action="errors", errors={views.B_AWAY_FROM: "Pick both days."})
        return
    try:
        away = domain.away_range(start, end)
    except InvalidInput as problem:
        ack(response_action="errors", errors={views.B_AWAY_TO: str(problem)})
        return
    ack()
    user_id = body["user"]["id"]
    client.chat_postMessage(channel=user_id, text=_record_away(runtime, team_id=body["team"]["id"], user_id=user_id,
                                                               away=away))


# -- answers --------------------------------------------------------------------------------------------------------

def submit_answer(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    """Record a participant's answers (refused inline when a required one is empty), post them, tell listeners."""
    runtime = runtime_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    standup_id, day, answers = views.parse_answer(body["view"])
    with runtime.db.transaction() as session:
        found = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
    if found is None:
        ack(response_action="errors", errors={views.answer_block(0): "This stand-up was deleted in the meantime."})
        return
    standup, config = _standup_and_questions(runtime, team_id, standup_id)
    if problems := domain.answer_problems(config.questions, answers):
        ack(response_action="errors", errors=views.answer_errors(problems))
        return
    ack()
    now = runtime.now()
    with runtime.db.transaction() as session:
        run = store.run_of(session, team_id=team_id, standup_id=standup_id, local_date=day)
        if run is None:  # answered from a prompt of a run that the scheduler has not opened (should not happen)
            tz = _zone_for(runtime, client, config, team_id, user_id)
            window = domain.answer_window(config, day, tz)
            run = store.open_run(session, team_id=team_id, standup=standup, local_date=day,
                                 closes_at=window.closes_at, now=now)
        prompt = store.prompt_of(session, team_id=team_id, standup_id=standup_id, user_id=user_id, local_date=day)
        closes_at = prompt.closes_at if prompt else run.closes_at
        answer, is_edit = store.record_answer(
            session, team_id=team_id, run=run, user_id=user_id, questions=config.questions, answers=answers,
            late=domain.is_late(closes_at=closes_at, submitted_at=now), now=now)
        answer_id = answer.id
    posted = publish_answer(runtime, client, team_id=team_id, answer_id=answer_id, is_edit=is_edit)
    with runtime.db.transaction() as session:
        answer = store.answer_by_id(session, team_id=team_id, answer_id=answer_id)
        assert answer is not None
        late, permalink = answer.late, answer.permalink
    text, blocks = views.confirmation_message(answer_id=answer_id, channel_id=standup.channel_id, day=day,
                                              is_edit=is_edit, late=late, permalink=permalink if posted else None)
    client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
    refresh_home(runtime, client, team_id=team_id, user_id=user_id)


def publish_answer(runtime: Runtime, client: WebClient, *, team_id: str, answer_id: int, is_edit: bool) -> bool:
    """Post (or update in place) an answer in the report, refresh the day's parent, and announce it.

    False when Slack refused: the answer stays stored and unposted, and a later tick posts it.
    """
    with runtime.db.transaction() as session:
        answer = store.answer_by_id(session, team_id=team_id, answer_id=answer_id)
        if answer is None:
            return False
        run = store.run_by_id(session, team_id=team_id, run_id=answer.run_id)
        standup = store.standup_by_id(session, team_id=team_id, standup_id=answer.standup_id)
        if run is None or standup is None:
            return False
        config = store.config_of(session, standup)
        items = store.answer_items(session, team_id=team_id, answer_id=answer.id)
        questions = {i.position: domain.Question(i.question, is_blocker=i.is_blocker) for i in items}
        edited = answer.edited_at is not None
    if config.report_style is domain.ReportStyle.THREAD and run.report_ts is None:
        ensure_parent(runtime, client, team_id=team_id, run_id=run.id)
        with runtime.db.transaction() as session:
            run = store.run_by_id(session, team_id=team_id, run_id=run.id)
        if run is None or run.report_ts is None:
            return False
    person = profile(runtime, client, team_id=team_id, user_id=answer.user_id)
    view = views.AnswerView(user_id=answer.user_id, name=person.name if person else answer.user_id,
                            items=tuple((questions[i.position], i.text) for i in items), late=answer.late,
                            edited=edited)
    standalone = config.report_style is domain.ReportStyle.PER_ANSWER
    text, blocks = views.answer_report(view, day=run.local_date, standalone=standalone)
    channel = answer.report_channel_id or run.report_channel_id
    where = {"standup": standup.id, "user": answer.user_id}
    post_key = f"standup.answer_post:{answer.id}"
    if not answer.report_ts:
        # The listener and a retrying tick may both try to post a new answer: only the claim holder does.
        with runtime.db.transaction() as session:
            if not claims.claim(session, team_id=team_id, kind="standup.answer_post", key=post_key,
                                now=runtime.now(), lease=PROMPT_LEASE):
                return False
    try:
        if answer.report_ts:
            client.chat_update(channel=channel, ts=answer.report_ts, text=text, blocks=blocks)
            report_ts, permalink = answer.report_ts, answer.permalink
        else:
            posted = client.chat_postMessage(channel=channel, text=text, blocks=blocks,
                                             thread_ts=None if standalone else run.report_ts,
                                             unfurl_links=False, unfurl_media=False)
            report_ts = posted["ts"]
            channel = posted.get("channel") or channel
            permalink = None
    except SlackApiError as error:
        log.warning("stand-up answer not posted (chat.postMessage/update): %s", error.response.get("error"),
                    extra=where)
        if not answer.report_ts:
            with runtime.db.transaction() as session:
                claims.release(session, key=post_key, now=runtime.now(), retry_after=RETRY_AFTER,
                               error=str(error.response.get("error")))
        return False
    if permalink is None:
        try:  # the answer is posted whatever happens here: a missing link must not post it again
            permalink = client.chat_getPermalink(channel=channel, message_ts=report_ts).get("permalink")
        except SlackApiError as error:
            log.warning("no permalink for a stand-up answer: %s", error.response.get("error"), extra=where)
    with runtime.db.transaction() as session:
        stored = store.answer_by_id(session, team_id=team_id, answer_id=answer_id)
        if stored is not None:
            stored.report_channel_id, stored.report_ts = channel, report_ts
            stored.report_stale = stored.report_stale and stored.edited_at != answer.edited_at  # edited meanwhile
            stored.permalink = (permalink or "")[:store.PERMALINK_LENGTH] or None
        if not answer.report_ts:
            claims.finish(session, key=post_key, now=runtime.now())
    if not standalone:
        refresh_parent(runtime, client, team_id=team_id, run_id=run.id)
    # The answer to the blocker question as asked that day; None when the stand-up has no blocker question.
    blocker = next((i.text for i in items if i.is_blocker), None if config.blocker_index is None else "")
    hooks.standup_answer_recorded(runtime, client, hooks.StandupAnswerRecorded(
        team_id=team_id, channel_id=standup.channel_id, report_channel_id=channel, standup_id=standup.id,
        run_id=run.id, answer_id=answer_id, user_id=answer.user_id, local_date=run.local_date,
        blocker_text=blocker, report_thread_ts=None if standalone else run.report_ts, answer_permalink=permalink,
        is_edit=is_edit))
    return True


def _parent(runtime: Runtime, team_id: str, run_id: int) -> tuple[store.StandupRun, tuple[str, list[dict]]] | None:
    with runtime.db.transaction() as session:
        run = store.run_by_id(session, team_id=team_id, run_id=run_id)
        if run is None:
            return None
        holiday = run.local_date in calendar.holiday_days(session, team_id=team_id, start=run.local_date,
                                                          end=run.local_date)
        status = store.run_status(session, team_id=team_id, standup_id=run.standup_id, local_date=run.local_date,
                                  holiday=holiday)
    closed = run.closed_at is not None
    return run, views.parent_message(day=run.local_date, answered=len(status.answered), expected=len(status.expected),
                                     closed=closed, missing=status.pending, away=status.away, skipped=status.skipped)


def ensure_parent(runtime: Runtime, client: WebClient, *, team_id: str, run_id: int) -> None:
    """Post the day's report parent exactly once."""
    key = f"standup.parent:{run_id}"
    now = runtime.now()
    with runtime.db.transaction() as session:
        if not claims.claim(session, team_id=team_id, kind="standup.parent", key=key, now=now, lease=PROMPT_LEASE):
            return
    found = _parent(runtime, team_id, run_id)
    if found is None:
        with runtime.db.transaction() as session:
            claims.finish(session, key=key, now=now)
        return
    run, (text, blocks) = found
    try:
        posted = client.chat_postMessage(channel=run.report_channel_id, text=text, blocks=blocks)
    except SlackApiError as error:
        log.warning("stand-up report parent not posted (chat.postMessage): %s", error.response.get("error"),
                    extra={"standup": run.standup_id, "channel": run.report_channel_id})
        with runtime.db.transaction() as session:
            claims.release(session, key=key, now=now, retry_after=RETRY_AFTER, error=str(error.response.get("error")))
        return
    with runtime.db.transaction() as session:
        stored = store.run_by_id(session, team_id=team_id, run_id=run_id)
        if stored is not None:
            stored.report_ts = posted["ts"]
            stored.report_channel_id = posted.get("channel") or stored.report_channel_id
        claims.finish(session, key=key, now=now)


def refresh_parent(runtime: Runtime, client: WebClient, *, team_id: str, run_id: int) -> None:
    """Edit the day's parent in place with the current counts."""
    found = _parent(runtime, team_id, run_id)
    if found is None or found[0].report_ts is None:
        return
    run, (text, blocks) = found
    try:
        client.chat_update(channel=run.report_channel_id, ts=run.report_ts, text=text, blocks=blocks)
    except SlackApiError as error:
        log.warning("stand-up report parent not updated (chat.update): %s", error.response.get("error"),
                    extra={"standup": run.standup_id, "channel": run.report_channel_id})


# -- the scheduler's work -------------------------------------------------------------------------------------------

def _zone_for(runtime: Runtime, client: WebClient, config: domain.StandupConfig, team_id: str, user_id: str) -> str:
    person = profile(runtime, client, team_id=team_id, user_id=user_id)
    return domain.participant_zone(config, person.timezone if person else None, runtime.settings.default_timezone)


BULK_PROFILES_FROM = 20  # with more stale profiles than this, one users.list page fetches 200 at a time
USERS_LIST_PAGE = 200


def _profiles(runtime: Runtime, client: WebClient, team_id: str, user_ids: list[str], now: datetime
              ) -> dict[str, Profile | None]:
    """Profiles of many people: one query for the fresh cache; users.list pages (or users.info) for the rest."""
    with runtime.db.transaction() as session:
        cached = people_store.people(session, team_id=team_id, user_ids=user_ids)
    fresh = {u: row for u, row in cached.items() if now - row.fetched_at < PROFILE_MAX_AGE}
    stale = [u for u in user_ids if u not in fresh]
    if len(stale) > BULK_PROFILES_FROM:
        fresh.update(_refresh_from_users_list(runtime, client, team_id, set(stale), now))
    found: dict[str, Profile | None] = {
        u: Profile(u, row.display_name, row.timezone, row.is_deleted, row.is_admin, row.is_owner, row.is_bot)
        for u, row in fresh.items()}
    for user_id in user_ids:
        if user_id in found:
            continue
        try:
            found[user_id] = profile(runtime, client, team_id=team_id, user_id=user_id)
        except SlackApiError as error:
            log.warning("users.info failed; %s waits for a later tick: %s", user_id, error.response.get("error"),
                        extra={"team": team_id, "user": user_id})
    return found


def _refresh_from_users_list(runtime: Runtime, client: WebClient, team_id: str, wanted: set[str], now: datetime
                             ) -> dict[str, Any]:
    """Refresh many cached profiles with users.list (200 a call instead of one users.info each)."""
    saved: dict[str, Any] = {}
    cursor = ""
    while wanted - saved.keys():
        try:
            page = client.users_list(limit=USERS_LIST_PAGE, cursor=cursor or None)
        except SlackApiError as error:
            log.warning("users.list failed; falling back to users.info: %s", error.response.get("error"),
                        extra={"team": team_id})
            break
        try:
            with runtime.db.transaction() as session:
                for user in page.get("members") or []:
                    if user.get("id") in wanted:
                        saved[user["id"]] = people_store.save_person(
                            session, team_id=team_id, user_id=user["id"], display_name=_display_name(user),
                            timezone=user.get("tz"), is_deleted=bool(user.get("deleted")),
                            is_bot=bool(user.get("is_bot")), is_admin=bool(user.get("is_admin")),
                            is_owner=bool(user.get("is_owner")), fetched_at=now)
        except IntegrityError:
            # Another process cached the same people at the same moment; the cache is fresh either way.
            log.info("profiles were refreshed concurrently by another process", extra={"team": team_id})
            return {}
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
        if not cursor:
            break
    return saved


def _display_name(user: dict[str, Any]) -> str:
    prof = user.get("profile") or {}
    return prof.get("display_name") or prof.get("real_name") or user.get("real_name") or user.get("name") or user["id"]


def send_due_prompts(runtime: Runtime, client: WebClient, *, team_id: str, standup_id: int, now: datetime,
                     force: bool = False) -> int:
    """Send every prompt due at `now` (each claimed first, so exactly once); the number sent."""
    with runtime.db.transaction() as session:
        standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
        if standup is None:
            return 0
        config = store.config_of(session, standup)
        gone = {p.user_id for p in store.participants_of(session, team_id=team_id, standup_id=standup_id)
                if p.gone_since is not None}
        holidays = calendar.holiday_days(session, team_id=team_id, start=(now - timedelta(days=2)).date(),
                                         end=(now + timedelta(days=2)).date())
        away = store.away_ranges(session, team_id=team_id, user_ids=config.participants,
                                 start=(now - timedelta(days=2)).date(), end=(now + timedelta(days=2)).date())
    users = [u for u in config.participants if u not in gone]
    profiles = _profiles(runtime, client, team_id, users, now)  # cached a day: who left, and everyone's timezone
    participants = []
    for user_id in users:
        if user_id not in profiles:
            continue  # Slack did not answer about them; try again on the next tick
        person = profiles[user_id]
        if person is None or person.is_deleted:
            _tell_owner_gone(runtime, client, standup, user_id, now)
            continue
        tz = domain.participant_zone(config, person.timezone, runtime.settings.default_timezone)
        participants.append(domain.Participant(user_id, tz, tuple(away.get(user_id, ()))))
    work = domain.due_prompts(config, participants, now=now, holidays=holidays, force=force)
    with runtime.db.transaction() as session:
        done = store.prompted(session, team_id=team_id, standup_id=standup_id,
                              dates={p.local_date for p in work.prompts})
    due = [p for p in work.prompts if (p.user_id, p.local_date) not in done]
    if not due:
        return 0
    runs: dict[date, int] = {}
    closes: dict[date, datetime] = defaultdict(lambda: now)
    for prompt in due:
        closes[prompt.local_date] = max(closes[prompt.local_date], prompt.closes_at)
    for day in closes:
        # The day closes when the last timezone's window does, not when the first prompted one's does.
        for person in participants:
            closes[day] = max(closes[day], domain.answer_window(config, day, person.timezone).closes_at)
    with runtime.db.transaction() as session:
        standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
        if standup is None:
            return 0
        for day, closes_at in closes.items():
            runs[day] = store.open_run(session, team_id=team_id, standup=standup, local_date=day,
                                       closes_at=closes_at, now=now).id
    if config.report_style is domain.ReportStyle.THREAD:
        for run_id in runs.values():
            ensure_parent(runtime, client, team_id=team_id, run_id=run_id)
    today_index = _today_question(config.questions)
    return _send_prompts(runtime, client, standup=standup, runs=runs, due=due, today_index=today_index, now=now)


def _today_question(questions: tuple[domain.Question, ...]) -> int | None:
    """The question whose answer is "today's plan", shown in the next prompt for reference."""
    for index, question in enumerate(questions):
        if "today" in question.text.lower():
            return index
    return 1 if len(questions) > 1 else None


def _fanout_lease(fanout: FanOut, count: int) -> timedelta:
    """A claim lease that outlasts a paced fan-out of `count` messages, so no other process takes them over."""
    return max(PROMPT_LEASE, timedelta(seconds=2 * count / fanout.pacer.per_second + 60))


def _send_prompts(runtime: Runtime, client: WebClient, *, standup: store.Standup, runs: dict[date, int],
                  due: list[domain.DuePrompt], today_index: int | None, now: datetime) -> int:
    """Claim the due prompts, then send the ones this process won through the paced fan-out (one chat.postMessage
    each, inside Slack's rate limits); each claim is finished as its prompt is sent. The number sent."""
    team_id = standup.team_id
    fanout = FanOut(client, per_second=runtime.settings.slack_fanout_per_second)
    keyed = {f"standup.prompt:{standup.id}:{p.user_id}:{p.local_date.isoformat()}": p for p in due}
    won: list[str] = []
    with runtime.db.transaction() as session:
        # One order for every process, so that two of them claiming the same keys cannot deadlock.
        for key in sorted(keyed):
            if claims.claim(session, team_id=team_id, kind="standup.prompt", key=key, now=now,
                            due_at=keyed[key].due_at, lease=_fanout_lease(fanout, len(keyed))):
                won.append(key)
    if not won:
        return 0
    with runtime.db.transaction() as session:
        previous = {key: store.previous_answer(session, team_id=team_id, standup_id=standup.id,
                                               user_id=keyed[key].user_id, before=keyed[key].local_date,
                                               position=today_index) if today_index is not None else None
                    for key in won}
    posts = []
    for key in won:
        prompt = keyed[key]
        extra = hooks.prompt_sections(runtime, hooks.PromptContext(
            team_id=team_id, channel_id=standup.channel_id, standup_id=standup.id, user_id=prompt.user_id,
            local_date=prompt.local_date))
        text, blocks = views.prompt_message(standup_id=standup.id, channel_id=standup.channel_id,
                                            day=prompt.local_date, previous_today=previous[key], extra=extra)
        # The user id as channel posts in the app's DM with them: one call per person, no conversations.open.
        posts.append(Post(key=key, channel=prompt.user_id, text=text, blocks=blocks))

    def settle(delivery: Delivery) -> None:
        key, prompt = delivery.post.key, keyed[delivery.post.key]
        if delivery.ok:
            with runtime.db.transaction() as session:
                store.record_prompt(session, team_id=team_id, standup_id=standup.id, run_id=runs[prompt.local_date],
                                    user_id=prompt.user_id, local_date=prompt.local_date, timezone=prompt.timezone,
                                    due_at=prompt.due_at, closes_at=prompt.closes_at, sent_at=now,
                                    dm_channel_id=delivery.channel or "", dm_ts=delivery.ts or "")
                claims.finish(session, key=key, now=now)
            metrics.observe_lag("standup.prompt", prompt.due_at, runtime.now())
        elif delivery.error in GONE_ERRORS:
            with runtime.db.transaction() as session:
                claims.finish(session, key=key, now=now)
            _tell_owner_gone(runtime, client, standup, prompt.user_id, now)
        else:
            log.warning("stand-up prompt not sent (chat.postMessage): %s; retried later", delivery.error,
                        extra={"team": team_id, "standup": standup.id, "user": prompt.user_id})
            with runtime.db.transaction() as session:
                claims.release(session, key=key, now=now, retry_after=RETRY_AFTER, error=delivery.error or "unknown")

    return sum(1 for delivery in fanout.send(posts, on_delivery=settle) if delivery.ok)


def _tell_owner_gone(runtime: Runtime, client: WebClient, standup: store.Standup, user_id: str, now: datetime) -> None:
    key = f"standup.gone:{standup.id}:{user_id}"
    with runtime.db.transaction() as session:
        if not claims.claim(session, team_id=standup.team_id, kind="standup.gone", key=key, now=now):
            return
    try:
        client.chat_postMessage(channel=standup.owner_id,
                                text=views.gone_message(user_id=user_id, channel_id=standup.channel_id))
    except SlackApiError as error:
        log.warning("could not tell the stand-up owner about a departed participant: %s",
                    error.response.get("error"), extra={"standup": standup.id, "user": user_id})
        with runtime.db.transaction() as session:
            claims.release(session, key=key, now=now, retry_after=RETRY_AFTER, error=str(error.response.get("error")))
        return
    with runtime.db.transaction() as session:
        store.mark_gone(session, team_id=standup.team_id, standup_id=standup.id, user_id=user_id, now=now)
        claims.finish(session, key=key, now=now)


def send_reminders(runtime: Runtime, client: WebClient, *, team_id: str, standup_id: int, now: datetime) -> int:
    """One reminder, after the delay, to each prompted participant who has neither answered nor skipped."""
    with runtime.db.transaction() as session:
        standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
        if standup is None:
            return 0
        config = store.config_of(session, standup)
        waiting = [p for p in store.awaiting_reminder(session, team_id=team_id, standup_id=standup_id, now=now)
                   if domain.reminder_due(config, due_at=max(p.due_at, p.sent_at), closes_at=p.closes_at, now=now)]
        away = store.away_ranges(session, team_id=team_id, user_ids={p.user_id for p in waiting},
                                 start=min((p.local_date for p in waiting), default=None),
                                 end=max((p.local_date for p in waiting), default=None)) if waiting else {}
    waiting = [p for p in waiting if not any(p.local_date in r for r in away.get(p.user_id, ()))]
    if not waiting:
        return 0
    fanout = FanOut(client, per_second=runtime.settings.slack_fanout_per_second)
    keyed = {f"standup.reminder:{standup_id}:{p.user_id}:{p.local_date.isoformat()}": p for p in waiting}
    with runtime.db.transaction() as session:
        won = [key for key in sorted(keyed)
               if claims.claim(session, team_id=team_id, kind="standup.reminder", key=key, now=now,
                               lease=_fanout_lease(fanout, len(keyed)))]
    posts = []
    for key in won:
        text, blocks = views.reminder_message(standup_id=standup_id, channel_id=standup.channel_id,
                                              day=keyed[key].local_date)
        posts.append(Post(key=key, channel=keyed[key].user_id, text=text, blocks=blocks))

    def settle(delivery: Delivery) -> None:
        key, prompt = delivery.post.key, keyed[delivery.post.key]
        with runtime.db.transaction() as session:
            if delivery.ok:
                store.mark_reminded(session, team_id=team_id, prompt_id=prompt.id, now=now)
                claims.finish(session, key=key, now=now)
                return
            log.warning("stand-up reminder not sent (chat.postMessage): %s", delivery.error,
                        extra={"team": team_id, "standup": standup_id, "user": prompt.user_id})
            claims.release(session, key=key, now=now, retry_after=RETRY_AFTER, error=delivery.error or "unknown")

    return sum(1 for delivery in fanout.send(posts, on_delivery=settle) if delivery.ok)


def close_runs(runtime: Runtime, client: WebClient, *, team_id: str, now: datetime) -> None:
    """At the end of the answer window, the parent lists who did not answer and who was away (exactly once)."""
    with runtime.db.transaction() as session:
        due = [(r.id, r.standup_id) for r in store.runs_to_close(session, team_id=team_id, now=now)]
    for run_id, standup_id in due:
        key = f"standup.close:{run_id}"
        with runtime.db.transaction() as session:
            if not claims.claim(session, team_id=team_id, kind="standup.close", key=key, now=now):
                continue
            run = store.run_by_id(session, team_id=team_id, run_id=run_id)
            standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
            if run is None or standup is None:
                claims.finish(session, key=key, now=now)
                continue
            run.closed_at = now
            style = domain.ReportStyle(standup.report_style)
        if style is domain.ReportStyle.PER_ANSWER:
            closed = _post_summary(runtime, client, team_id=team_id, run_id=run_id)
        else:
            ensure_parent(runtime, client, team_id=team_id, run_id=run_id)  # a day when nobody was prompted
            refresh_parent(runtime, client, team_id=team_id, run_id=run_id)
            with runtime.db.transaction() as session:
                stored = store.run_by_id(session, team_id=team_id, run_id=run_id)
                closed = stored is not None and stored.report_ts is not None
        with runtime.db.transaction() as session:
            if closed:
                claims.finish(session, key=key, now=now)
                continue
            stored = store.run_by_id(session, team_id=team_id, run_id=run_id)
            if stored is not None:
                stored.closed_at = None  # closes again on a later tick
            claims.release(session, key=key, now=now, retry_after=RETRY_AFTER, error="report not posted")


def _post_summary(runtime: Runtime, client: WebClient, *, team_id: str, run_id: int) -> bool:
    """The closing summary of a day reported one message per answer; False when Slack refused it."""
    found = _parent(runtime, team_id, run_id)
    if found is None:
        return True
    run, (text, blocks) = found
    try:
        client.chat_postMessage(channel=run.report_channel_id, text=text, blocks=blocks)
    except SlackApiError as error:
        log.warning("stand-up summary not posted (chat.postMessage): %s", error.response.get("error"),
                    extra={"standup": run.standup_id, "channel": run.report_channel_id})
        return False
    return True


def post_unposted_answers(runtime: Runtime, client: WebClient, *, team_id: str) -> None:
    """Answers (and edits) Slack refused to take earlier are posted now: nothing is lost."""
    with runtime.db.transaction() as session:
        pending = [(a.id, a.report_ts is not None) for a in store.unposted_answers(session, team_id=team_id)]
    for answer_id, is_edit in pending:
        publish_answer(runtime, client, team_id=team_id, answer_id=answer_id, is_edit=is_edit)


def sync_usergroup(runtime: Runtime, client: WebClient, *, team_id: str, standup_id: int, now: datetime) -> None:
    """Once a (UTC) day, people who joined or left the stand-up's user group join or leave the stand-up."""
    with runtime.db.transaction() as session:
        standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
        if standup is None or not standup.usergroup_id:
            return
        group = standup.usergroup_id
        key = f"standup.usergroup:{standup_id}:{now.date().isoformat()}"
        if not claims.claim(session, team_id=team_id, kind="standup.usergroup", key=key, now=now):
            return
    try:
        members = client.usergroups_users_list(usergroup=group).get("users") or []
    except SlackApiError as error:
        log.warning("usergroups.users.list failed; the group is synced later: %s", error.response.get("error"),
                    extra={"team": team_id, "standup": standup_id})
        with runtime.db.transaction() as session:
            claims.release(session, key=key, now=now, retry_after=RETRY_AFTER, error=str(error.response.get("error")))
        return
    with runtime.db.transaction() as session:
        store.sync_usergroup(session, team_id=team_id, standup_id=standup_id, members=members)
        claims.finish(session, key=key, now=now)


def run_standups(runtime: Runtime, now: datetime) -> None:
    """Everything stand-ups do on a tick: prompts, reminders, window closes and retries, each claimed once."""
    with runtime.db.transaction() as session:
        teams = store.scheduled_workspaces(session)
    for team_id in teams:
        client = runtime.client_for(team_id)
        with runtime.db.transaction() as session:
            standup_ids = [s.id for s in store.active_standups(session, team_id=team_id)]
        for standup_id in standup_ids:
            sync_usergroup(runtime, client, team_id=team_id, standup_id=standup_id, now=now)
            send_due_prompts(runtime, client, team_id=team_id, standup_id=standup_id, now=now)
            send_reminders(runtime, client, team_id=team_id, standup_id=standup_id, now=now)
        close_runs(runtime, client, team_id=team_id, now=now)
        post_unposted_answers(runtime, client, team_id=team_id)


# -- the App Home ---------------------------------------------------------------------------------------------------

def home_section(runtime: Runtime, context: hooks.HomeContext) -> hooks.Blocks:
    """The person's stand-ups on their local date: written or not, with Write stand-up when one waits for them."""
    team_id, user_id, now = context.team_id, context.user_id, context.now
    start, end = now.date() - timedelta(days=1), now.date() + timedelta(days=1)  # every timezone's today
    items = []
    with runtime.db.reading() as session:
        standups = store.standups_of_participant(session, team_id=team_id, user_id=user_id)
        if not standups:
            return []
        person = people_store.get_person(session, team_id=team_id, user_id=user_id)
        holidays = calendar.holiday_days(session, team_id=team_id, start=start, end=end)
        away = store.away_ranges(session, team_id=team_id, user_ids=[user_id], start=start, end=end).get(user_id, [])
        for standup in standups:
            config = store.config_of(session, standup)
            tz = domain.participant_zone(config, person.timezone if person else None,
                                         runtime.settings.default_timezone)
            days = store.participant_days(session, team_id=team_id, standup_id=standup.id, user_id=user_id,
                                          start=start, end=end)
            today = domain.today_of(config, timezone=tz, now=now, paused=standup.paused, holidays=holidays,
                                    away=away, prompted=days.prompted, answered=days.answers.keys(),
                                    skipped=days.skipped)
            if today is None:
                continue
            answer = days.answers.get(today.day)
            items.append(views.HomeStandup(
                standup_id=standup.id, channel_id=standup.channel_id, today=today,
                late=answer.late if answer else today.state is domain.TodayState.WAITING and today.is_late(now),
                answer_id=answer.id if answer else None, permalink=answer.permalink if answer else None))
    return views.home_blocks(items)


def home_teams(runtime: Runtime, context: hooks.HomeContext) -> set[str]:
    """The team channels whose stand-up the person takes part in."""
    with runtime.db.reading() as session:
        return {s.channel_id for s in store.standups_of_participant(session, team_id=context.team_id,
                                                                    user_id=context.user_id)}


STANDUP = SlashCommand("/standup", handle_standup_command, (
    "/standup",
    "/standup setup",
    "/standup pause | resume | delete | now",
    "/standup away 2026-12-22 2027-01-02",
    "/standup holidays add 2026-12-25 [name] | remove 2026-12-25 | list",
    "/standup help",
))
SLASH_COMMANDS = (STANDUP,)
JOBS = (run_standups,)


def register(app: App) -> None:
    """Stand-up listeners, on the Bolt app."""
    app.command(STANDUP.name)(handle_standup_command)
    app.view(views.SETUP_VIEW)(submit_setup)
    app.view(views.ANSWER_VIEW)(submit_answer)
    app.view(views.AWAY_VIEW)(submit_away)
    app.action(views.WRITE)(open_answer_modal)
    app.action(views.EDIT)(open_edit_modal)
    app.action(views.SKIP)(skip_today)
    app.action(views.AWAY)(open_away_modal)
    app.action(views.DELETE_CONFIRM)(confirm_delete)
    app.action(views.DELETE_CANCEL)(cancel_delete)
    hooks.add_home_section(home_section)
    hooks.add_team_finder(home_teams)
