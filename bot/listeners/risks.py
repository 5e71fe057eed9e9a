"""`/risk`: the team channel's risk register — raise risks in a modal, post the register by score with its heat map,
and the buttons that rescore, mitigate, close or mark a risk occurred (flagging a blocker); the owner's risks due for
review on their App Home."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from sqlalchemy.orm import Session

from bot import hooks
from bot.listeners import roles
from bot.listeners.commands import SlashCommand, first_word
from bot.listeners.home import refresh_home
from bot.server.runtime import Runtime, runtime_of, slack_of
from bot.slack.gateway import Slack
from bot.slack.people import profile
from bot.views import risks as views
from bot.views.help import command_usage_blocks, command_usage_text
from ceremonies import risks as domain
from ceremonies.errors import InvalidInput, NotAllowed
from ceremonies.risks import RiskNotOpen
from storage import blockers, outbox
from storage import risks as store
from storage.risks import Risk

# -- shared steps ---------------------------------------------------------------------------------------------------


def _timezone(runtime: Runtime, slack: Slack, *, team_id: str, user_id: str) -> str | None:
    """A member's timezone; None when Slack does not know them in this workspace or they left it."""
    person = profile(runtime, slack, team_id=team_id, user_id=user_id)
    if person is None or person.is_deleted:
        return None
    return person.timezone or runtime.settings.default_timezone


def _open(session: Session, *, team_id: str, risk_id: int) -> Risk:
    risk = store.get_risk(session, team_id=team_id, risk_id=risk_id)
    if not risk.is_open:
        raise RiskNotOpen(risk.id, risk.status)
    return risk


def _require_may_change(runtime: Runtime, slack: Slack, risk: Risk, *, user_id: str) -> None:
    """Refuse (one clear line) unless `user_id` owns the risk, facilitates its team or is a workspace admin."""
    with runtime.db.reading() as session:
        facilitators = blockers.facilitators(session, team_id=risk.team_id, channel_id=risk.channel_id)
    roles.require_admin(runtime, slack, team_id=risk.team_id, user_id=user_id, owner_id=risk.owner_id,
                        facilitator_ids=facilitators, action=f"change risk #{risk.id}")


def _redraw(session: Session, *, team_id: str, message: tuple[str, str] | None, runtime: Runtime) -> None:
    if message is not None:
        store.redraw_register(session, team_id=team_id, channel_id=message[0], ts=message[1], now=runtime.now())


# -- /risk ----------------------------------------------------------------------------------------------------------


def handle_risk_command(ack: Ack, command: dict, respond: Respond, context: BoltContext) -> None:
    """Keeps the team's risk register: raise risks, list them by score with a heat map, review and close them."""
    subcommand, rest = first_word(command.get("text"))
    if subcommand == "help":
        ack(text=command_usage_text(RISK), blocks=command_usage_blocks(RISK), response_type="ephemeral")
    elif subcommand == "" or (subcommand == "list" and not rest.strip()):
        _post_register(ack, command, respond, context)
    elif subcommand == "add" and not rest.strip():
        _open_add(ack, command, context)
    elif subcommand == "history" and rest.strip():
        _history(ack, command, respond, context, rest)
    else:
        problem = f"I don't know `{subcommand[:40]}`."
        ack(text=command_usage_text(RISK, problem), blocks=command_usage_blocks(RISK, problem),
            response_type="ephemeral")


def _post_register(ack: Ack, command: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    runtime, team_id, channel_id = runtime_of(context), command["team_id"], command["channel_id"]
    slack_of(context).ensure_member(channel=channel_id)  # told at once when the app cannot post there
    with runtime.db.transaction() as session:
        posted = store.queue_register(session, team_id=team_id, channel_id=channel_id,
                                      request=str(command.get("trigger_id") or ""), now=runtime.now())
    if posted is None:
        respond(text=views.no_risks_text(channel_id), response_type="ephemeral")


def _open_add(ack: Ack, command: dict, context: BoltContext) -> None:
    ack()
    runtime, slack = runtime_of(context), slack_of(context)
    team_id, channel_id, user_id = command["team_id"], command["channel_id"], command["user_id"]
    checks = slack.quick()  # before the modal opens (its trigger lasts 3 s): 2 s for these calls, no retry
    checks.ensure_member(channel=channel_id)  # the new risk is announced there: told now, before anything is typed
    timezone = _timezone(runtime, checks, team_id=team_id, user_id=user_id)
    today = domain.local_day(runtime.now(), timezone or runtime.settings.default_timezone)
    with runtime.db.reading() as session:
        found_blockers, stories = store.link_choices(session, team_id=team_id, channel_id=channel_id)
    view = views.add_modal(channel_id=channel_id, owner_id=user_id,
                           review_on=domain.default_next_review(today=today, period_days=domain.DEFAULT_REVIEW_DAYS),
                           blockers=[views.Choice(c.link.value(), c.label) for c in found_blockers],
                           stories=[views.Choice(c.link.value(), c.label) for c in stories])
    slack.open_view(trigger_id=command["trigger_id"], view=view)


def _history(ack: Ack, command: dict, respond: Respond, context: BoltContext, rest: str) -> None:
    ack()
    runtime = runtime_of(context)
    risk_id = domain.parse_risk_id(rest)
    with runtime.db.reading() as session:
        risk = store.get_risk(session, team_id=command["team_id"], risk_id=risk_id)
        events = store.history(session, team_id=command["team_id"], risk_id=risk_id)
    respond(text=views.history_text(risk), blocks=views.history_blocks(risk, events), response_type="ephemeral")


RISK = SlashCommand(
    "/risk",
    handle_risk_command,
    ("/risk", "/risk add", "/risk history <number>", "/risk help"),
)
SLASH_COMMANDS = (RISK,)


def submit_add(ack: Ack, body: dict, context: BoltContext) -> None:
    runtime, slack = runtime_of(context), slack_of(context)
    team_id, user_id, form = context.team_id or "", context.user_id or "", views.parse_add(body["view"])
    timezone = _timezone(runtime, slack, team_id=team_id, user_id=form.owner_id) if form.owner_id else None
    draft, problems = domain.validate_draft(
        title=form.title, description=form.description, likelihood=form.likelihood, impact=form.impact,
        owner_id=form.owner_id, mitigation=form.mitigation, review_on=form.review_on, link=form.link,
        today=domain.local_day(runtime.now(), timezone or runtime.settings.default_timezone))
    if form.owner_id and timezone is None:
        problems["owner"] = f"<@{form.owner_id}> is not a member of this workspace; pick someone who is."
    if draft is None or problems:
        ack(response_action="errors", errors=views.errors(problems))
        return
    try:
        now = runtime.now()
        with runtime.db.transaction() as session:
            risk = store.raise_risk(session, team_id=team_id, channel_id=form.channel_id, draft=draft,
                                    owner_timezone=timezone or runtime.settings.default_timezone, by=user_id, now=now)
            outbox.add(session, team_id=team_id, key=f"risk.raised:{team_id}:{risk.id}", kind="risk.raised",
                       channel=form.channel_id, now=now, text=views.raised_text(risk.open_risk(now), by=user_id))
            if draft.owner_id != user_id:  # the owner hears it is theirs to watch
                outbox.add(session, team_id=team_id, key=f"risk.owner:{team_id}:{risk.id}", kind="risk.owner",
                           channel=draft.owner_id, now=now, text=views.owner_text(risk.open_risk(now), by=user_id))
    except InvalidInput as problem:
        ack(response_action="errors", errors={views.LINK_BLOCK: str(problem)})
        return
    ack()
    refresh_home(runtime, slack, team_id=team_id, user_id=draft.owner_id)


# -- the buttons ------------------------------------------------------------------------------------------------------

ModalBuilder = Callable[..., dict[str, Any]]


def _open_change_modal(body: dict, context: BoltContext, build: ModalBuilder) -> None:
    runtime, slack, now = runtime_of(context), slack_of(context), runtime_of(context).now()
    action = body["actions"][0]
    with runtime.db.reading() as session:
        risk = _open(session, team_id=context.team_id or "", risk_id=views.risk_id_of(action))
    _require_may_change(runtime, slack.quick(), risk, user_id=context.user_id or "")  # 2 s: the trigger lasts 3
    review_on = domain.default_next_review(today=domain.local_day(now, risk.owner_timezone),
                                           period_days=risk.review_period_days)
    slack.open_view(trigger_id=body["trigger_id"],
                    view=build(risk.open_risk(now), review_on=review_on,
                               message=views.register_message(action, body.get("container") or {})))


def open_rescore(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    _open_change_modal(body, context, views.rescore_modal)


def open_mitigate(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    _open_change_modal(body, context, views.mitigate_modal)


Validate = Callable[[views.ChangeForm, date], tuple[Any, dict[str, str]]]
Apply = Callable[..., Risk]


def _submit_change(ack: Ack, body: dict, context: BoltContext, validate: Validate, apply: Apply) -> None:
    runtime, slack, team_id, user_id = runtime_of(context), slack_of(context), context.team_id or "", context.user_id or ""
    form = views.parse_change(body["view"])
    with runtime.db.reading() as session:
        risk = store.get_risk(session, team_id=team_id, risk_id=form.risk_id)
    change, problems = validate(form, domain.local_day(runtime.now(), risk.owner_timezone))
    if not risk.is_open:
        problems = {"review": str(RiskNotOpen(risk.id, risk.status))}
    try:  # checked again on saving: who may change it can change while the modal is open
        _require_may_change(runtime, slack, risk, user_id=user_id)
    except NotAllowed as refusal:
        problems = {"review": str(refusal)[:150], **problems}
    if change is None or problems:
        ack(response_action="errors", errors=views.errors(problems))
        return
    ack()
    with runtime.db.transaction() as session:
        apply(session, team_id=team_id, risk_id=risk.id, by=user_id, now=runtime.now(), change=change)
        _redraw(session, team_id=team_id, message=form.message, runtime=runtime)
    refresh_home(runtime, slack, team_id=team_id, user_id=user_id)


def _rescore(session: Session, *, change: domain.Rescore, **where: Any) -> Risk:
    return store.rescore(session, rescoring=change, **where)


def _mitigate(session: Session, *, change: domain.Mitigation, **where: Any) -> Risk:
    return store.mitigate(session, mitigation=change, **where)


def submit_rescore(ack: Ack, body: dict, context: BoltContext) -> None:
    _submit_change(ack, body, context, lambda form, today: domain.validate_rescore(
        likelihood=form.likelihood, impact=form.impact, review_on=form.review_on, note=form.note, today=today),
        _rescore)


def submit_mitigate(ack: Ack, body: dict, context: BoltContext) -> None:
    _submit_change(ack, body, context, lambda form, today: domain.validate_mitigation(
        text=form.mitigation, review_on=form.review_on, today=today), _mitigate)


def _end(body: dict, respond: Respond, context: BoltContext, end: Apply, word: str) -> None:
    runtime, slack, team_id, user_id = runtime_of(context), slack_of(context), context.team_id or "", context.user_id or ""
    action = body["actions"][0]
    with runtime.db.reading() as session:
        risk = _open(session, team_id=team_id, risk_id=views.risk_id_of(action))
    _require_may_change(runtime, slack, risk, user_id=user_id)
    with runtime.db.transaction() as session:
        ended = end(session, team_id=team_id, risk_id=risk.id, by=user_id, now=runtime.now())
        _redraw(session, team_id=team_id, message=views.register_message(action, body.get("container") or {}),
                runtime=runtime)
    if body.get("response_url"):  # a message (the register, a reminder); the Home is redrawn instead
        respond(text=views.changed_text(ended.id, word, blocker_id=ended.blocker_id), response_type="ephemeral",
                replace_original=False)
    refresh_home(runtime, slack, team_id=team_id, user_id=user_id)


def close_risk(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    _end(body, respond, context, store.close, "closed")


def risk_occurred(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    _end(body, respond, context, store.occurred, "occurred")


# -- the App Home ---------------------------------------------------------------------------------------------------


def home_section(runtime: Runtime, context: hooks.HomeContext) -> hooks.Blocks:
    """The risks the person owns whose review date has come, earliest first, with the buttons that review them."""
    with runtime.db.reading() as session:
        due = store.due_for_review(session, team_id=context.team_id, owner_id=context.user_id, now=context.now)
        shown = [risk.open_risk(context.now) for risk in due]
    return views.home_blocks(shown)


def home_teams(runtime: Runtime, context: hooks.HomeContext) -> set[str]:
    """The team channels where the person owns or raised a risk."""
    with runtime.db.reading() as session:
        return store.channels_of(session, team_id=context.team_id, user_id=context.user_id)


def register(app: App) -> None:
    app.command(RISK.name)(handle_risk_command)
    app.action(views.RESCORE)(open_rescore)
    app.action(views.MITIGATE)(open_mitigate)
    app.action(views.CLOSE)(close_risk)
    app.action(views.OCCURRED)(risk_occurred)
    app.view(views.ADD_MODAL)(submit_add)
    app.view(views.RESCORE_MODAL)(submit_rescore)
    app.view(views.MITIGATE_MODAL)(submit_mitigate)
    hooks.add_home_section(home_section)
    hooks.add_team_finder(home_teams)
