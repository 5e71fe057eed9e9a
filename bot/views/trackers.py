"""Jira and GitHub in Block Kit: the connect modal, what a connection says, and tracker lines on other messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import CheckboxesElement, InputBlock, Option, PlainTextInputElement
from slack_sdk.models.views import View

from bot.views.common import Block, actions, button, context, cut, escape, section
from ceremonies import trackers as domain

CONNECT = "trackers.connect"  # the modal's callback id
SITE_BLOCK = "trackers.site_url"
EMAIL_BLOCK = "trackers.email"
TOKEN_BLOCK = "trackers.token"
PROJECT_BLOCK = "trackers.project"
APP_ID_BLOCK = "trackers.app_id"
INSTALLATION_BLOCK = "trackers.installation_id"
PRIVATE_KEY_BLOCK = "trackers.private_key"
SCOPE_BLOCK = "trackers.scope"
ONLY_HERE = "channel"
BLOCKS = {"site_url": SITE_BLOCK, "email": EMAIL_BLOCK, "token": TOKEN_BLOCK, "project": PROJECT_BLOCK,
          "app_id": APP_ID_BLOCK, "installation_id": INSTALLATION_BLOCK, "private_key": PRIVATE_KEY_BLOCK}
CREATE_ISSUE = "trackers.create_issue"  # the action item's "Create issue" button


@dataclass(frozen=True)
class ConnectAnswers:
    kind: domain.Kind
    channel_id: str
    site_url: str
    email: str
    token: str
    project: str
    only_here: bool  # a connection for this team channel only
    app_id: str = ""  # a GitHub App installation instead of a token
    installation_id: str = ""
    private_key: str = ""

    @property
    def scope(self) -> str:
        """The connection's channel_id: this channel, or "" for the workspace."""
        return self.channel_id if self.only_here else ""


def _input(block_id: str, label: str, *, hint: str | None = None, optional: bool = False,
           max_length: int = 500, initial: str = "", refusal: dict[str, str] | None = None,
           multiline: bool = False) -> InputBlock:
    problem = (refusal or {}).get(block_id)
    return InputBlock(block_id=block_id, label=label, hint=f"⚠️ {problem}" if problem else hint, optional=optional,
                      element=PlainTextInputElement(action_id=block_id, max_length=max_length,
                                                    initial_value=initial or None, multiline=multiline or None))


def connect_modal(kind: domain.Kind, channel_id: str, *, filled: ConnectAnswers | None = None,
                  refusal: dict[str, str] | None = None) -> dict[str, Any]:
    """The modal of `/cadence connect jira|github`: where, and the credentials (checked with one call on submit).

    GitHub takes either a fine-grained token or a GitHub App installation (App ID, installation ID, private key).

    Shown again with what was typed (`filled`, the token and the private key excepted: they are never sent back to
    Slack) and the tracker's
    refusal (`connect_errors`) under its field when the check outlasted Slack's 3 s and the refusal came after the
    acknowledgement."""
    was = filled or ConnectAnswers(kind, channel_id, "", "", "", "", only_here=False)
    if kind is domain.Kind.JIRA:
        blocks = [
            _input(SITE_BLOCK, "Jira site", hint="e.g. https://your-team.atlassian.net, or your Data Center's URL",
                   max_length=domain.URL_MAX, initial=was.site_url, refusal=refusal),
            _input(EMAIL_BLOCK, "Account e-mail (Jira Cloud)", optional=True, max_length=domain.ACCOUNT_MAX,
                   hint="Leave empty for a Data Center personal access token.", initial=was.email, refusal=refusal),
            _input(TOKEN_BLOCK, "API token, or personal access token (Data Center)", max_length=domain.TOKEN_MAX,
                   hint="Jira Cloud: id.atlassian.com → Security → API tokens.", refusal=refusal),
            _input(PROJECT_BLOCK, "Project for new issues (retro action items)", optional=True,
                   max_length=domain.PROJECT_MAX, hint="A project key such as PROJ.", initial=was.project,
                   refusal=refusal),
        ]
    else:
        blocks = [
            _input(TOKEN_BLOCK, "Fine-grained personal access token", max_length=domain.TOKEN_MAX, optional=True,
                   hint="Repository access to your repositories, with Issues: read and write.", refusal=refusal),
            section("*Or a GitHub App installation* (leave the token empty): the App needs Issues read and write, "
                    "Projects read and write (for a project's number field) and Metadata read."),
            _input(APP_ID_BLOCK, "App ID", optional=True, max_length=domain.PROJECT_MAX, initial=was.app_id,
                   hint="The App's settings page, under About.", refusal=refusal),
            _input(INSTALLATION_BLOCK, "Installation ID", optional=True, max_length=domain.PROJECT_MAX,
                   initial=was.installation_id, refusal=refusal,
                   hint="The end of the installation's settings address: …/settings/installations/12345678."),
            _input(PRIVATE_KEY_BLOCK, "App's private key (.pem)", optional=True, max_length=domain.PRIVATE_KEY_MAX,
                   multiline=True, refusal=refusal,
                   hint="Generated in the App's settings page: paste the whole file, BEGIN and END lines too."),
            _input(PROJECT_BLOCK, "Default repository (owner/name)", optional=True, max_length=domain.PROJECT_MAX,
                   hint="New issues from retro action items go here.", initial=was.project, refusal=refusal),
        ]
    only_here = Option(text=f"Only for this team channel (<#{channel_id}>), not the whole workspace", value=ONLY_HERE)
    blocks.append(InputBlock(block_id=SCOPE_BLOCK, label="Scope", optional=True,
                             element=CheckboxesElement(action_id=SCOPE_BLOCK, options=[only_here],
                                                       initial_options=[only_here] if was.only_here else None)))
    top = [section(f":warning: {escape(' '.join(refusal.values()))}")] if refusal else []
    view = View(type="modal", callback_id=CONNECT, title=f"Connect {domain.LABELS[kind]}", submit="Connect",
                close="Cancel", private_metadata=f"{kind.value}:{channel_id}",
                blocks=[*top, *blocks, _note()])
    return view.to_dict()


def refused_view(kind: domain.Kind, refusal: str) -> dict[str, Any]:
    """What the connect modal turns into for someone who may not connect a tracker."""
    return View(type="modal", callback_id=f"{CONNECT}.refused", title=f"Connect {domain.LABELS[kind]}",
                close="Close", blocks=[section(f":warning: {escape(refusal)}")]).to_dict()


def checking_view(kind: domain.Kind) -> dict[str, Any]:
    """Shown while a slow tracker is still answering the check (Slack wants an answer to a submission in 3 s)."""
    label = domain.LABELS[kind]
    return View(type="modal", callback_id=f"{CONNECT}.checking", title=f"Connect {label}", close="Close",
                blocks=[section(f":hourglass_flowing_sand: Checking the token with {label}… This modal changes "
                                "as soon as it answers; if you close it, nothing is lost: a connection that works "
                                "is stored all the same.")]).to_dict()


def _note() -> dict[str, Any]:
    return context(":lock: The token is checked with one call, then stored encrypted; it is never shown again nor "
                   "logged. Only an admin or the team's facilitator can connect.")


def _value(view: dict[str, Any], block_id: str) -> str:
    values = ((view.get("state") or {}).get("values") or {}).get(block_id, {})
    return str((values.get(block_id) or {}).get("value") or "")


def parse_connect(view: dict[str, Any]) -> ConnectAnswers:
    kind, _, channel_id = (view.get("private_metadata") or "").partition(":")
    scope = ((view.get("state") or {}).get("values") or {}).get(SCOPE_BLOCK, {}).get(SCOPE_BLOCK) or {}
    only_here = ONLY_HERE in [o.get("value") for o in scope.get("selected_options") or []]
    return ConnectAnswers(domain.parse_kind(kind), channel_id, _value(view, SITE_BLOCK), _value(view, EMAIL_BLOCK),
                          _value(view, TOKEN_BLOCK), _value(view, PROJECT_BLOCK), only_here,
                          app_id=_value(view, APP_ID_BLOCK), installation_id=_value(view, INSTALLATION_BLOCK),
                          private_key=_value(view, PRIVATE_KEY_BLOCK))


def connect_errors(problems: dict[str, str]) -> dict[str, str]:
    """Problems by form field, as `response_action: errors` wants them (by block id)."""
    return {BLOCKS[name]: cut(text, 150) for name, text in problems.items()}


def connected_view(kind: domain.Kind, *, account: str, webhook_url: str, webhook_secret: str,
                   channel_id: str = "") -> dict[str, Any]:
    """The modal after a connection: who it connected as, and how to let the tracker tell Cadence of changes."""
    label = domain.LABELS[kind]
    scope = f" for <#{channel_id}>" if channel_id else " for the workspace"
    how = ("Jira: Settings → System → WebHooks → Create a WebHook, events *Issue updated*"
           if kind is domain.Kind.JIRA else "GitHub: the repository's Settings → Webhooks → Add webhook, "
           "content type `application/json`, event *Issues*")
    blocks: list[Block] = [
        section(f":white_check_mark: Connected to {label} as *{escape(account)}*{scope}."),
        section(f"*So that sprints and action items follow {label} at once* (otherwise they sync every few "
                f"minutes), add a webhook in {how}:\n• URL: `{escape(webhook_url)}`\n"
                f"• Secret: `{escape(webhook_secret)}`"),
        context("The secret is shown only now. Connect again to replace the token; `/cadence disconnect "
                f"{kind.value}` removes the connection."),
    ]
    return View(type="modal", callback_id=f"{CONNECT}.done", title=f"{label} connected", close="Done",
                blocks=blocks).to_dict()


def disconnected_text(kind: domain.Kind, removed: str | None) -> str:
    """`removed`: the scope whose connection went (a channel id, "" for the workspace), None when there was none."""
    label = domain.LABELS[kind]
    if removed is None:
        return f"{label} was not connected."
    scope = f" from <#{removed}>" if removed else ""
    return (f"{label} is disconnected{scope}: its token is deleted. Estimates and syncs waiting for it wait until it "
            "is connected again.")


def import_failed_text(kind: domain.Kind, problem: str) -> str:
    return f":warning: {domain.LABELS[kind]} did not give the issues: {escape(problem)}"


def not_connected_text(kind: domain.Kind) -> str:
    return (f"{domain.LABELS[kind]} is not connected. An admin or the team's facilitator connects it with "
            f"`/cadence connect {kind.value}`.")


def following_text(link: domain.SprintLink) -> str:
    """Told to who started a sprint that follows the tracker."""
    return (f":link: The sprint follows {escape(link.described)}: its issues become the committed stories with the "
            "first sync (within a minute); issues added later count as scope change, and done issues as done.")


def estimate_line(write: domain.EstimateWrite | None) -> Block | None:
    """The line a poker story shows about its estimate's way to the tracker."""
    return context(escape(write.line())) if write is not None else None


def create_issue_blocks(text: str, kinds: list[domain.Kind], *, item_id: int) -> list[Block] | None:
    """An action item's message with a "Create issue" button per connected tracker (None without any)."""
    if not kinds:
        return None
    buttons = [button(f"Create {domain.LABELS[k]} issue", f"{CREATE_ISSUE}.{k.value}", f"{k.value}:{item_id}")
               for k in kinds]
    return [section(text), actions(*buttons, block_id=f"{CREATE_ISSUE}.{item_id}")]
