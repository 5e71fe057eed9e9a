"""The executive digest in Slack: the weekly message (one per recipient, within 50 blocks, its chart in the
thread), the settings modal and the admin's answers."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ConversationMultiSelectElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
    TimePickerElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.views.common import Block, context, divider, escape, fallback_text, fit_message, header, section
from bot.views.sprint import HEALTH_ICON, chance_label, day_label, percent, points
from ceremonies import digest as domain
from ceremonies.digest import Digest, TeamStatus

SETTINGS_VIEW = "digest.settings"
B_CHANNELS, B_PEOPLE, B_WEEKDAY, B_TIME, B_TIMEZONE = (
    "digest.channels", "digest.people", "digest.weekday", "digest.time", "digest.timezone")
VALUE = "value"
FIELD_BLOCKS = {"recipients": B_CHANNELS, "weekday": B_WEEKDAY, "time": B_TIME, "timezone": B_TIMEZONE}
TEAMS_IN_MESSAGE = 20  # two blocks a team (its section, a divider) + header, overview and footer stay within 50


def settings_modal(current: domain.DigestSettings | None, *, timezone: str) -> dict[str, Any]:
    """Who gets the weekly digest, on which weekday, at what time."""
    weekday = current.weekday if current is not None else 0
    options = [Option(value=str(i), label=name) for i, name in enumerate(domain.WEEKDAYS)]
    blocks = [
        section("The digest rolls up every team channel's sprint health, progress, forecast, velocity, top risks, "
                "old blockers and scope change in one message a week, with a link to a web page anyone can read."),
        InputBlock(block_id=B_CHANNELS, label=PlainTextObject(text="Channels"), optional=True,
                   element=ConversationMultiSelectElement(
                       action_id=VALUE, placeholder=PlainTextObject(text="Pick channels"),
                       initial_conversations=list(current.channels) if current else None,
                       filter={"include": ["public", "private"], "exclude_bot_users": True})).to_dict(),
        InputBlock(block_id=B_PEOPLE, label=PlainTextObject(text="People (by DM)"), optional=True,
                   element=UserMultiSelectElement(action_id=VALUE, placeholder=PlainTextObject(text="Pick people"),
                                                  initial_users=list(current.people) if current else None)).to_dict(),
        InputBlock(block_id=B_WEEKDAY, label=PlainTextObject(text="Every"),
                   element=StaticSelectElement(action_id=VALUE, options=options,
                                               initial_option=options[weekday])).to_dict(),
        InputBlock(block_id=B_TIME, label=PlainTextObject(text="At"),
                   element=TimePickerElement(action_id=VALUE, initial_time=(
                       current.at if current else time(9, 0)).strftime("%H:%M"))).to_dict(),
        InputBlock(block_id=B_TIMEZONE, label=PlainTextObject(text="Timezone"),
                   element=PlainTextInputElement(action_id=VALUE, max_length=domain.TIMEZONE_LIMIT,
                                                 initial_value=current.timezone if current else timezone)).to_dict(),
    ]
    return View(type="modal", callback_id=SETTINGS_VIEW, title=PlainTextObject(text="Executive digest"),
                submit=PlainTextObject(text="Save"), close=PlainTextObject(text="Cancel"), blocks=blocks).to_dict()


def parse_settings(view: dict[str, Any]) -> dict[str, Any]:
    """The modal's values as plain data for `ceremonies.digest.validate_settings`."""
    values = (view.get("state") or {}).get("values") or {}

    def state(block: str) -> dict[str, Any]:
        return (values.get(block) or {}).get(VALUE) or {}

    return {
        "channels": list(state(B_CHANNELS).get("selected_conversations") or []),
        "people": list(state(B_PEOPLE).get("selected_users") or []),
        "weekday": (state(B_WEEKDAY).get("selected_option") or {}).get("value"),
        "at": state(B_TIME).get("selected_time"),
        "timezone": state(B_TIMEZONE).get("value"),
    }


def settings_errors(problems: dict[str, str]) -> dict[str, str]:
    return {FIELD_BLOCKS.get(field, B_CHANNELS): text[:150] for field, text in problems.items()}


def saved_text(settings: domain.DigestSettings, *, next_due: datetime, url: str, link_days: int) -> str:
    """To the admin who saved the settings: who gets it, when the next goes out, and today's page."""
    who = ", ".join([f"<#{c}>" for c in settings.channels] + [f"<@{p}>" for p in settings.people])
    local = next_due.astimezone(ZoneInfo(settings.timezone))
    return (f":white_check_mark: The executive digest goes to {who} every {domain.WEEKDAYS[settings.weekday]} at "
            f"{settings.at:%H:%M} ({escape(settings.timezone)}); the next on {day_label(local.date())}.\n"
            f"Today's page: <{url}|open the digest> (the link works for {link_days} days; "
            f"`/cadence digest revoke` withdraws every link).")


def revoked_text(count: int) -> str:
    if count == 0:
        return "No live report link to revoke."
    return (f":no_entry: {count} report link{'s' if count != 1 else ''} revoked: they now show a page saying so. "
            "The next digest brings a new one.")


def digest_text(digest: Digest) -> str:
    teams = len(digest.teams)
    return fallback_text(f"Weekly digest: {teams} team{'s' if teams != 1 else ''}, {digest.count('red')} red, "
                         f"{digest.count('amber')} amber, {digest.count('green')} green")


def _velocity(team: TeamStatus) -> str:
    values = [points(v) for _name, v in team.velocities]
    running = team.summary is not None and team.summary.sprint.ended_at is None
    if values and running and team.velocities[-1][0] == team.summary.sprint.name:
        values[-1] += " so far"  # the running sprint is not a finished velocity
    return " → ".join(values) if values else "no sprints yet"


def _forecast(team: TeamStatus) -> str:
    f = team.forecast
    if f is None:
        return "sprint over"
    if not f.enough_history:
        return "not enough history"
    if f.remaining <= 0:
        return "all committed work done"
    likely = f.date_at(0.85)
    return (f"{chance_label(f.probability or 0.0)} chance by the end · 85% by "
            f"{day_label(likely) if likely else 'later than a year'}")


def team_text(team: TeamStatus) -> str:
    """One team in the digest, in a few short lines."""
    s = team.summary
    if s is None:
        return f"<#{team.channel_id}> · no sprint"
    verdict = s.health
    lines = [f"{HEALTH_ICON[verdict.status]} <#{team.channel_id}> *{escape(s.sprint.name)}* · "
             f"*{verdict.status.value}* · ends {day_label(s.sprint.ends_on)}"]
    lines += [f"• {escape(reason)}" for reason in verdict.reasons[:3]]
    added = f" · +{points(s.added_points)} added" if s.added_stories else ""
    lines.append(f"Progress {points(s.committed_done_points)}/{points(s.committed_points)} committed points{added} · "
                 f"scope change {percent(s.scope_change_share)} · forecast: {_forecast(team)}")
    lines.append(f"Velocity {_velocity(team)}")
    if team.risks:
        lines.append("Top risks: " + " · ".join(f"*{r.score}* {escape(r.title)}" for r in team.risks))
    if team.old_blockers:
        oldest = team.old_blockers[0]
        lines.append(f"{len(team.old_blockers)} blocker{'s' if len(team.old_blockers) != 1 else ''} older than "
                     f"{team.blocker_threshold_days} working day{'s' if team.blocker_threshold_days != 1 else ''} "
                     f"(oldest #{oldest.number}, {oldest.working_days:.1f} d: {escape(oldest.text[:80])})")
    return "\n".join(lines)


def digest_blocks(digest: Digest, *, url: str) -> list[Block]:
    """The weekly roll-up: red teams first, at most 50 blocks; every team is on the web page."""
    blocks = [header(f"Weekly digest · week of {day_label(digest.week_of)}"),
              context(f"{len(digest.teams)} team{'s' if len(digest.teams) != 1 else ''}: "
                      f"{digest.count('red')} red · {digest.count('amber')} amber · {digest.count('green')} green · "
                      f"<{url}|open the full report page>")]
    if not digest.teams:
        blocks.append(section("No team channel has a running sprint, or one that ended in the last two weeks."))
    for team in digest.teams[:TEAMS_IN_MESSAGE]:
        blocks += [divider(), section(team_text(team))]
    more = len(digest.teams) - TEAMS_IN_MESSAGE
    footer = f"…and {more} more teams on the page. " if more > 0 else ""
    blocks += [divider(), context(f"{footer}Velocity chart in the thread · <{url}|report page> (read-only, "
                                  "no Slack sign-in needed; the link expires)")]
    return fit_message(blocks)


def chart_filename(digest: Digest) -> str:
    return f"velocity-trend-{digest.week_of.isoformat()}.png"
