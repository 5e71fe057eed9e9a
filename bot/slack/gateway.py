"""The one way out to Slack: every Web API call of the app goes through a `Slack` handle from the `Gateway`.

The gateway owns the clients (bot/slack/client.py: base URL, timeouts, retry policy) and one classification of
Slack's answers that every caller shares (`classify`):

- OK;
- RETRY_LATER: 429 (with Slack's Retry-After), 5xx, timeouts and connection errors, Slack's transient errors;
- UNREACHABLE: the conversation cannot be posted to (`not_in_channel`, `channel_not_found`, `is_archived`...): a
  person has to do something (invite the bot, pick another channel);
- PERSON_GONE: the person left or was deactivated;
- WORKSPACE_GONE: the token is dead (`invalid_auth`, `token_revoked`, `account_inactive`...): the workspace is marked
  uninstalled at once, which stops its scheduled work until it installs Cadence again;
- OUR_BUG: anything else (`invalid_blocks`, `invalid_arguments`, `missing_scope`...): logged loudly, never retried.

A failed call raises `SlackFailure`, whose `answer` carries the verdict, Slack's error code and any Retry-After.
Listeners let it reach the global error handler (bot/server/errors.py), which tells the person what to do; the outbox
worker (bot/jobs/outbox.py) turns the verdict into sent / retry at a time / given up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot.slack.client import QUICK_BUDGET_SECONDS, counting_only

log = logging.getLogger("cadence.slack")


class Verdict(StrEnum):
    OK = "ok"
    RETRY_LATER = "retry_later"
    UNREACHABLE = "unreachable"
    PERSON_GONE = "person_gone"
    WORKSPACE_GONE = "workspace_gone"
    OUR_BUG = "our_bug"


TRANSIENT_ERRORS = frozenset({
    "internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited", "rate_limited",
})
UNREACHABLE_ERRORS = frozenset({
    "not_in_channel", "channel_not_found", "is_archived", "restricted_action", "cannot_dm_bot",
    "messages_tab_disabled", "thread_not_found", "message_not_found", "cant_update_message", "team_access_not_granted",
    "restricted_action_read_only_channel", "restricted_action_thread_only_channel", "channel_is_archived",
})
PERSON_GONE_ERRORS = frozenset({"user_not_found", "user_disabled", "user_not_visible", "users_not_found"})
WORKSPACE_GONE_ERRORS = frozenset({
    "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "team_not_found",
    "org_login_required", "ekm_access_denied", "app_uninstalled", "workspace_not_installed",
})


@dataclass(frozen=True)
class Answer:
    """How Slack answered one call, as every caller understands it."""

    verdict: Verdict
    error: str | None = None  # Slack's error code, or http_NNN / connection_error
    retry_after: float | None = None  # seconds Slack asked us to wait (429)

    @property
    def retryable(self) -> bool:
        return self.verdict is Verdict.RETRY_LATER


class SlackFailure(Exception):
    """A Web API call that did not succeed, classified."""

    def __init__(self, method: str, answer: Answer, *, team_id: str | None = None,
                 channel: str | None = None) -> None:
        super().__init__(f"{method}: {answer.error} ({answer.verdict})")
        self.method = method
        self.answer = answer
        self.team_id = team_id
        self.channel = channel

    @property
    def verdict(self) -> Verdict:
        return self.answer.verdict

    @property
    def error(self) -> str | None:
        return self.answer.error


class WorkspaceNotInstalled(LookupError):
    """Cadence has no bot token for this workspace: it was never installed there, or it was uninstalled."""


def classify(error: BaseException) -> Answer:
    """The one classification of a failed Web API call."""
    if isinstance(error, SlackFailure):
        return error.answer
    if isinstance(error, WorkspaceNotInstalled):
        return Answer(Verdict.WORKSPACE_GONE, "workspace_not_installed")
    if isinstance(error, SlackApiError):
        response = error.response
        status = response.status_code
        if status == 429:
            return Answer(Verdict.RETRY_LATER, "ratelimited", _retry_after(response.headers))
        data = response.data if isinstance(response.data, dict) else {}
        code = str(data.get("error") or f"http_{status}")
        if status >= 500 or code in TRANSIENT_ERRORS:
            return Answer(Verdict.RETRY_LATER, code)
        return classify_code(code)
    if isinstance(error, OSError | SlackClientError | TimeoutError):
        return Answer(Verdict.RETRY_LATER, "connection_error")
    return Answer(Verdict.OUR_BUG, f"unexpected:{type(error).__name__}")


def classify_code(code: str) -> Answer:
    """The verdict for one of Slack's `ok: false` error codes."""
    if code in TRANSIENT_ERRORS:
        return Answer(Verdict.RETRY_LATER, code)
    if code in UNREACHABLE_ERRORS:
        return Answer(Verdict.UNREACHABLE, code)
    if code in PERSON_GONE_ERRORS:
        return Answer(Verdict.PERSON_GONE, code)
    if code in WORKSPACE_GONE_ERRORS:
        return Answer(Verdict.WORKSPACE_GONE, code)
    return Answer(Verdict.OUR_BUG, code)


def _retry_after(headers: Mapping[str, Any]) -> float:
    value = headers.get("Retry-After") or headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(float(value), 0.0) if value is not None else 1.0
    except (TypeError, ValueError):
        return 1.0


WorkspaceGone = Callable[[str, str], None]  # (team_id, error code): mark the workspace uninstalled


class Slack:
    """One workspace's Web API, through the gateway: each method makes one call and raises `SlackFailure`."""

    def __init__(self, client: WebClient, *, team_id: str | None, on_workspace_gone: WorkspaceGone | None = None,
                 deadline: float | None = None) -> None:
        self._client = client
        self.team_id = team_id
        self._on_workspace_gone = on_workspace_gone
        self._deadline = deadline  # time.monotonic() by which every call of a quick handle has answered

    def quick(self, seconds: float | None = None) -> Slack:
        """This workspace's Web API for the calls made before an acknowledgement or a views.open: all of them
        together get `seconds` (2 s by default), each answers Slack's first answer (no retry, no sleep on a 429), and
        one that would run past the budget fails as RETRY_LATER at once, so the ack or the trigger is never late."""
        budget = QUICK_BUDGET_SECONDS if seconds is None else seconds
        return Slack(counting_only(self._client, timeout=budget), team_id=self.team_id,
                     on_workspace_gone=self._on_workspace_gone, deadline=time.monotonic() + budget)

    @property
    def token(self) -> str | None:
        return self._client.token

    def call(self, method: str, **args: Any) -> dict[str, Any]:
        """Call Web API `method` (e.g. "chat.postMessage") with `args`; the answer's data, or SlackFailure."""
        function = getattr(self._client, method.replace(".", "_"), None)
        if self._deadline is not None:
            left = self._deadline - time.monotonic()
            if left <= 0.05:
                raise SlackFailure(method, Answer(Verdict.RETRY_LATER, "timeout"), team_id=self.team_id,
                                   channel=args.get("channel"))
            self._client.timeout = left  # type: ignore[assignment]  # this handle's own client: no one else's call
        if method == "files.upload_v2":
            function = lambda **upload: share_file(self._client, **upload)  # noqa: E731
        try:
            response = self._client.api_call(method, json=args) if function is None else function(**args)
        except Exception as error:
            answer = classify(error)
            self._failed(method, answer, args)
            raise SlackFailure(method, answer, team_id=self.team_id, channel=args.get("channel")) from error
        data = response.data if hasattr(response, "data") else response
        return data if isinstance(data, dict) else {}

    def _failed(self, method: str, answer: Answer, args: Mapping[str, Any]) -> None:
        if answer.verdict is Verdict.WORKSPACE_GONE and self.team_id and self._on_workspace_gone is not None:
            log.warning("Slack says the workspace's token is dead (%s on %s): marking it uninstalled", answer.error,
                        method, extra={"team": self.team_id})
            self._on_workspace_gone(self.team_id, answer.error or "")
        elif answer.verdict is Verdict.OUR_BUG:
            log.error("Slack refused %s as a bug of ours: %s", method, answer.error,
                      extra={"team": self.team_id, "channel": args.get("channel")})

    # -- messages -------------------------------------------------------------------------------------------------
    def post(self, *, channel: str, text: str, blocks: list[dict[str, Any]] | None = None,
             thread_ts: str | None = None, **more: Any) -> dict[str, Any]:
        """chat.postMessage; a user id as `channel` posts in the app's DM with them."""
        return self.call("chat.postMessage", channel=channel, text=text, **_some(blocks=blocks, thread_ts=thread_ts),
                         **more)

    def update(self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]] | None = None,
               **more: Any) -> dict[str, Any]:
        return self.call("chat.update", channel=channel, ts=ts, text=text, **_some(blocks=blocks), **more)

    def delete(self, *, channel: str, ts: str) -> dict[str, Any]:
        return self.call("chat.delete", channel=channel, ts=ts)

    def ephemeral(self, *, channel: str, user: str, text: str, blocks: list[dict[str, Any]] | None = None,
                  thread_ts: str | None = None) -> dict[str, Any]:
        return self.call("chat.postEphemeral", channel=channel, user=user, text=text,
                         **_some(blocks=blocks, thread_ts=thread_ts))

    def tell(self, *, user: str, text: str, response_url: str | None = None, channel: str | None = None,
             blocks: list[dict[str, Any]] | None = None) -> None:
        """Tell one person something only they see: through the response_url of what they did while it works (it
        needs no membership; 5 uses within 30 minutes), else privately in `channel` where the bot is a member, else in
        their DM with the app."""
        if response_url and respond(response_url, text=text, blocks=blocks):
            return
        if channel and not channel.startswith(("U", "W")):
            try:
                self.ephemeral(channel=channel, user=user, text=text, blocks=blocks)
                return
            except SlackFailure as failure:
                if failure.verdict is not Verdict.UNREACHABLE:
                    raise
        self.post(channel=user, text=text, blocks=blocks)

    def permalink(self, *, channel: str, ts: str) -> str:
        return str(self.call("chat.getPermalink", channel=channel, message_ts=ts).get("permalink") or "")

    def upload(self, *, channel: str, content: bytes, filename: str, title: str, alt_text: str | None = None,
               thread_ts: str | None = None, initial_comment: str | None = None) -> dict[str, Any]:
        """Share a file in a conversation (files.getUploadURLExternal + files.completeUploadExternal); the bot joins
        a public channel it is not in first (`share_file`). `alt_text` is what a screen reader says of an image."""
        return self.call("files.upload_v2", channel=channel, content=content, filename=filename, title=title,
                         **_some(alt_txt=alt_text, thread_ts=thread_ts, initial_comment=initial_comment))

    # -- views ------------------------------------------------------------------------------------------------------
    def open_view(self, *, trigger_id: str, view: dict[str, Any]) -> dict[str, Any]:
        return self.call("views.open", trigger_id=trigger_id, view=view)

    def push_view(self, *, trigger_id: str, view: dict[str, Any]) -> dict[str, Any]:
        return self.call("views.push", trigger_id=trigger_id, view=view)

    def update_view(self, *, view_id: str, view: dict[str, Any], hash: str | None = None) -> dict[str, Any]:
        return self.call("views.update", view_id=view_id, view=view, **_some(hash=hash))

    def publish_home(self, *, user_id: str, view: dict[str, Any]) -> dict[str, Any]:
        return self.call("views.publish", user_id=user_id, view=view)

    # -- people and conversations -----------------------------------------------------------------------------------
    def user_info(self, *, user: str) -> dict[str, Any]:
        return dict(self.call("users.info", user=user).get("user") or {})

    def list_users(self, *, cursor: str | None = None, limit: int = 200) -> dict[str, Any]:
        return self.call("users.list", limit=limit, **_some(cursor=cursor))

    def usergroups(self) -> list[dict[str, Any]]:
        return list(self.call("usergroups.list").get("usergroups") or [])

    def usergroup_members(self, *, usergroup: str) -> list[str]:
        return list(self.call("usergroups.users.list", usergroup=usergroup).get("users") or [])

    def conversation_info(self, *, channel: str) -> dict[str, Any]:
        return dict(self.call("conversations.info", channel=channel).get("channel") or {})

    def join(self, *, channel: str) -> dict[str, Any]:
        return dict(self.call("conversations.join", channel=channel).get("channel") or {})

    def ensure_member(self, *, channel: str) -> None:
        """Make sure the bot is in `channel` before a ceremony starts there: it joins a public channel it is not in
        (`channels:join`); a private channel, DM or group DM it is not in raises SlackFailure(UNREACHABLE), so that
        the person is told to `/invite @Cadence` and nothing is saved. A user id is the app's own DM with them."""
        if channel.startswith(("U", "W")):
            return
        info = self.conversation_info(channel=channel)  # channel_not_found where the bot cannot see it
        if info.get("is_archived"):
            raise SlackFailure("conversations.info", Answer(Verdict.UNREACHABLE, "is_archived"), team_id=self.team_id,
                               channel=channel)
        if info.get("is_member"):
            return
        if info.get("is_private") or info.get("is_im") or info.get("is_mpim"):
            raise SlackFailure("conversations.info", Answer(Verdict.UNREACHABLE, "not_in_channel"),
                               team_id=self.team_id, channel=channel)
        self.join(channel=channel)

    def open_dm(self, *, user: str) -> str:
        """The id of the app's DM with `user` (conversations.open)."""
        return str((self.call("conversations.open", users=user).get("channel") or {}).get("id") or "")

    def find_by_key(self, *, channel: str, key: str, oldest: float, thread_ts: str | None = None) -> dict[str, Any] | None:
        """The message the app posted in `channel` (or in a thread of it) since `oldest` whose metadata carries `key`.

        Every post the outbox makes carries its row's key as message metadata; after a crash between sending and
        recording, this is how the next attempt tells "sent" from "not sent". Reads one page (100 messages).
        """
        args: dict[str, Any] = {"channel": channel, "oldest": f"{oldest:.6f}", "limit": 100,
                                "include_all_metadata": True, "inclusive": True}
        if thread_ts:
            data = self.call("conversations.replies", ts=thread_ts, **args)
        else:
            data = self.call("conversations.history", **args)
        for message in data.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == OUTBOX_EVENT and (metadata.get("event_payload") or {}).get("key") == key:
                return message
        return None


def share_file(client: WebClient, **args: Any) -> Any:
    """files.upload_v2 through `client`; where Slack answers `not_in_channel` (a public channel the bot is not in:
    a file can only be shared where it is a member) it joins (channels:join) and shares again. A private channel it
    is not in stays refused (channel_not_found): a person has to `/invite @Cadence` there."""
    try:
        return client.files_upload_v2(**args)
    except SlackApiError as error:
        data = error.response.data if isinstance(error.response.data, dict) else {}
        if data.get("error") != "not_in_channel" or not args.get("channel"):
            raise
        try:
            client.conversations_join(channel=args["channel"])
        except SlackApiError:
            raise error from None
    return client.files_upload_v2(**args)


RESPONSE_URL_TIMEOUT_SECONDS = 5


def respond(response_url: str, *, text: str, blocks: list[dict[str, Any]] | None = None) -> bool:
    """Answer one person privately through a response_url Slack gave with their command or click; False when it no
    longer works (used 5 times, older than 30 minutes) or Slack could not be reached."""
    try:
        sent = WebhookClient(response_url, timeout=RESPONSE_URL_TIMEOUT_SECONDS).send(
            text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
    except OSError as error:
        log.warning("a response_url could not be reached: %s", type(error).__name__)
        return False
    return sent.status_code == 200


OUTBOX_EVENT = "cadence_outbox"


def outbox_metadata(key: str) -> dict[str, Any]:
    """The message metadata every outbox post carries, so that a resend can find it first."""
    return {"event_type": OUTBOX_EVENT, "event_payload": {"key": key}}


def _some(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


ClientFor = Callable[[str], WebClient]


class Gateway:
    """Hands out `Slack` handles: per workspace for scheduled work, per request for listeners."""

    def __init__(self, client_for: ClientFor, on_workspace_gone: WorkspaceGone | None = None) -> None:
        self._client_for = client_for
        self._on_workspace_gone = on_workspace_gone

    def for_team(self, team_id: str) -> Slack:
        """The workspace's Web API with its bot token; raises SlackFailure(WORKSPACE_GONE) when it has none."""
        try:
            client = self._client_for(team_id)
        except WorkspaceNotInstalled as error:
            raise SlackFailure("auth", classify(error), team_id=team_id) from error
        return Slack(client, team_id=team_id, on_workspace_gone=self._on_workspace_gone)

    def for_client(self, client: WebClient, *, team_id: str | None) -> Slack:
        """The Web API through a client Bolt built for one request (it carries that request's token)."""
        return Slack(client, team_id=team_id, on_workspace_gone=self._on_workspace_gone)
