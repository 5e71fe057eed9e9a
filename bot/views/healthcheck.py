"""Health-check messages and modals: set-up, the invitation and reminder DMs, the answer modal, the results and
their dimensions × rounds chart, the retro and sprint-summary sections, the App Home. Pure functions, no I/O.

Nothing here ever receives who gave an answer: results are aggregates, comments come sorted, and a participant's own
answer is shown only in their own modal.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, time
from typing import Any

from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

from bot.views.common import (
    Block,
    actions,
    button,
    context,
    cut,
    divider,
    escape,
    fallback_text,
    fit_message,
    header,
    section,
)
from ceremonies import healthcheck as domain
from ceremonies.healthcheck import (
    CADENCE_LABELS,
    Cadence,
    Dimension,
    DimensionResult,
    HealthCheckSetup,
    Rating,
    RoundResult,
    SprintSection,
    Trend,
)

SETUP_VIEW = "healthcheck.setup"
ANSWER_VIEW = "healthcheck.answer"
ANSWER = "healthcheck.open_answer"  # the button in the DM and on the Home
INPUT = "value"
B_DIMENSIONS, B_CADENCE, B_WEEKDAY, B_TIME = "hc.dimensions", "hc.cadence", "hc.weekday", "hc.time"
B_TIMEZONE, B_PARTICIPANTS, B_WINDOW, B_K = "hc.timezone", "hc.participants", "hc.window", "hc.k"
B_COMMENT = "hc.comment"
SETUP_BLOCKS = {"dimensions": B_DIMENSIONS, "cadence": B_CADENCE, "weekday": B_WEEKDAY, "timezone": B_TIMEZONE,
                "participants": B_PARTICIPANTS, "window": B_WINDOW, "k": B_K}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ICON = {Rating.GREEN: "🟢", Rating.AMBER: "🟡", Rating.RED: "🔴"}
RATING_LABELS = {Rating.GREEN: "🟢 Green", Rating.AMBER: "🟡 Amber", Rating.RED: "🔴 Red"}
TREND_LABELS = {Trend.BETTER: "Better", Trend.SAME: "The same", Trend.WORSE: "Worse"}
TREND_ARROWS = {Trend.BETTER: "↑ better", Trend.SAME: "→ same", Trend.WORSE: "↓ worse"}
DIMENSIONS_TEXT_LIMIT = 3000
LINES_PER_SECTION = 10
COMMENTS_PER_SECTION = 8  # 8 comments of at most 280 characters stay within a section's 3,000
COMMENT_SHOWN = 280

CHART_DPI = 100
CHART_WIDTH_INCHES = 10  # 1000 px
CHART_COLOURS = ["#e01e5a", "#ecb22e", "#2eb67d"]  # red, amber, green (Slack's own)
CHART_EMPTY = "#d9d9d9"


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text or " ", "emoji": True}


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _plain(cut(text, 75)), "value": value}


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False,
           hint: str | None = None) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "label": _plain(cut(label, 2000)),
                    "element": {**element, "action_id": INPUT}, "optional": optional}
    if hint:
        block["hint"] = _plain(cut(hint, 2000))
    return block


def _modal(callback_id: str, title: str, blocks: list[Block], metadata: Mapping[str, Any],
           submit: str | None = "Save") -> dict[str, Any]:
    view: dict[str, Any] = {"type": "modal", "callback_id": callback_id, "title": _plain(title[:24]),
                            "close": _plain("Close" if submit is None else "Cancel"), "blocks": blocks,
                            "private_metadata": json.dumps(metadata)}
    if submit is not None:
        view["submit"] = _plain(submit)
    return view


def when(at: datetime) -> str:
    """A time shown in each reader's own timezone by Slack, with a UTC fallback."""
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} at {{time}}|{at:%a %d %b %H:%M} UTC>"


# -- set-up ------------------------------------------------------------------------------------------------------------
def setup_modal(setup: HealthCheckSetup, *, channel_id: str) -> dict[str, Any]:
    """The `/healthcheck setup` modal, filled with the channel's health check (or the defaults)."""
    cadence_options = [_option(label, cadence.value) for cadence, label in CADENCE_LABELS.items()]
    weekday_options = [_option(name, str(i)) for i, name in enumerate(WEEKDAYS)]
    participants: dict[str, Any] = {"type": "multi_users_select"}
    if setup.participants:
        participants["initial_users"] = list(setup.participants)[: domain.MAX_PARTICIPANTS]
    blocks = [
        _input(B_DIMENSIONS, "Dimensions", {
            "type": "plain_text_input", "multiline": True, "max_length": DIMENSIONS_TEXT_LIMIT,
            "initial_value": cut(domain.format_dimensions(setup.dimensions), DIMENSIONS_TEXT_LIMIT)},
            hint="One a line: Name | what awesome looks like | what crappy looks like."),
        _input(B_PARTICIPANTS, "Participants", participants,
               hint="Each gets a DM when a round opens. Default: the channel's stand-up participants."),
        _input(B_CADENCE, "Rounds open", {
            "type": "static_select", "options": cadence_options,
            "initial_option": cadence_options[list(CADENCE_LABELS).index(setup.cadence)]}),
        _input(B_WEEKDAY, "Weekday (every two weeks)", {
            "type": "static_select", "options": weekday_options, "initial_option": weekday_options[setup.weekday]},
            optional=True),
        _input(B_TIME, "Opening time", {"type": "timepicker", "initial_time": f"{setup.local_time:%H:%M}"},
               hint="On the sprint's last day, or on the weekday."),
        _input(B_TIMEZONE, "Timezone", {"type": "plain_text_input", "max_length": 64,
                                        "initial_value": setup.timezone},
               hint="An IANA name such as Europe/Berlin."),
        _input(B_WINDOW, "Answer window (hours)", {"type": "plain_text_input", "max_length": 6,
                                                   "initial_value": str(setup.window_hours)},
               hint="Reminders go out at its middle; results when it ends."),
        _input(B_K, "Show results from how many answers", {"type": "plain_text_input", "max_length": 6,
                                                           "initial_value": str(setup.k)},
               hint=f"At least {domain.MIN_K}: fewer answers could be told apart."),
    ]
    return _modal(SETUP_VIEW, "Team health check", blocks, {"channel": channel_id})


def _value(values: Mapping[str, Any], block_id: str) -> dict[str, Any]:
    found = (values.get(block_id) or {}).get(INPUT)
    return found if isinstance(found, dict) else {}


def _selected(values: Mapping[str, Any], block_id: str) -> str | None:
    option = _value(values, block_id).get("selected_option")
    return str(option.get("value")) if isinstance(option, dict) and option.get("value") is not None else None


def metadata(view: Mapping[str, Any]) -> dict[str, Any]:
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def parse_setup(view: Mapping[str, Any]) -> dict[str, Any]:
    """The set-up modal's fields as `ceremonies.healthcheck.validate_setup` takes them."""
    values = (view.get("state") or {}).get("values") or {}
    raw_time = _value(values, B_TIME).get("selected_time")
    try:
        local_time = time.fromisoformat(raw_time) if raw_time else None
    except ValueError:
        local_time = None
    users = _value(values, B_PARTICIPANTS).get("selected_users") or []
    return {
        "dimensions_text": _value(values, B_DIMENSIONS).get("value") or "",
        "cadence": _selected(values, B_CADENCE),
        "participants": [str(u) for u in users if isinstance(u, str)],
        "weekday": _selected(values, B_WEEKDAY),
        "local_time": local_time,
        "timezone": _value(values, B_TIMEZONE).get("value") or "",
        "window_hours": _value(values, B_WINDOW).get("value"),
        "k": _value(values, B_K).get("value"),
    }


def setup_errors(problems: Mapping[str, str]) -> dict[str, str]:
    return {SETUP_BLOCKS.get(field, B_DIMENSIONS): message for field, message in problems.items()}


def saved_text(setup: HealthCheckSetup, *, channel_id: str, next_round_at: datetime | None) -> str:
    how = CADENCE_LABELS[setup.cadence]
    if setup.cadence is Cadence.BIWEEKLY:
        how = f"every two weeks on {WEEKDAYS[setup.weekday]} at {setup.local_time:%H:%M} ({setup.timezone})"
    elif setup.cadence is Cadence.SPRINT_END:
        how = f"on each sprint's last day at {setup.local_time:%H:%M} ({setup.timezone})"
    text = (f"Health check of <#{channel_id}> saved: {len(setup.dimensions)} dimensions, "
            f"{len(setup.participants)} participants, rounds {how.lower() if setup.cadence is Cadence.ON_DEMAND else how}, "
            f"open {setup.window_hours} h, results from {setup.k} answers.")
    if next_round_at is not None and setup.cadence is Cadence.BIWEEKLY:
        text += f" Next round: {when(next_round_at)}."
    return text + " `/healthcheck now` opens one at once."


def status_text(setup: HealthCheckSetup | None, *, channel_id: str, open_round: tuple[int, int, datetime] | None
                ) -> str:
    """`/healthcheck` alone: the channel's health check and its open round (answers as a count only)."""
    if setup is None:
        return ("There is no health check in this channel yet. `/healthcheck setup` creates one; "
                "`/healthcheck help` lists every command.")
    lines = [f"Health check of <#{channel_id}>: {len(setup.dimensions)} dimensions, {len(setup.participants)} "
             f"participants, {CADENCE_LABELS[setup.cadence].lower()}, results from {setup.k} answers."]
    if open_round is not None:
        answered, participants, closes_at = open_round
        lines.append(f"A round is open until {when(closes_at)}: {answered} of {participants} answered.")
    else:
        lines.append("No round is open. `/healthcheck now` opens one.")
    return "\n".join(lines)


def opened_text(*, participants: int, closes_at: datetime) -> str:
    return (f"Health check round opened: {participants} participants get a DM. It closes {when(closes_at)}; "
            f"the results come to this channel then.")


def closed_early_text(answers: int) -> str:
    return (f"Round closed with {answers} answer{'s' if answers != 1 else ''}; what may be shown goes to the "
            "channel now.")


# -- invitation, reminder, answer ----------------------------------------------------------------------------------
def invite_message(*, channel_id: str, closes_at: datetime, round_id: int, dimensions: int, reminder: bool = False
                   ) -> tuple[str, list[Block]]:
    """The DM asking a participant to answer (or reminding them, once): one button opening the modal."""
    if reminder:
        text = f"Reminder: the <#{channel_id}> team health check closes {when(closes_at)} and has no answer from you yet."
    else:
        text = (f"How is the team doing? The <#{channel_id}> health check asks {dimensions} quick questions "
                f"(green, amber or red, and the trend). Answers are anonymous; results are shown to the team only "
                f"when enough people answered. Open until {when(closes_at)}.")
    blocks = [section(text), actions(button("Answer" if not reminder else "Answer now", ANSWER, str(round_id),
                                            style="primary"), block_id="healthcheck.invite")]
    return fallback_text(text), blocks


def rating_block(index: int) -> str:
    return f"hc.rating.{index}"


def trend_block(index: int) -> str:
    return f"hc.trend.{index}"


def answer_modal(*, round_id: int, channel_id: str, closes_at: datetime, dimensions: Sequence[Dimension],
                 previous: domain.Answer | None) -> dict[str, Any]:
    """Per dimension green / amber / red and the trend, then an optional comment; a person's earlier answer
    preselected (only they see this modal)."""
    rating_options = [_option(RATING_LABELS[r], r.value) for r in Rating]
    trend_options = [_option(TREND_LABELS[t], t.value) for t in Trend]
    blocks: list[Block] = [context(
        f"<#{channel_id}> · anonymous: your name is never stored with your answer, and results are shown only when "
        f"enough people answered. You can change your answer until {when(closes_at)}.")]
    for index, dimension in enumerate(dimensions):
        before = previous.ratings[index] if previous is not None and index < len(previous.ratings) else None
        rating: dict[str, Any] = {"type": "radio_buttons", "options": rating_options}
        trend: dict[str, Any] = {"type": "static_select", "options": trend_options,
                                 "placeholder": _plain("Better, the same or worse?")}
        if before is not None:
            rating["initial_option"] = rating_options[list(Rating).index(before[0])]
            if before[1] is not None:
                trend["initial_option"] = trend_options[list(Trend).index(before[1])]
        hint = " · ".join(part for part in (f"🟢 {dimension.awesome}" if dimension.awesome else "",
                                            f"🔴 {dimension.crappy}" if dimension.crappy else "") if part)
        blocks.append(_input(rating_block(index), f"{index + 1}. {dimension.name}", rating, hint=hint or None))
        blocks.append(_input(trend_block(index), f"{dimension.name}: since last time", trend, optional=True))
    comment: dict[str, Any] = {"type": "plain_text_input", "multiline": True, "max_length": domain.COMMENT_LENGTH}
    if previous is not None and previous.comment:
        comment["initial_value"] = previous.comment
    blocks.append(_input(B_COMMENT, "Anything to add? (optional)", comment, optional=True,
                         hint="Shown to the team without your name, among the others in alphabetical order."))
    return _modal(ANSWER_VIEW, "Team health check", blocks, {"round": round_id}, submit="Send")


def parse_answer(view: Mapping[str, Any]) -> tuple[int | None, int, dict[int, str | None], dict[int, str | None], str]:
    """(round id, dimensions asked, ratings and trends by dimension, comment) from a submitted answer modal."""
    values = (view.get("state") or {}).get("values") or {}
    raw = metadata(view).get("round")
    round_id = raw if isinstance(raw, int) and 0 < raw < 2**31 else None
    asked = sum(1 for block in view.get("blocks") or [] if str(block.get("block_id", "")).startswith("hc.rating."))
    ratings = {i: _selected(values, rating_block(i)) for i in range(asked)}
    trends = {i: _selected(values, trend_block(i)) for i in range(asked)}
    return round_id, asked, ratings, trends, _value(values, B_COMMENT).get("value") or ""


def answer_errors(problems: Mapping[tuple[str, int], str]) -> dict[str, str]:
    blocks = {"rating": rating_block, "trend": trend_block}
    return {blocks[field](index) if field in blocks else B_COMMENT: message
            for (field, index), message in problems.items()}


def thanks_modal(*, closes_at: datetime, first: bool) -> dict[str, Any]:
    text = ("Thanks! Your answer is in" if first else "Thanks! Your answer is changed") + (
        f", under a code only Cadence can check, never your name. You can change it until {when(closes_at)} "
        "from the DM or your App Home.")
    return _modal("healthcheck.thanks", "Team health check", [section(text)], {}, submit=None)


def notice_modal(text: str) -> dict[str, Any]:
    """One of Cadence's own lines (a refusal, a closed round) in place of a form; never user text."""
    return _modal("healthcheck.notice", "Team health check", [section(text)], {}, submit=None)


# -- results -----------------------------------------------------------------------------------------------------------
def withheld_text(answers: int, k: int) -> str:
    return (f"{answers} answer{'s' if answers != 1 else ''}, fewer than {k} — results are not shown to keep answers "
            "anonymous.")


def distribution(result: DimensionResult) -> str:
    return f"{ICON[Rating.GREEN]} {result.green} {ICON[Rating.AMBER]} {result.amber} {ICON[Rating.RED]} {result.red}"


def dimension_line(result: DimensionResult) -> str:
    trend = result.trend
    against = TREND_ARROWS[trend] + " than last round" if trend is Trend.BETTER or trend is Trend.WORSE else (
        "→ same as last round" if trend is Trend.SAME else "first round")
    said = f"said {result.better} better · {result.same} same · {result.worse} worse"
    return f"*{escape(result.name)}*  {distribution(result)}  ·  {against}  ·  _{said}_"


def _lines_in_sections(lines: Sequence[str], per_section: int = LINES_PER_SECTION) -> list[Block]:
    return [section("\n".join(lines[i: i + per_section])) for i in range(0, len(lines), per_section)]


def _comment_sections(comments: Sequence[str]) -> list[Block]:
    return _lines_in_sections([f"• {escape(cut(c, COMMENT_SHOWN))}" for c in comments], COMMENTS_PER_SECTION)


def results_message(result: RoundResult) -> tuple[str, list[Block]]:
    """The round's results for the team channel: per dimension the distribution and the trend, then the comments
    (alphabetical, unattributed); or only the count when fewer than k answered."""
    title = f"Team health check · {result.opened_at:%a %d %b}"
    count = f"{result.answers} of {result.participants} answered"
    if not result.shown:
        text = f"{title}: {withheld_text(result.answers, result.k)}"
        return fallback_text(text), [header(title), section(withheld_text(result.answers, result.k))]
    blocks = [header(title), context(f"{count} · trend against the last round · the chart is in the thread")]
    blocks += _lines_in_sections([dimension_line(d) for d in result.dimensions])
    if result.comments:
        blocks.append(divider())
        blocks.append(section("*Comments* (alphabetical, without names)"))
        blocks += _comment_sections(result.comments)
    summary = ", ".join(f"{d.name} {distribution(d)}" for d in result.dimensions[:5])
    return fallback_text(f"{title}: {count}. {escape(summary)}"), fit_message(blocks)


def results_undelivered_text(channel_id: str, error: str) -> str:
    """To the facilitator when Slack would not take a round's results in the team channel."""
    return (f":warning: I could not post the health check's results in <#{channel_id}> ({escape(error)}). Invite me "
            "to the channel; the next round's results will go there, and the next retro opens with them.")


def retro_opener(result: RoundResult) -> tuple[str, list[Block]]:
    """The latest health check, first in a new retro board's thread: where the team stands, worst first."""
    title = f"Where the team stands: health check of {result.opened_at:%a %d %b}"
    if not result.shown:
        text = f"{title} — {withheld_text(result.answers, result.k)}"
        return fallback_text(text), [section(f"*{title}*\n{withheld_text(result.answers, result.k)}")]
    ranked = sorted(result.dimensions, key=lambda d: (d.mean or 0, d.name))
    lines = [dimension_line(d) for d in ranked]
    blocks = [section(f"*{title}* · {result.answers} of {result.participants} answered · lowest first")]
    blocks += _lines_in_sections(lines)
    if result.comments:
        blocks += _comment_sections(result.comments[:24])
    return fallback_text(title), fit_message(blocks)


def sprint_section_text(found: SprintSection | None) -> str | None:
    """The sprint summary's health-check section (None when the sprint had no round)."""
    if found is None:
        return None
    if found.result is None:
        closes = f" until {when(found.open_until)}" if found.open_until else ""
        return f"*Team health check* · a round is open{closes}: {found.answers} of {found.participants} answered"
    result = found.result
    if not result.shown:
        return f"*Team health check* · {withheld_text(result.answers, result.k)}"
    lines = [f"*Team health check* · {result.answers} of {result.participants} answered"]
    lines += [f"{escape(d.name)} {distribution(d)}" + (f" {TREND_ARROWS[d.trend].split()[0]}" if d.trend else "")
              for d in result.dimensions]
    return "\n".join(lines)


def sprint_section_markdown(found: SprintSection | None) -> list[str]:
    """The same section in the Markdown report."""
    if found is None:
        return []
    lines = ["", "## Team health check", ""]
    if found.result is None:
        return [*lines, f"A round is open: {found.answers} of {found.participants} answered so far."]
    result = found.result
    if not result.shown:
        return [*lines, withheld_text(result.answers, result.k)]
    lines += [f"{result.answers} of {result.participants} answered.", "",
              "| Dimension | 🟢 | 🟡 | 🔴 | Against the last round | Said better / same / worse |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {d.name} | {d.green} | {d.amber} | {d.red} | {TREND_ARROWS[d.trend] if d.trend else 'first round'} "
              f"| {d.better} / {d.same} / {d.worse} |" for d in result.dimensions]
    if result.comments:
        lines += ["", "Comments (alphabetical, without names):", ""] + [f"- {c}" for c in result.comments]
    return lines


def sprint_section_figures(found: SprintSection | None) -> dict[str, Any] | None:
    """The same section in the JSON and CSV report: counts, and the distributions only from k answers."""
    if found is None:
        return None
    result = found.result
    shown = result is not None and result.shown
    return {"open": result is None, "answers": found.answers, "participants": found.participants, "shown": shown,
            "dimensions": [{"name": d.name, "green": d.green, "amber": d.amber, "red": d.red,
                            "trend": d.trend.value if d.trend else None}
                           for d in (result.dimensions if result is not None and shown else ())]}


# -- the chart ---------------------------------------------------------------------------------------------------------
def _grid(result: RoundResult) -> tuple[list[str], list[str], list[list[float]]]:
    names = [d.name for d in result.dimensions]
    columns = list(result.history)
    rows = [[(c.means.get(name) if c.means.get(name) is not None else math.nan) for c in columns] for name in names]
    return names, [c.label for c in columns], rows  # type: ignore[misc]


def chart_png(result: RoundResult) -> bytes:
    """The dimensions × rounds grid, each cell coloured by its mean (red 1 – amber 2 – green 3), 1000 px wide."""
    names, labels, rows = _grid(result)
    height = max(3.0, 0.42 * len(names) + 1.6)
    figure = Figure(figsize=(CHART_WIDTH_INCHES, height), layout="constrained")
    axes = figure.subplots()
    colours = LinearSegmentedColormap.from_list("health", CHART_COLOURS).with_extremes(bad=CHART_EMPTY)
    image = axes.imshow(rows, cmap=colours, vmin=1, vmax=3, aspect="auto")
    for y, row in enumerate(rows):
        for x, value in enumerate(row):
            axes.text(x, y, "—" if math.isnan(value) else f"{value:.1f}", ha="center", va="center", fontsize=9)
    axes.set_xticks(range(len(labels)), labels)
    axes.set_yticks(range(len(names)), names)
    axes.set_title("Team health check · mean per dimension and round (1 red – 3 green)")
    figure.colorbar(image, ax=axes, ticks=[1, 2, 3], fraction=0.03).ax.set_yticklabels(["red", "amber", "green"])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=CHART_DPI)
    return buffer.getvalue()


def chart_alt_text(result: RoundResult) -> str:
    """What the chart shows, for screen readers: the grid, and each dimension's latest colour."""
    latest = ", ".join(
        f"{d.name} {domain.colour_of(d.mean).value if d.mean is not None else 'none'}"  # type: ignore[union-attr]
        for d in result.dimensions)
    return cut(f"A grid of {len(result.dimensions)} dimensions × {len(result.history)} rounds, each cell coloured by "
               f"the mean rating from red to green. Latest round: {latest}.", 1000)


def chart_filename(result: RoundResult) -> str:
    return f"health-check-{result.opened_at:%Y-%m-%d}.png"


# -- the App Home ------------------------------------------------------------------------------------------------------
def home_blocks(waiting: Sequence[tuple[int, str, datetime, bool]]) -> list[Block]:
    """Open health-check rounds the person takes part in: answer, or change their answer."""
    if not waiting:
        return []
    blocks: list[Block] = [divider(), section("*Team health check*")]
    for round_id, channel_id, closes_at, answered in waiting[:6]:
        state = "you answered; you can change it" if answered else "waiting for your answer"
        blocks.append(section(f"<#{channel_id}> · {state} · closes {when(closes_at)}",
                              accessory=button("Change my answer" if answered else "Answer", ANSWER, str(round_id),
                                               style=None if answered else "primary")))
    return blocks
