"""`/sprint`: start and end sprints, mark stories done, and post the summary across every ceremony."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import hooks
from bot.listeners.commands import SlashCommand, first_word
from bot.server.runtime import Runtime, runtime_of
from bot.slack.people import profile
from bot.views import charts
from bot.views import sprint as views
from bot.views.common import fallback_text
from bot.views.help import command_usage_blocks, command_usage_text
from ceremonies import sprint as domain
from ceremonies.errors import InvalidInput
from storage import claims, sprint_figures
from storage import sprint as store

log = logging.getLogger("cadence.sprint")

AUTO_END_BY = "cadence"


def handle_sprint_command(ack: Ack, command: dict, respond: Respond, client: WebClient, context: BoltContext) -> None:
    """Runs the team channel's sprint: start, status, done, summary and end."""
    subcommand, rest = first_word(command.get("text"))
    if subcommand == "help":
        ack(text=command_usage_text(SPRINT), blocks=command_usage_blocks(SPRINT), response_type="ephemeral")
        return
    handler = SUBCOMMANDS.get(subcommand)
    if handler is None:
        problem = f"I don't know `{subcommand[:40]}`."
        ack(text=command_usage_text(SPRINT, problem), blocks=command_usage_blocks(SPRINT, problem))
        return
    ack()
    handler(runtime_of(context), client, respond, context, rest)


def _team(context: BoltContext) -> tuple[str, str, str]:
    return context.team_id or "", context.channel_id or "", context.user_id or ""


def _today(runtime: Runtime, timezone: str) -> date:
    return runtime.now().astimezone(ZoneInfo(timezone)).date()


def status(runtime: Runtime, client: WebClient, respond: Respond, context: BoltContext, rest: str) -> None:
    team_id, channel_id, _user = _team(context)
    with runtime.db.transaction() as session:
        sprint = store.running_sprint(session, team_id=team_id, channel_id=channel_id)
        if sprint is None:
            respond(text="No sprint is running in this channel. Start one with "
                         '`/sprint start "Sprint 1" --until YYYY-MM-DD --goal "…"`.', response_type="ephemeral")
            return
        today = _today(runtime, sprint.timezone)
        summary = sprint_figures.summary(session, sprint=sprint, now=runtime.now())
        days_left = max((sprint.ends_on - today).days, 0)
    blocks = views.status_blocks(summary, days_left=days_left)
    respond(text=fallback_text(f"{summary.sprint.name}: health {summary.health.status.value}"), blocks=blocks,
            response_type="ephemeral")


def start(runtime: Runtime, client: WebClient, respond: Respond, context: BoltContext, rest: str) -> None:
    team_id, channel_id, user_id = _team(context)
    person = profile(runtime, client, team_id=team_id, user_id=user_id)
    timezone = (person.timezone if person and person.timezone else None) or runtime.settings.default_timezone
    today = _today(runtime, timezone)
    plan = domain.parse_start(rest, today=today)
    with runtime.db.transaction() as session:
        sprint = store.start_sprint(session, team_id=team_id, channel_id=channel_id, plan=plan, timezone=timezone,
                                    starts_on=today, by=user_id, now=runtime.now())
        info = sprint.info()
        stories = [s.story() for s in store.stories(session, team_id=team_id, sprint_id=sprint.id)]
    client.chat_postMessage(channel=channel_id, text=fallback_text(f"{info.name} started"),
                            blocks=views.started_blocks(info, stories))


def done(runtime: Runtime, client: WebClient, respond: Respond, context: BoltContext, rest: str) -> None:
    team_id, channel_id, user_id = _team(context)
    keys = [domain.parse_story_key(word) for word in rest.replace(",", " ").split()]
    if not keys:
        raise InvalidInput("say which story is done, e.g. `/sprint done PAY-123`.")
    with runtime.db.transaction() as session:
        finished = [
            store.complete_story(session, team_id=team_id, channel_id=channel_id, key=key, by=user_id,
                                 now=runtime.now())
            for key in keys
        ]
        total = sum(s.points for s in finished)
    respond(text=f":white_check_mark: {', '.join(keys)} done ({total:g} points).", response_type="ephemeral")


def add(runtime: Runtime, client: WebClient, respond: Respond, context: BoltContext, rest: str) -> None:
    team_id, channel_id, user_id = _team(context)
    words = rest.split(maxsplit=2)
    if len(words) < 2:
        raise InvalidInput("write `/sprint add KEY POINTS [title]`, e.g. `/sprint add PAY-9 3 Refund flow`.")
    key = domain.parse_story_key(words[0])
    try:
        points = float(words[1].replace("½", ".5").replace(",", "."))
    except ValueError as error:
        raise InvalidInput(f"`{words[1][:20]}` is not a number of points.") from error
    if not 0 <= points <= 1000:
        raise InvalidInput("points must be between 0 and 1000.")
    title = domain.parse_story_title(words[2] if len(words) > 2 else "")
    with runtime.db.transaction() as session:
        if store.running_sprint(session, team_id=team_id, channel_id=channel_id) is None:
            raise InvalidInput("no sprint is running in this channel. Start one with `/sprint start`.")
        story = store.add_story(session, team_id=team_id, channel_id=channel_id, key=key,
                                title=title, points=points, by=user_id,
                                now=runtime.now(), source="manual")
        change = "a scope change" if not story.committed else "committed"
    respond(text=f"{key} added ({points:g} points, {change}).", response_type="ephemeral")


def remove(runtime: Runtime, client: WebClient, respond: Respond, context: BoltContext, rest: str) -> None:
    team_id, channel_id, user_id = _team(context)
    key = domain.parse_story_key(rest.strip() or "?")
    with runtime.db.transaction() as session:
        story = store.remove_story(session, team_id=team_id, channel_id=channel_id, key=key, by=user_id,
                                   now=runtime.now())
        points = story.points
    respond(text=f"{key} removed from the sprint ({points:g} points of scope change).", response_type="ephemeral")


def summary_now(runtime: Runtime, client: WebClient, respond: Respond, context: BoltContext, rest: str) -> None:
    team_id, channel_id, _user = _team(context)
    with runtime.db.transaction() as session:
        sprint = store.running_sprint(session, team_id=team_id, channel_id=channel_id)
        if sprint is None:
            raise InvalidInput("no sprint is running in this channel.")
        sprint_id = sprint.id
    post_summary(runtime, client, team_id=team_id, sprint_id=sprint_id)


def end(runtime: Runtime, client: WebClient, respond: Respond, context: BoltContext, rest: str) -> None:
    team_id, channel_id, user_id = _team(context)
    with runtime.db.transaction() as session:
        sprint = store.running_sprint(session, team_id=team_id, channel_id=channel_id)
        if sprint is None:
            raise InvalidInput("no sprint is running in this channel.")
        sprint_id = sprint.id
    finish_sprint(runtime, client, team_id=team_id, sprint_id=sprint_id, by=user_id)


def finish_sprint(runtime: Runtime, client: WebClient, *, team_id: str, sprint_id: int, by: str) -> bool:
    """End the sprint and post its final summary, exactly once whoever asks (a person, or the end-date job)."""
    key = f"sprint.end:{sprint_id}"
    now = runtime.now()
    with runtime.db.transaction() as session:
        if not claims.claim(session, team_id=team_id, kind="sprint.end", key=key, now=now):
            return False
    with runtime.db.transaction() as session:
        sprint = session.get(store.Sprint, sprint_id)
        if sprint is not None and sprint.ended_at is None:
            sprint.ended_at = now
            sprint.ended_by = by
    try:
        post_summary(runtime, client, team_id=team_id, sprint_id=sprint_id)
    except Exception as error:
        with runtime.db.transaction() as session:
            claims.release(session, key=key, now=runtime.now(), retry_after=timedelta(minutes=1), error=str(error))
        raise
    with runtime.db.transaction() as session:
        claims.finish(session, key=key, now=runtime.now())
    return True


def post_summary(runtime: Runtime, client: WebClient, *, team_id: str, sprint_id: int) -> str:
    """Post the summary to the team channel with its chart in the thread; per-person figures go to the facilitator."""
    with runtime.db.transaction() as session:
        sprint = session.get(store.Sprint, sprint_id)
        assert sprint is not None
        assert sprint.team_id == team_id
        summary = sprint_figures.summary(session, sprint=sprint, now=runtime.now())
        channel_id = sprint.channel_id
    posted = client.chat_postMessage(
        channel=channel_id,
        text=fallback_text(f"{summary.sprint.name}: health {summary.health.status.value}"),
        blocks=views.summary_blocks(summary),
    )
    client.files_upload_v2(
        channel=channel_id,
        thread_ts=posted["ts"],
        content=charts.burn_up_png(summary),
        filename=f"{summary.sprint.name.replace(' ', '-').lower()}-burn-up.png",
        title=f"{summary.sprint.name} burn-up",
    )
    client.chat_postMessage(
        channel=summary.sprint.facilitator_id,
        text=fallback_text(f"{summary.sprint.name}: stand-up participation per person"),
        blocks=views.participation_blocks(summary),
    )
    return posted["ts"]


def end_overdue_sprints(runtime: Runtime, now: datetime) -> None:
    """Sprints whose last day is over in their timezone end by themselves, with their summary."""
    with runtime.db.transaction() as session:
        due = [
            (s.team_id, s.id)
            for s in store.running_sprints(session)
            if now.astimezone(ZoneInfo(s.timezone)).date() > s.ends_on
        ]
    for team_id, sprint_id in due:
        finish_sprint(runtime, runtime.client_for(team_id), team_id=team_id, sprint_id=sprint_id, by=AUTO_END_BY)


def handle_done_button(ack: Ack, body: dict, respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    key = body["actions"][0]["value"]
    runtime = runtime_of(context)
    team_id = context.team_id or ""
    channel_id = context.channel_id or ""
    with runtime.db.transaction() as session:
        store.complete_story(session, team_id=team_id, channel_id=channel_id, key=key, by=context.user_id or "",
                             now=runtime.now())
        sprint = store.running_sprint(session, team_id=team_id, channel_id=channel_id)
        assert sprint is not None
        today = _today(runtime, sprint.timezone)
        summary = sprint_figures.summary(session, sprint=sprint, now=runtime.now())
        days_left = max((sprint.ends_on - today).days, 0)
    respond(text=f"{key} done.", blocks=views.status_blocks(summary, days_left=days_left), replace_original=True)


SUBCOMMANDS = {
    "": status,
    "status": status,
    "start": start,
    "done": done,
    "add": add,
    "remove": remove,
    "summary": summary_now,
    "end": end,
}

SPRINT = SlashCommand(
    "/sprint",
    handle_sprint_command,
    (
        '/sprint start "Sprint 14" --until 2026-12-09 --goal "Checkout v2"',
        "/sprint",
        "/sprint done PAY-123",
        "/sprint add PAY-124 3 [title]",
        "/sprint remove PAY-124",
        "/sprint summary",
        "/sprint end",
        "/sprint help",
    ),
)
SLASH_COMMANDS = (SPRINT,)
JOBS = (end_overdue_sprints,)


def home_section(runtime: Runtime, context: hooks.HomeContext) -> list[dict]:
    """The health of the running sprint of each team the person belongs to."""
    with runtime.db.reading() as session:
        channels = hooks.teams_of(runtime, context) | store.channels_of(session, team_id=context.team_id,
                                                                           user_id=context.user_id)
        summaries = []
        for sprint in store.running_sprints_in(session, team_id=context.team_id, channel_ids=channels):
            summaries.append((sprint.channel_id, sprint_figures.summary(session, sprint=sprint, now=context.now)))
    return views.home_blocks(summaries)


def home_teams(runtime: Runtime, context: hooks.HomeContext) -> set[str]:
    """The team channels whose sprints the person started or added stories to."""
    with runtime.db.reading() as session:
        return store.channels_of(session, team_id=context.team_id, user_id=context.user_id)


def register(app: App) -> None:
    app.command(SPRINT.name)(handle_sprint_command)
    app.action(views.DONE_ACTION)(handle_done_button)
    hooks.add_home_section(home_section)
    hooks.add_team_finder(home_teams)
