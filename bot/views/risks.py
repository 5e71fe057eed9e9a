"""Block Kit for the risk register: the register posted in the channel (by score, with buttons), its heat map's
names and alt text, the raise / rescore / mitigate modals and parsing them back, the owner's review reminder, the App
Home section and the sprint summary's Risks section."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ButtonElement,
    ConfirmObject,
    DatePickerElement,
    InputBlock,
    NumberInputElement,
    Option,
    OptionGroup,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.views.common import (
    BUTTON_TEXT_LIMIT,
    MESSAGE_BLOCK_LIMIT,
    Block,
    actions,
    context,
    cut,
    divider,
    escape,
    fallback_text,
    header,
    section,
)
from ceremonies import risks as domain
from ceremonies.risks import Band, OpenRisk, RiskFigures
from storage.risks import Risk, RiskEventRow

# Action, block and callback ids, defined once.
RESCORE = "risk.rescore"
MITIGATE = "risk.mitigate"
CLOSE = "risk.close"
OCCURRED = "risk.occurred"
ADD_MODAL = "risk.add_modal"
RESCORE_MODAL = "risk.rescore_modal"
MITIGATE_MODAL = "risk.mitigate_modal"
TITLE_BLOCK = "risk.title"
DESCRIPTION_BLOCK = "risk.description"
LIKELIHOOD_BLOCK = "risk.likelihood"
IMPACT_BLOCK = "risk.impact"
OWNER_BLOCK = "risk.owner"
MITIGATION_BLOCK = "risk.mitigation"
REVIEW_BLOCK = "risk.review"
LINK_BLOCK = "risk.link"
NOTE_BLOCK = "risk.note"
VALUE = "value"
FIELDS = {"title": TITLE_BLOCK, "description": DESCRIPTION_BLOCK, "likelihood": LIKELIHOOD_BLOCK,
          "impact": IMPACT_BLOCK, "owner": OWNER_BLOCK, "mitigation": MITIGATION_BLOCK, "review": REVIEW_BLOCK,
          "link": LINK_BLOCK, "note": NOTE_BLOCK}

REGISTER_SHOWN = 12  # risks listed with their buttons (3 blocks each) before "+N more": within 50 blocks
BAND_ICON = {Band.LOW: ":large_green_circle:", Band.MEDIUM: ":large_yellow_circle:",
             Band.HIGH: ":large_orange_circle:", Band.CRITICAL: ":red_circle:"}
OPTION_TEXT_LIMIT = 75


def title_text(title: str, limit: int = 300) -> str:
    """A risk's title, safe for mrkdwn."""
    return cut(escape(title, mentions=True), limit)


def day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def score_label(risk: OpenRisk) -> str:
    moved = ""
    if risk.previous_score is not None and risk.previous_score != risk.score:
        moved = f" {':small_red_triangle_down:' if risk.previous_score > risk.score else ':small_red_triangle:'} " \
                f"from {risk.previous_score}"
    return f"{BAND_ICON[risk.band]} *{risk.score}* (L{risk.likelihood}×I{risk.impact}, {risk.band.value}){moved}"


# -- the register in the channel --------------------------------------------------------------------------------------


def _button(text: str, action_id: str, value: str, *, style: str | None = None,
            confirm: tuple[str, str, str] | None = None) -> dict[str, Any]:
    dialog = None if confirm is None else ConfirmObject(title=confirm[0], text=confirm[1], confirm=confirm[2],
                                                        deny="Cancel")
    return ButtonElement(text=PlainTextObject(text=cut(text, BUTTON_TEXT_LIMIT)), action_id=action_id, value=value,
                         style=style, confirm=dialog).to_dict()


REGISTER_ACTIONS = "risk.register:"  # + risk id: the buttons of a risk in the posted register
ITEM_ACTIONS = "risk.item:"  # + risk id: the same buttons in a reminder DM or on the Home


def risk_buttons(risk: OpenRisk, *, in_register: bool = False) -> Block:
    value = str(risk.id)
    return actions(
        _button("Update scores", RESCORE, value, style="primary"),
        _button("Mitigate", MITIGATE, value),
        _button("Close", CLOSE, value, confirm=("Close this risk?", f"Risk #{risk.id} leaves the register: it passed "
                                                "or was dealt with.", "Close it")),
        _button("It occurred", OCCURRED, value, style="danger",
                confirm=("Did it happen?", f"Risk #{risk.id} leaves the register and a blocker is flagged for it in "
                         "the channel.", "Flag a blocker")),
        block_id=f"{REGISTER_ACTIONS if in_register else ITEM_ACTIONS}{risk.id}",
    )


def _risk_line(risk: OpenRisk) -> str:
    stale = " · :hourglass: *stale*: not reviewed for two review periods" if risk.stale else ""
    lines = [f"*#{risk.id} {title_text(risk.title)}*",
             f"{score_label(risk)} · owner <@{risk.owner_id}> · next review {day_label(risk.next_review_on)}{stale}"]
    if risk.threatens:
        lines.append(f"Threatens {title_text(risk.threatens, 200)}")
    if risk.mitigation:
        lines.append(f"Mitigation: {title_text(risk.mitigation, 500)}")
    return "\n".join(lines)


def register_blocks(risks: list[OpenRisk], *, channel_id: str) -> list[Block]:
    """The channel's open risks by score (ties: the oldest first), each with its buttons; the heat map follows in
    the thread."""
    if not risks:
        return [section(no_risks_text(channel_id))]
    ordered = domain.by_score(risks)
    shown = ordered[:REGISTER_SHOWN]
    stale = sum(1 for r in ordered if r.stale)
    total = sum(r.score for r in ordered)
    blocks = [header(f"Risk register · {len(ordered)} open"),
              context(f"<#{channel_id}> · total score {total}" + (f" · {stale} stale" if stale else "")
                      + " · highest score first; the heat map is in the thread")]
    for risk in shown:
        blocks += [divider(), section(_risk_line(risk)), risk_buttons(risk, in_register=True)]
    if len(ordered) > len(shown):
        blocks.append(context(f"+{len(ordered) - len(shown)} more with lower scores."))
    blocks.append(context("Raise one with `/risk add` · `/risk help` for the rest"))
    return blocks[:MESSAGE_BLOCK_LIMIT]


def no_risks_text(channel_id: str) -> str:
    return f":sunny: No open risks in <#{channel_id}>. Raise one with `/risk add`."


def register_text(risks: list[OpenRisk]) -> str:
    return fallback_text(f"Risk register: {len(risks)} open" if risks else "Risk register: no open risks")


def heat_map_cells(risks: list[OpenRisk]) -> dict[tuple[int, int], list[int]]:
    cells: dict[tuple[int, int], list[int]] = {}
    for risk in domain.by_score(risks):
        cells.setdefault((risk.likelihood, risk.impact), []).append(risk.id)
    return cells


def heat_map_title(risks: list[OpenRisk]) -> str:
    return f"Risk heat map · {len(risks)} open risk{'s' if len(risks) != 1 else ''}"


def heat_map_filename(channel_id: str) -> str:
    return f"risk-heat-map-{channel_id.lower()}.png"


def heat_map_alt_text(risks: list[OpenRisk]) -> str:
    """What the heat map shows, for screen readers."""
    if not risks:
        return "Risk heat map: no open risks; every cell of the 5 by 5 grid is empty."
    counts = domain.heat_counts(risks)
    cells = "; ".join(f"likelihood {likelihood}, impact {impact}: {count}"
                      for (likelihood, impact), count in sorted(counts.items(), key=lambda c: (-c[0][0] * c[0][1],
                                                                                              c[0])))
    bands = {band: sum(1 for r in risks if r.band is band) for band in Band}
    summary = ", ".join(f"{count} {band.value}" for band, count in bands.items() if count)
    return cut(f"Risk heat map, likelihood by impact on a 5 by 5 grid: {len(risks)} open risks ({summary}). "
               f"{cells}.", 1000)


# -- a risk's history ---------------------------------------------------------------------------------------------

CHANGE_WORDS = {"raised": "raised it", "rescored": "rescored it", "mitigated": "updated the mitigation",
                "closed": "closed it", "occurred": "marked it occurred"}
HISTORY_SHOWN = 40


def slack_date(moment: datetime) -> str:
    """A time every reader sees in their own timezone."""
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{moment:%a %d %b %H:%M} UTC>"


def history_blocks(risk: Risk, events: list[RiskEventRow]) -> list[Block]:
    """Every change of a risk, oldest first: who, when, old → new score, and the note."""
    blocks = [section(f"*Risk #{risk.id} {title_text(risk.title)}* · {risk.status} · now {risk.score} "
                      f"(L{risk.likelihood}×I{risk.impact}) · owner <@{risk.owner_id}>")]
    lines = []
    for event in events[-HISTORY_SHOWN:]:
        new = domain.score(event.new_likelihood, event.new_impact)
        scores = f"{new} (L{event.new_likelihood}×I{event.new_impact})"
        if event.old_likelihood is not None and event.old_impact is not None:
            old = domain.score(event.old_likelihood, event.old_impact)
            if old != new:
                scores = f"{old} → {scores}"
        note = f" · {title_text(event.note, 200)}" if event.note else ""
        lines.append(f"{slack_date(event.at)} · <@{event.by}> {CHANGE_WORDS.get(event.change, event.change)} · "
                     f"{scores}{note}")
    for start in range(0, len(lines), 20):
        blocks.append(section("\n".join(lines[start:start + 20])))
    return blocks


def history_text(risk: Risk) -> str:
    return fallback_text(f"History of risk #{risk.id}: {title_text(risk.title)}")


# -- DMs, confirmations and the App Home ---------------------------------------------------------------------------


def raised_text(risk: OpenRisk, *, by: str) -> str:
    return fallback_text(f":warning: <@{by}> raised risk #{risk.id}: {title_text(risk.title)} · score {risk.score} "
                         f"({risk.band.value}) · owner <@{risk.owner_id}> · first review {day_label(risk.next_review_on)}")


def owner_text(risk: OpenRisk, *, by: str) -> str:
    """To the owner of a new risk someone else raised."""
    return fallback_text(f":warning: <@{by}> raised risk #{risk.id} in <#{risk.channel_id}> and made you its owner: "
                         f"{title_text(risk.title)} · score {risk.score} ({risk.band.value}) · first review "
                         f"{day_label(risk.next_review_on)}. You'll get a reminder that morning.")


def reminder_blocks(risk: OpenRisk) -> list[Block]:
    """The owner's review reminder, with the buttons that review it."""
    stale = "\n:hourglass: It is *stale*: nobody reviewed it for two review periods." if risk.stale else ""
    return [section(f":mag: Risk #{risk.id} in <#{risk.channel_id}> is due for review today.\n{_risk_line(risk)}"
                    f"{stale}"),
            context("Updating its scores or its mitigation reviews it and sets the next review date."),
            risk_buttons(risk)]


def reminder_text(risk: OpenRisk) -> str:
    return fallback_text(f"Risk #{risk.id} is due for review: {title_text(risk.title)}")


def changed_text(risk_id: int, change: str, *, blocker_id: int | None = None) -> str:
    if blocker_id is not None:
        return f":rotating_light: Risk #{risk_id} marked as occurred; blocker #{blocker_id} is flagged in the channel."
    return f":white_check_mark: Risk #{risk_id} {change}."


HOME_RISKS = 6


def home_blocks(risks: list[OpenRisk]) -> list[Block]:
    """The risks someone owns whose review date has come, earliest first, each with its buttons."""
    if not risks:
        return []
    blocks = [divider(), section(f"*Your risks due for review* ({len(risks)})")]
    for risk in risks[:HOME_RISKS]:
        blocks += [section(f"<#{risk.channel_id}> · {_risk_line(risk)}"), risk_buttons(risk)]
    if len(risks) > HOME_RISKS:
        blocks.append(context(f"+{len(risks) - HOME_RISKS} more: `/risk` in their channels lists them."))
    return blocks


# -- the sprint summary's Risks section ------------------------------------------------------------------------------

SUMMARY_RISKS = 5


def _trend(figures: RiskFigures) -> str:
    arrow = ":arrow_down:" if figures.trend < 0 else ":arrow_up:" if figures.trend > 0 else ":left_right_arrow:"
    return f"open score {figures.score_at_start} → {figures.score_at_end} {arrow}"


def summary_section(figures: RiskFigures | None) -> list[Block]:
    """The Risks section of the sprint summary: open risks by score, raised / closed / occurred, the score trend."""
    if figures is None:
        return []
    head = (f"*Risks* · {len(figures.open)} open · {figures.raised} raised · {figures.closed} closed · "
            f"{figures.occurred} occurred · {_trend(figures)}" + (f" · {figures.stale} stale" if figures.stale else ""))
    lines = [f"• #{r.id} {title_text(r.title, 150)} · {r.score} ({r.band.value}) · <@{r.owner_id}>"
             + (" · stale" if r.stale else "") for r in figures.open[:SUMMARY_RISKS]]
    if len(figures.open) > SUMMARY_RISKS:
        lines.append(f"+{len(figures.open) - SUMMARY_RISKS} more: `/risk` lists them all")
    return [section("\n".join([head, *lines]))]


def summary_figures(figures: RiskFigures | None) -> dict[str, Any] | None:
    """The Risks section of the JSON and CSV reports."""
    if figures is None:
        return None
    return {
        "open": [{"id": r.id, "title": r.title, "likelihood": r.likelihood, "impact": r.impact, "score": r.score,
                  "band": r.band.value, "owner": r.owner_id, "next_review_on": r.next_review_on.isoformat(),
                  "stale": r.stale} for r in figures.open],
        "raised": figures.raised, "closed": figures.closed, "occurred": figures.occurred, "stale": figures.stale,
        "open_score_at_start": figures.score_at_start, "open_score_at_end": figures.score_at_end,
    }


def summary_markdown(figures: RiskFigures | None) -> list[str]:
    """The Risks section of the Markdown report."""
    if figures is None:
        return []
    lines = ["", "## Risks", "",
             f"- Open {len(figures.open)}, raised {figures.raised}, closed {figures.closed}, "
             f"occurred {figures.occurred}, stale {figures.stale}",
             f"- Open score: {figures.score_at_start} at the start, {figures.score_at_end} at the end "
             f"({figures.trend:+d})"]
    if figures.open:
        lines += ["", "| # | Risk | Score | Owner | Next review |", "|---|---|---|---|---|"]
        lines += [f"| {r.id} | {r.title.replace('|', '/')}{' (stale)' if r.stale else ''} | {r.score} "
                  f"(L{r.likelihood}×I{r.impact}, {r.band.value}) | {r.owner_id} | {r.next_review_on:%a %d %b} |"
                  for r in figures.open]
    return lines


# -- modals ---------------------------------------------------------------------------------------------------------


def _modal(callback_id: str, title: str, submit: str, blocks: list[Block], metadata: dict[str, Any]) -> dict[str, Any]:
    return View(type="modal", callback_id=callback_id, title=PlainTextObject(text=title),
                submit=PlainTextObject(text=submit), close=PlainTextObject(text="Cancel"), blocks=blocks,
                private_metadata=json.dumps(metadata)).to_dict()


def _text_input(block_id: str, label: str, *, limit: int, multiline: bool = False, optional: bool = False,
                initial: str = "", hint: str | None = None) -> Block:
    return InputBlock(block_id=block_id, label=PlainTextObject(text=label), optional=optional,
                      hint=PlainTextObject(text=hint) if hint else None,
                      element=PlainTextInputElement(action_id=VALUE, multiline=multiline, max_length=limit,
                                                    initial_value=initial[:limit] or None)).to_dict()


def _level_input(block_id: str, label: str, names: dict[int, str], initial: int | None) -> Block:
    scale = ", ".join(f"{n} {name}" for n, name in names.items())
    return InputBlock(block_id=block_id, label=PlainTextObject(text=label), hint=PlainTextObject(text=scale),
                      element=NumberInputElement(action_id=VALUE, is_decimal_allowed=False, min_value="1",
                                                 max_value="5",
                                                 initial_value=str(initial) if initial else None)).to_dict()


def _review_input(initial: date) -> Block:
    return InputBlock(block_id=REVIEW_BLOCK, label=PlainTextObject(text="Next review"),
                      hint=PlainTextObject(text="The owner gets a reminder that morning. Not reviewed for two such "
                                                "periods, the risk is marked stale."),
                      element=DatePickerElement(action_id=VALUE, initial_date=initial.isoformat())).to_dict()


@dataclass(frozen=True)
class Choice:
    """A blocker or story a risk may be linked to (value "blocker:12" / "story:7")."""

    value: str
    label: str


def _options(choices: list[Choice]) -> list[Option]:
    return [Option(value=c.value, text=cut(c.label.replace("\n", " "), OPTION_TEXT_LIMIT)) for c in choices]


def add_modal(*, channel_id: str, owner_id: str, review_on: date, blockers: list[Choice], stories: list[Choice]
              ) -> dict[str, Any]:
    """Raise a risk: title, description, likelihood, impact, owner, mitigation, first review, optional link."""
    blocks = [
        _text_input(TITLE_BLOCK, "Risk", limit=domain.TITLE_LIMIT, hint="What might happen, in a line."),
        _text_input(DESCRIPTION_BLOCK, "Description", limit=domain.DESCRIPTION_LIMIT, multiline=True, optional=True),
        _level_input(LIKELIHOOD_BLOCK, "Likelihood (1–5)", domain.LIKELIHOOD_NAMES, None),
        _level_input(IMPACT_BLOCK, "Impact (1–5)", domain.IMPACT_NAMES, None),
        InputBlock(block_id=OWNER_BLOCK, label=PlainTextObject(text="Owner"),
                   hint=PlainTextObject(text="Who watches it and reviews it."),
                   element=UserSelectElement(action_id=VALUE, initial_user=owner_id or None,
                                             placeholder=PlainTextObject(text="Pick a person"))).to_dict(),
        _text_input(MITIGATION_BLOCK, "Mitigation", limit=domain.MITIGATION_LIMIT, multiline=True, optional=True,
                    hint="What is being done to make it less likely or less harmful."),
        _review_input(review_on),
    ]
    groups = [OptionGroup(label=label, options=_options(found))
              for label, found in (("Open blockers", blockers), ("Sprint stories", stories)) if found]
    if groups:
        blocks.append(InputBlock(block_id=LINK_BLOCK, label=PlainTextObject(text="Threatens (optional)"),
                                 optional=True,
                                 element=StaticSelectElement(action_id=VALUE, option_groups=groups,
                                                             placeholder=PlainTextObject(text="A blocker or story"))
                                 ).to_dict())
    return _modal(ADD_MODAL, "Raise a risk", "Raise", blocks, {"channel_id": channel_id})


def _where(risk: OpenRisk, message: tuple[str, str] | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"risk_id": risk.id, "channel_id": risk.channel_id}
    if message is not None:  # the register the button was on, redrawn after the change
        metadata.update(message_channel=message[0], message_ts=message[1])
    return metadata


def rescore_modal(risk: OpenRisk, *, review_on: date, message: tuple[str, str] | None) -> dict[str, Any]:
    """New likelihood and impact, a note, and the next review (the same period again by default)."""
    blocks = [
        section(f"*#{risk.id} {title_text(risk.title, 500)}*\nNow {score_label(risk)}"),
        _level_input(LIKELIHOOD_BLOCK, "Likelihood (1–5)", domain.LIKELIHOOD_NAMES, risk.likelihood),
        _level_input(IMPACT_BLOCK, "Impact (1–5)", domain.IMPACT_NAMES, risk.impact),
        _text_input(NOTE_BLOCK, "Why (optional)", limit=domain.NOTE_LIMIT, multiline=True, optional=True),
        _review_input(review_on),
    ]
    return _modal(RESCORE_MODAL, "Update scores", "Save", blocks, _where(risk, message))


def mitigate_modal(risk: OpenRisk, *, review_on: date, message: tuple[str, str] | None) -> dict[str, Any]:
    """What is done about the risk, and the next review (the same period again by default)."""
    blocks = [
        section(f"*#{risk.id} {title_text(risk.title, 500)}*\n{score_label(risk)}"),
        _text_input(MITIGATION_BLOCK, "Mitigation", limit=domain.MITIGATION_LIMIT, multiline=True,
                    initial=risk.mitigation),
        _review_input(review_on),
    ]
    return _modal(MITIGATE_MODAL, "Mitigate", "Save", blocks, _where(risk, message))


# -- parsing modals back --------------------------------------------------------------------------------------------


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _state(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return ((view.get("state") or {}).get("values") or {}).get(block_id, {}).get(VALUE) or {}


def _value(view: dict[str, Any], block_id: str) -> str | None:
    return _state(view, block_id).get("value")


@dataclass(frozen=True)
class AddForm:
    channel_id: str
    title: str | None
    description: str | None
    likelihood: str | None
    impact: str | None
    owner_id: str | None
    mitigation: str | None
    review_on: str | None
    link: str | None


def parse_add(view: dict[str, Any]) -> AddForm:
    link = _state(view, LINK_BLOCK).get("selected_option") or {}
    return AddForm(
        channel_id=str(metadata(view).get("channel_id") or ""),
        title=_value(view, TITLE_BLOCK), description=_value(view, DESCRIPTION_BLOCK),
        likelihood=_value(view, LIKELIHOOD_BLOCK), impact=_value(view, IMPACT_BLOCK),
        owner_id=_state(view, OWNER_BLOCK).get("selected_user") or None, mitigation=_value(view, MITIGATION_BLOCK),
        review_on=_state(view, REVIEW_BLOCK).get("selected_date"), link=link.get("value"),
    )


@dataclass(frozen=True)
class ChangeForm:
    """A rescore or mitigate modal: which risk, the register to redraw, and the fields."""

    risk_id: int
    message: tuple[str, str] | None
    likelihood: str | None
    impact: str | None
    note: str | None
    mitigation: str | None
    review_on: str | None


def parse_change(view: dict[str, Any]) -> ChangeForm:
    data = metadata(view)
    channel, ts = str(data.get("message_channel") or ""), str(data.get("message_ts") or "")
    return ChangeForm(
        risk_id=domain.button_risk_id(str(data.get("risk_id") or "")), message=(channel, ts) if channel and ts else None,
        likelihood=_value(view, LIKELIHOOD_BLOCK), impact=_value(view, IMPACT_BLOCK), note=_value(view, NOTE_BLOCK),
        mitigation=_value(view, MITIGATION_BLOCK), review_on=_state(view, REVIEW_BLOCK).get("selected_date"),
    )


def errors(problems: dict[str, str]) -> dict[str, str]:
    """Inline modal errors by block id."""
    return {FIELDS.get(name, TITLE_BLOCK): message for name, message in problems.items()}


def risk_id_of(action: dict[str, Any]) -> int:
    return domain.button_risk_id(str(action.get("value") or ""))


def register_message(action: dict[str, Any], container: dict[str, Any]) -> tuple[str, str] | None:
    """The register message a button was clicked on (to redraw it after the change); None for a reminder DM or the
    Home, whose buttons are the same."""
    if not str(action.get("block_id") or "").startswith(REGISTER_ACTIONS) or container.get("type") != "message":
        return None
    channel, ts = str(container.get("channel_id") or ""), str(container.get("message_ts") or "")
    return (channel, ts) if channel and ts else None
