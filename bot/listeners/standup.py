"""`/standup`: async stand-ups — setup, prompts in each person's timezone, answers, the quiet report, reminders."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot import hooks
from bot.jobs import standup as jobs
from bot.listeners import roles
from bot.listeners.commands import SlashCommand, first_word
from bot.listeners.home import refresh_home
from bot.server.runtime import Runtime, runtime_of, slack_of
from bot.slack.gateway import Slack, SlackFailure, Verdict
from bot.views import standup as views
from bot.views.common import SLACK_SLOW
from bot.views.help import command_usage_blocks, command_usage_text
from ceremonies import standup as domain
from ceremonies.errors import InvalidInput, NotAllowed, NotFound
from storage import calendar, outbox
from storage import people as people_store
from storage import standup as store
from storage import standup_cases as cases
from storage.models import HOLIDAY_NAME_LENGTH

# -- slash command --------------------------------------------------------------------------------------------------

def handle_standup_command(ack: Ack, command: dict, context: BoltContext, respond: Respond) -> None:
    """Async stand-ups: DM prompts in each person's timezone, answers in a quiet threaded report."""
    subcommand, rest = first_word(command.get("text"))
    if subcommand == "help":
        ack(text=command_usage_text(STANDUP), blocks=command_usage_blocks(STANDUP), response_type="ephemeral")
    elif subcommand == "":
        ack()  # before reading the database: Slack waits 3 s at most
        respond(**_status(runtime_of(context), team_id=command["team_id"], channel_id=command["channel_id"]),
                response_type="ephemeral")
    elif subcommand in SUBCOMMANDS and not (rest and subcommand in BARE):
        SUBCOMMANDS[subcommand](ack, command, context, respond, rest)
    else:
        ack(**_usage(f"I don't know `{(command.get('text') or '').strip()[:50]}`."))


def _setup(ack: Ack, command: dict, context: BoltContext, respond: Respond, rest: str) -> None:
    ack()
    runtime, slack, team_id, channel_id = runtime_of(context), slack_of(context), command["team_id"], command["channel_id"]
    _open_setup(runtime, slack, team_id=team_id, channel_id=channel_id, user_id=command["user_id"],
                trigger_id=command["trigger_id"], response_url=command.get("response_url"))


def _pause_or_resume(ack: Ack, command: dict, context: BoltContext, respond: Respond, rest: str) -> None:
    ack()
    runtime, team_id, channel_id = runtime_of(context), command["team_id"], command["channel_id"]
    pause = first_word(command.get("text"))[0] == "pause"
    with runtime.db.reading() as session:
        owner_id = _standup_here(session, team_id, channel_id).owner_id
    roles.require_admin(runtime, slack_of(context), team_id=team_id, user_id=command["user_id"], owner_id=owner_id,
                        action=f"{'pause' if pause else 'resume'} this stand-up", owner_label="the stand-up's owner")
    with runtime.db.transaction() as session:
        store.set_paused(session, standup=_standup_here(session, team_id, channel_id), paused=pause,
                         now=runtime.now())
    respond(text="Stand-up paused: no prompts until `/standup resume`." if pause else "Stand-up resumed.",
            response_type="ephemeral")


def _delete(ack: Ack, command: dict, context: BoltContext, respond: Respond, rest: str) -> None:
    runtime, channel_id = runtime_of(context), command["channel_id"]
    with runtime.db.reading() as session:
        standup = store.get_standup(session, team_id=command["team_id"], channel_id=channel_id)
    if standup is None:
        ack(text="There is no stand-up in this channel.", response_type="ephemeral")
        return
    # Before ack, so that the confirmation is the reply; the owner needs no Slack call, others one cached one (or
    # Slack's first answer within 2 s: a slower Slack is told as busy, never a late ack).
    roles.require_admin(runtime, slack_of(context).quick(), team_id=command["team_id"], user_id=command["user_id"],
                        owner_id=standup.owner_id, action="delete this stand-up", owner_label="the stand-up's owner")
    text, blocks = views.delete_confirmation(standup.id, channel_id)
    ack(text=text, blocks=blocks, response_type="ephemeral")


def _now(ack: Ack, command: dict, context: BoltContext, respond: Respond, rest: str) -> None:
    ack()
    runtime, team_id = runtime_of(context), command["team_id"]
    with runtime.db.reading() as session:
        standup = _standup_here(session, team_id, command["channel_id"])
    sent = jobs.queue_due_prompts(runtime, slack_of(context), team_id=team_id, standup_id=standup.id,
                                  now=runtime.now(), force=True)
    respond(text=f"Started today's stand-up: {sent} prompt{'s' if sent != 1 else ''} sent "
            "(people already prompted today or away are left out).", response_type="ephemeral")


def _away(ack: Ack, command: dict, context: BoltContext, respond: Respond, rest: str) -> None:
    try:
        away = domain.parse_away(rest)
    except InvalidInput as problem:
        ack(**_usage(str(problem)))
        return
    ack(text=_record_away(runtime_of(context), team_id=command["team_id"], user_id=command["user_id"], away=away),
        response_type="ephemeral")


def _holidays_command(ack: Ack, command: dict, context: BoltContext, respond: Respond, rest: str) -> None:
    _holidays(ack, runtime_of(context), team_id=command["team_id"], user_id=command["user_id"], text=rest)


SUBCOMMANDS = {"setup": _setup, "pause": _pause_or_resume, "resume": _pause_or_resume, "delete": _delete,
               "now": _now, "away": _away, "holidays": _holidays_command}
BARE = frozenset({"pause", "resume", "delete", "now"})  # subcommands that take no text after them


def _usage(problem: str | None = None) -> dict[str, Any]:
    return {"text": command_usage_text(STANDUP, problem), "blocks": command_usage_blocks(STANDUP, problem),
            "response_type": "ephemeral"}


def _require_owner_or_admin(runtime: Runtime, client: Any, *, team_id: str, channel_id: str, user_id: str,
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
            changed = calendar.remove_holiday(session, team_id=team_id, day=day, now=runtime.now())
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

def _usergroups(slack: Slack) -> dict[str, str]:
    try:
        groups = slack.usergroups()
    except SlackFailure:  # e.g. a free workspace has none: the modal offers no user groups
        return {}
    return {g["id"]: f"@{g.get('handle') or g.get('name') or g['id']}" for g in groups if g.get("id")}


def _open_setup(runtime: Runtime, slack: Slack, *, team_id: str, channel_id: str, user_id: str,
                trigger_id: str, response_url: str | None) -> None:
    """Open the setup modal at once (the trigger lasts 3 s), then do what needs Slack: whether the person may change
    an existing stand-up (users.info for an admin), and the user groups; the modal is updated with what they say."""
    with runtime.db.transaction() as session:
        standup = store.get_standup(session, team_id=team_id, channel_id=channel_id)
        config = store.config_of(session, standup) if standup else domain.StandupConfig(
            channel_id=channel_id, report_channel_id=channel_id, participants=(),
            questions=domain.default_questions(), team_timezone=runtime.settings.default_timezone)
    opened = slack.open_view(trigger_id=trigger_id, view=views.setup_modal(config, channel_id=channel_id, usergroups={},
                                                                           response_url=response_url))
    view_id, view_hash = opened["view"]["id"], opened["view"].get("hash")
    try:
        _require_owner_or_admin(runtime, slack, team_id=team_id, channel_id=channel_id, user_id=user_id,
                                action="change this stand-up's settings")
    except NotAllowed as refusal:
        slack.update_view(view_id=view_id, hash=view_hash, view=views.refusal_modal(f":warning: {refusal}"))
        return
    if groups := _usergroups(slack):
        slack.update_view(view_id=view_id, hash=view_hash,
                          view=views.setup_modal(config, channel_id=channel_id, usergroups=groups,
                                                 response_url=response_url))


def submit_setup(ack: Ack, body: dict, context: BoltContext) -> None:
    """Save the setup modal in one go, or refuse it inline (the bot must be in the report channel)."""
    runtime, team_id, user_id = runtime_of(context), body["team"]["id"], body["user"]["id"]
    form = views.parse_setup(body["view"])
    try:  # Slack's first answers within 2 s, never a retry's sleep: Slack waits 3 s for the ack
        config, group_members, problems = _checked_setup(runtime, slack_of(context).quick(), form, team_id=team_id,
                                                         user_id=user_id)
    except SlackFailure as failure:
        if not failure.answer.retryable:
            raise
        ack(response_action="errors", errors={views.B_REPORT_CHANNEL: SLACK_SLOW})
        return
    if problems:
        ack(response_action="errors", errors=problems)
        return
    ack()
    with runtime.db.transaction() as session:
        store.save_standup(session, team_id=team_id, channel_id=form.channel_id, owner_id=user_id, config=config,
                           now=runtime.now(), from_usergroup=[m for m in group_members if m not in form.users])
    slack_of(context).tell(user=user_id, response_url=form.response_url, channel=form.channel_id,
                           text=f"Stand-up saved: {domain.days_label(config.days)} at "
                                f"{config.local_time.strftime('%H:%M')} for {len(config.participants)} people; "
                                f"report in <#{config.report_channel_id}>.")


def _checked_setup(runtime: Runtime, slack: Slack, form: views.SetupForm, *, team_id: str, user_id: str
                   ) -> tuple[domain.StandupConfig, list[str], dict[str, str]]:
    """The configuration the modal asks for (with the participants it could not show, and a user group's members),
    and what is wrong with it, by block."""
    problems = dict(form.problems)
    with runtime.db.reading() as session:
        stored = store.get_standup(session, team_id=team_id, channel_id=form.channel_id)
        kept = form.kept(store.config_of(session, stored).participants) if stored is not None else []
    members = [*form.users, *kept]
    group_members: list[str] = []
    if form.usergroup_id:
        try:
            group_members = slack.usergroup_members(usergroup=form.usergroup_id)
            members.extend(group_members)
        except SlackFailure as failure:
            if failure.answer.retryable:
                raise
            problems[views.B_USERGROUP] = f"Slack would not list that group's members ({failure.error})."
    config = form.config(members)
    problems.update(views.setup_errors(domain.config_problems(config)))
    if form.report_channel_id and views.B_REPORT_CHANNEL not in problems:
        problems.update(_report_channel_problem(slack, form.report_channel_id))
    elif not form.report_channel_id:
        problems[views.B_REPORT_CHANNEL] = "Pick the channel the report goes to."
    # Checked again on saving: the modal names its channel, and its owner or the admins may have changed meanwhile.
    try:
        _require_owner_or_admin(runtime, slack, team_id=team_id, channel_id=form.channel_id, user_id=user_id,
                                action="change this stand-up's settings")
    except NotAllowed as refusal:
        problems = {views.B_PARTICIPANTS: str(refusal)[:150]}
    return config, group_members, problems


def _report_channel_problem(slack: Slack, channel_id: str) -> dict[str, str]:
    """The bot joins a public report channel it is not in; a private one it is not in is refused inline."""
    try:
        slack.ensure_member(channel=channel_id)
    except SlackFailure as failure:
        if failure.verdict is not Verdict.UNREACHABLE:
            raise
        if failure.error == "is_archived":
            return {views.B_REPORT_CHANNEL: "That channel is archived; pick another one."}
        return {views.B_REPORT_CHANNEL: views.not_in_channel_error(channel_id)}
    return {}


def confirm_delete(ack: Ack, body: dict, context: BoltContext, respond: Respond) -> None:
    """Delete the stand-up after its owner (or an admin) confirmed on the ephemeral message."""
    ack()
    runtime, slack = runtime_of(context), slack_of(context)
    standup_id = views.parse_id_value(body["actions"][0]["value"])
    team_id = body["team"]["id"]
    with runtime.db.transaction() as session:
        standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
    if standup is not None:
        roles.require_admin(runtime, slack, team_id=team_id, user_id=body["user"]["id"], owner_id=standup.owner_id,
                            action="delete this stand-up", owner_label="the stand-up's owner")
    with runtime.db.transaction() as session:
        removed = cases.delete_standup(session, team_id=team_id, standup_id=standup_id)
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


def open_answer_modal(ack: Ack, body: dict, context: BoltContext) -> None:
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
    slack_of(context).open_view(trigger_id=body["trigger_id"],
                                view=views.answer_modal(standup_id=standup_id, day=day, questions=config.questions,
                                                        previous=previous))


def open_edit_modal(ack: Ack, body: dict, context: BoltContext) -> None:
    """Edit my answer: open the modal filled with the answer as it stands."""
    ack()
    runtime = runtime_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    with runtime.db.transaction() as session:
        answer = store.answer_by_id(session, team_id=team_id, answer_id=views.parse_id_value(body["actions"][0]["value"]))
        if answer is None or answer.user_id != user_id:
            raise NotFound("That answer no longer exists.")
        items = store.answer_items(session, team_id=team_id, answer_id=answer.id)
        standup_id, day = answer.standup_id, answer.local_date
    _standup, config = _standup_and_questions(runtime, team_id, standup_id)
    slack_of(context).open_view(trigger_id=body["trigger_id"],
                                view=views.answer_modal(standup_id=standup_id, day=day, questions=config.questions,
                                                        previous={i.position: i.text for i in items}))


def skip_today(ack: Ack, body: dict, context: BoltContext, respond: Respond) -> None:
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
    refresh_home(runtime, slack_of(context), team_id=team_id, user_id=user_id)


def open_away_modal(ack: Ack, body: dict, context: BoltContext) -> None:
    """I'm away…: a modal with the first and last day away."""
    ack()
    standup_id, day = views.parse_day_value(body["actions"][0]["value"])
    slack_of(context).open_view(trigger_id=body["trigger_id"], view=views.away_modal(standup_id=standup_id, day=day))


def submit_away(ack: Ack, body: dict, context: BoltContext) -> None:
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
    slack_of(context).post(channel=user_id, text=_record_away(runtime, team_id=body["team"]["id"], user_id=user_id,
                                                              away=away))


# -- answers --------------------------------------------------------------------------------------------------------

def submit_answer(ack: Ack, body: dict, context: BoltContext) -> None:
    """Record a participant's answers (refused inline when a required one is empty), post them, tell listeners."""
    runtime = runtime_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    standup_id, day, answers = views.parse_answer(body["view"])
    with runtime.db.reading() as session:
        standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
        config = store.config_of(session, standup) if standup is not None else None
        person = people_store.get_person(session, team_id=team_id, user_id=user_id)
    if standup is None or config is None:
        ack(response_action="errors", errors={views.answer_block(0): "This stand-up was deleted in the meantime."})
        return
    if problems := domain.answer_problems(config.questions, answers):
        ack(response_action="errors", errors=views.answer_errors(problems))
        return
    ack()
    now = runtime.now()
    timezone = domain.participant_zone(config, person.timezone if person else None, runtime.settings.default_timezone)
    with runtime.db.transaction() as session:
        recorded = cases.record_answer(session, team_id=team_id, standup=standup, config=config, user_id=user_id,
                                       day=day, answers=answers, timezone=timezone, now=now)
        if recorded is None:  # the same answers submitted again (a double click): already saved, nothing to say
            return
        hooks.standup_answer_recorded(session, hooks.StandupAnswerRecorded(
            team_id=team_id, channel_id=recorded.channel_id, report_channel_id=recorded.report_channel_id,
            standup_id=standup_id, run_id=recorded.run_id, answer_id=recorded.answer_id, user_id=user_id,
            local_date=recorded.local_date, blocker_text=recorded.blocker_text,
            report_parent_key=recorded.report_parent_key, answer_key=recorded.answer_key, is_edit=recorded.is_edit,
            now=now))
        text, blocks = views.confirmation_message(answer_id=recorded.answer_id, channel_id=recorded.channel_id,
                                                  day=day, is_edit=recorded.is_edit, late=recorded.late,
                                                  permalink=None)
        outbox.add(session, team_id=team_id, key=f"standup.thanks:{recorded.answer_id}:{now.isoformat()}",
                   kind="standup.thanks", channel=user_id, now=now, text=text, blocks=blocks)
    refresh_home(runtime, slack_of(context), team_id=team_id, user_id=user_id)


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
                answer_id=answer.id if answer else None,
                permalink=_permalink(runtime, answer) if answer else None))
    return views.home_blocks(items)


def _permalink(runtime: Runtime, answer: store.StandupAnswer) -> str | None:
    """The link to an answer in the report: asked of Slack once it is posted, then kept."""
    if answer.permalink or not answer.report_ts or not answer.report_channel_id:
        return answer.permalink
    try:
        link = runtime.gateway.for_team(answer.team_id).permalink(channel=answer.report_channel_id,
                                                                  ts=answer.report_ts)
    except SlackFailure:  # the Home shows the answer without its link this time
        return None
    with runtime.db.transaction() as session:
        cases.answer_permalink(session, team_id=answer.team_id, answer_id=answer.id, permalink=link)
    return link or None


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
