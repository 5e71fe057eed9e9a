"""`/sprint`: start and end sprints, mark stories done, and post the summary across every ceremony."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt import Ack, App, BoltContext, Respond

from bot import hooks
from bot.listeners.commands import SlashCommand, first_word
from bot.server.runtime import Runtime, runtime_of, slack_of
from bot.slack.people import profile
from bot.views import sprint as views
from bot.views import trackers as tracker_views
from bot.views.help import command_usage_blocks, command_usage_text
from ceremonies import sprint as domain
from ceremonies import trackers
from storage import outbox, sprint_figures
from storage import sprint as store
from storage import trackers_cases as tracker_cases


@dataclass(frozen=True)
class Asked:
    """Who asked what, where: a `/sprint` subcommand's request as plain data."""

    team_id: str
    channel_id: str
    user_id: str
    rest: str
    request: str  # the command's trigger id: the same request never queues a report twice


def handle_sprint_command(ack: Ack, command: dict, respond: Respond, context: BoltContext) -> None:
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
    asked = Asked(context.team_id or "", context.channel_id or "", context.user_id or "", rest,
                  str(command.get("trigger_id") or ""))
    handler(runtime_of(context), respond, context, asked)


def status(runtime: Runtime, respond: Respond, context: BoltContext, asked: Asked) -> None:
    with runtime.db.reading() as session:
        now = sprint_figures.status(session, team_id=asked.team_id, channel_id=asked.channel_id, now=runtime.now())
    if now is None:
        respond(text=views.no_sprint_text(), response_type="ephemeral")
        return
    respond(text=views.summary_text(now.summary), blocks=views.status_blocks(now.summary, days_left=now.days_left),
            response_type="ephemeral")


def start(runtime: Runtime, respond: Respond, context: BoltContext, asked: Asked) -> None:
    # The person's timezone becomes the sprint's calendar (people.profile reads the cache, else users.info).
    person = profile(runtime, slack_of(context), team_id=asked.team_id, user_id=asked.user_id)
    timezone = (person.timezone if person and person.timezone else None) or runtime.settings.default_timezone
    now = runtime.now()
    link, rest = trackers.split_link_option(asked.rest)  # --jira BOARD:SPRINT or --github owner/repo#MILESTONE
    plan = domain.parse_start(rest, today=domain.local_day(now, timezone))
    slack_of(context).ensure_member(channel=asked.channel_id)  # a refusal is told before anything is saved
    with runtime.db.transaction() as session:
        sprint = store.start_sprint(session, team_id=asked.team_id, channel_id=asked.channel_id, plan=plan,
                                    timezone=timezone, starts_on=domain.local_day(now, timezone), by=asked.user_id,
                                    now=now)
        if link is not None:  # its issues arrive with the first sync (bot/jobs/trackers.py), due at once
            tracker_cases.link_running_sprint(session, team_id=asked.team_id, channel_id=asked.channel_id,
                                              sprint_id=sprint.id, link=link, now=now)
        info, stories = sprint.info(), [s.story() for s in store.stories(session, team_id=asked.team_id,
                                                                          sprint_id=sprint.id)]
        outbox.add(session, team_id=asked.team_id, key=f"sprint.started:{sprint.id}", kind="sprint.started",
                   channel=asked.channel_id, now=now, text=views.started_text(info),
                   blocks=views.started_blocks(info, stories))
    if link is not None:
        respond(text=tracker_views.following_text(link), response_type="ephemeral")


def done(runtime: Runtime, respond: Respond, context: BoltContext, asked: Asked) -> None:
    keys = domain.parse_story_keys(asked.rest)
    with runtime.db.transaction() as session:
        total = sum(store.complete_story(session, team_id=asked.team_id, channel_id=asked.channel_id, key=key,
                                         by=asked.user_id, now=runtime.now()).points for key in keys)
    respond(text=views.done_text(keys, total), response_type="ephemeral")


def add(runtime: Runtime, respond: Respond, context: BoltContext, asked: Asked) -> None:
    addition = domain.parse_story_addition(asked.rest)
    with runtime.db.transaction() as session:
        story = store.add_running_story(session, team_id=asked.team_id, channel_id=asked.channel_id,
                                        addition=addition, by=asked.user_id, now=runtime.now())
        committed = story.committed
    respond(text=views.added_text(addition.key, addition.points, committed=committed), response_type="ephemeral")


def remove(runtime: Runtime, respond: Respond, context: BoltContext, asked: Asked) -> None:
    key = domain.parse_story_key(asked.rest.strip() or "?")
    with runtime.db.transaction() as session:
        story = store.remove_story(session, team_id=asked.team_id, channel_id=asked.channel_id, key=key,
                                   by=asked.user_id, now=runtime.now())
        points = story.points
    respond(text=views.removed_text(key, points), response_type="ephemeral")


def summary_now(runtime: Runtime, respond: Respond, context: BoltContext, asked: Asked) -> None:
    """The report so far goes to the channel through the outbox (summary, chart in its thread, the facilitator's DM)."""
    with runtime.db.transaction() as session:
        queued = store.report_so_far(session, team_id=asked.team_id, channel_id=asked.channel_id,
                                     request=asked.request or runtime.now().isoformat(), now=runtime.now())
    respond(text=views.report_queued_text(queued.name), response_type="ephemeral")


def end(runtime: Runtime, respond: Respond, context: BoltContext, asked: Asked) -> None:
    """Ending the sprint and queueing its final report are one transaction: both happen, or neither."""
    with runtime.db.transaction() as session:
        ended = store.end_running_sprint(session, team_id=asked.team_id, channel_id=asked.channel_id,
                                         by=asked.user_id, now=runtime.now())
    respond(text=views.ended_text(ended.name), response_type="ephemeral")


def handle_done_button(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    key = body["actions"][0]["value"]
    runtime = runtime_of(context)
    team_id, channel_id = context.team_id or "", context.channel_id or ""
    with runtime.db.transaction() as session:
        store.complete_story(session, team_id=team_id, channel_id=channel_id, key=key, by=context.user_id or "",
                             now=runtime.now())
        now = sprint_figures.status(session, team_id=team_id, channel_id=channel_id, now=runtime.now())
    assert now is not None  # the story's sprint is running: complete_story found it
    respond(text=f"{key} done.", blocks=views.status_blocks(now.summary, days_left=now.days_left),
            replace_original=True)


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
        '/sprint start "Sprint 14" --until 2026-12-09 --jira BOARD:SPRINT  (or --github owner/repo#MILESTONE)',
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
