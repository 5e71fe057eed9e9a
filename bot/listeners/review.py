"""`/review`: the sprint review with stakeholders — a message per story, verdicts, questions and follow-ups."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext, Respond

from bot import hooks
from bot.listeners import roles
from bot.listeners.commands import SlashCommand, first_word
from bot.listeners.home import message_link, refresh_home
from bot.server.errors import cannot_work_in
from bot.server.runtime import Runtime, runtime_of, slack_of
from bot.views import review as views
from bot.views.help import command_usage_blocks, command_usage_text
from ceremonies import review as domain
from ceremonies.errors import CadenceError
from ceremonies.numbers import button_ids
from storage import review as store
from storage import review_cases as cases


def handle_review_command(ack: Ack, command: dict, respond: Respond, context: BoltContext) -> None:
    """Runs the sprint review: every story of the sprint in the channel, with stakeholders' verdicts and follow-ups."""
    subcommand, rest = first_word(command.get("text"))
    if subcommand not in ("", "close") or rest.strip():
        problem = None if subcommand == "help" else f"I don't know `{cut_word(command.get('text'))}`."
        ack(text=command_usage_text(REVIEW, problem), blocks=command_usage_blocks(REVIEW, problem),
            response_type="ephemeral")
        return
    ack()
    (_close if subcommand == "close" else _start)(runtime_of(context), respond, context, command)


def _start(runtime: Runtime, respond: Respond, context: BoltContext, command: dict) -> None:
    slack, team_id, channel_id, user_id = slack_of(context), command["team_id"], command["channel_id"], command["user_id"]
    with runtime.db.reading() as session:
        found = cases.target(session, team_id=team_id, channel_id=channel_id, now=runtime.now())
    checks = slack.quick()  # before the modal opens (its trigger lasts 3 s): 2 s for these calls, no retry
    roles.require_admin(runtime, checks, team_id=team_id, user_id=user_id, action="start the sprint review",
                        facilitator_ids={found.facilitator_id})
    checks.ensure_member(channel=channel_id)  # a refusal is told before anything is stored
    slack.open_view(trigger_id=command["trigger_id"], view=views.start_modal(found))


def _close(runtime: Runtime, respond: Respond, context: BoltContext, command: dict) -> None:
    team_id, channel_id, user_id = command["team_id"], command["channel_id"], command["user_id"]
    with runtime.db.reading() as session:
        facilitator_id = cases.open_review_facilitator(session, team_id=team_id, channel_id=channel_id)
    roles.require_admin(runtime, slack_of(context), team_id=team_id, user_id=user_id,
                        action="close the sprint review", facilitator_ids={facilitator_id})
    with runtime.db.transaction() as session:
        name = cases.close_channel_review(session, team_id=team_id, channel_id=channel_id, by=user_id,
                                          now=runtime.now())
    respond(text=views.closed_text(name), response_type="ephemeral")


def cut_word(text: str | None) -> str:
    return (text or "").strip()[:40]


def submit_start(ack: Ack, body: dict, context: BoltContext) -> None:
    """The review's modal submitted: store the review and queue its messages, or say inline what is wrong."""
    runtime, form = runtime_of(context), views.parse_start(body["view"])
    team_id, user_id = context.team_id or "", body["user"]["id"]
    channel = domain.slack_channel(form.stakeholder_channel_id)
    if channel and (refusal := cannot_work_in(slack_of(context), channel_id=channel)):
        ack(response_action="errors", errors={views.CHANNEL_BLOCK: refusal})
        return
    plan = cases.Plan(sprint_id=form.sprint_id, stakeholder_ids=form.stakeholder_ids, stakeholder_channel_id=channel,
                      presenters=form.presenters, note=form.note, window=form.window)
    try:
        with runtime.db.transaction() as session:
            cases.start(session, team_id=team_id, channel_id=form.channel_id, plan=plan, by=user_id,
                                  now=runtime.now())
    except CadenceError as problem:
        ack(response_action="errors", errors={views.NOTE_BLOCK: str(problem)})
        return
    ack()  # the header and the stories appear in the channel as the outbox delivers them


def _button_id(body: dict) -> int:
    return button_ids(body["actions"][0].get("value") or "", 1)[0]


def accept(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    """**Accepted** on a story: the verdict is recorded under the person's name and the story redrawn."""
    ack()
    runtime, user_id = runtime_of(context), body["user"]["id"]
    with runtime.db.transaction() as session:
        reacted = cases.record_verdict(session, team_id=context.team_id or "", story_id=_button_id(body),
                                       user_id=user_id, verdict=domain.Verdict.ACCEPTED, now=runtime.now())
    respond(text=views.verdict_recorded_text(reacted.key, reacted.title, domain.Verdict.ACCEPTED),
            response_type="ephemeral", replace_original=False)


def open_text_modal(ack: Ack, body: dict, context: BoltContext) -> None:
    """**Needs changes** or **Question** on a story: the modal for the note or the question."""
    ack()
    runtime, story_id = runtime_of(context), _button_id(body)
    with runtime.db.reading() as session:
        cases.check_reacting(session, team_id=context.team_id or "", story_id=story_id)
        result = store.story_state(session, team_id=context.team_id or "", story_id=story_id).result
    question = body["actions"][0]["action_id"] == views.ASK
    slack_of(context).open_view(trigger_id=body["trigger_id"],
                                view=views.text_modal(result, story_id=story_id, question=question))


def submit_text(ack: Ack, body: dict, context: BoltContext) -> None:
    """The note (needs changes, required) or the question submitted: recorded, or refused inline."""
    runtime, user_id, team_id = runtime_of(context), body["user"]["id"], context.team_id or ""
    raw_id, text = views.parse_text(body["view"])
    question = body["view"].get("callback_id") == views.QUESTION_MODAL
    try:
        story_id = button_ids(raw_id, 1)[0]
        with runtime.db.transaction() as session:
            if question:
                reacted = cases.ask(session, team_id=team_id, story_id=story_id, user_id=user_id, text=text,
                                    now=runtime.now())
            else:
                reacted = cases.record_verdict(session, team_id=team_id, story_id=story_id, user_id=user_id,
                                               verdict=domain.Verdict.NEEDS_CHANGES, note=text, now=runtime.now())
    except CadenceError as problem:
        ack(response_action="errors", errors=views.text_errors(str(problem)))
        return
    ack()
    # What waits on a Home changed: a question for the presenter, a note to triage for the facilitator.
    refresh_home(runtime, team_id=team_id, user_id=reacted.presenter_id if question else reacted.facilitator_id)


def mark_answered(ack: Ack, body: dict, context: BoltContext) -> None:
    """**Mark answered** on a question: the question and its story show it, and it leaves the presenter's Home."""
    ack()
    runtime, team_id, user_id = runtime_of(context), context.team_id or "", body["user"]["id"]
    with runtime.db.transaction() as session:
        story = cases.answered(session, team_id=team_id, question_id=_button_id(body), user_id=user_id,
                               now=runtime.now())
        presenter_id = story.presenter_id
    refresh_home(runtime, slack_of(context), team_id=team_id, user_id=presenter_id)


def create_follow_up(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    """**Create follow-up** on a note: a story for the next sprint, announced to a connected tracker."""
    ack()
    runtime, team_id, user_id = runtime_of(context), context.team_id or "", body["user"]["id"]
    with runtime.db.transaction() as session:
        made = cases.create_follow_up(session, team_id=team_id, verdict_id=_button_id(body), user_id=user_id,
                                      now=runtime.now())
        if made.created:
            hooks.review_follow_up_created(session, hooks.ReviewFollowUpCreated(
                team_id, made.channel_id, made.review_id, made.sprint_story_id, made.title, made.note, user_id,
                runtime.now()))
    respond(text=views.follow_up_text(made.title, created=made.created), response_type="ephemeral",
            replace_original=False)
    refresh_home(runtime, slack_of(context), team_id=team_id, user_id=user_id)


def home_section(runtime: Runtime, context: hooks.HomeContext) -> hooks.Blocks:
    """Questions waiting for the person as presenter, and needs-changes notes waiting for them to triage."""
    with runtime.db.reading() as session:
        asked = store.questions_for(session, team_id=context.team_id, user_id=context.user_id)
        notes = store.notes_to_triage(session, team_id=context.team_id, user_id=context.user_id, now=context.now)

    def link(channel_id: str, ts: str | None) -> str | None:
        return message_link(runtime, team_id=context.team_id, channel_id=channel_id, ts=ts)

    return views.home_blocks([(q, link(q.channel_id, q.story_ts)) for q in asked[: views.HOME_ITEMS]] + [
        (q, None) for q in asked[views.HOME_ITEMS:]], [(n, link(n.channel_id, n.story_ts)) for n in notes[
            : views.HOME_ITEMS]] + [(n, None) for n in notes[views.HOME_ITEMS:]])


REVIEW = SlashCommand("/review", handle_review_command, views.usage_lines())
SLASH_COMMANDS = (REVIEW,)


def register(app: App) -> None:
    app.command(REVIEW.name)(handle_review_command)
    app.view(views.START_MODAL)(submit_start)
    app.view(views.NOTE_MODAL)(submit_text)
    app.view(views.QUESTION_MODAL)(submit_text)
    app.action(views.ACCEPT)(accept)
    app.action(views.NEEDS_CHANGES)(open_text_modal)
    app.action(views.ASK)(open_text_modal)
    app.action(views.ANSWERED)(mark_answered)
    app.action(views.FOLLOW_UP)(create_follow_up)
    hooks.add_home_section(home_section)
