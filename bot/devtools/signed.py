"""Requests to the app the way Slack sends them: form or JSON bodies, signed with the signing secret."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

from bot.devtools.fakeslack import FakeSlack

_ids = itertools.count(1)


@dataclass
class Reply:
    status: int
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def text(self) -> str:
        """Everything a person would read in the reply: its text and all texts in its blocks."""
        data = self.json if self.body[:1] == b"{" else None
        if not isinstance(data, dict):
            return self.body.decode()
        from bot.devtools.fakeslack import _texts

        return "\n".join([data.get("text", ""), *_texts(data.get("blocks", [])), *_texts(data.get("errors", {}))])


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackSender:
    """Sends signed slash commands, interactions and events to the app at `app_url`."""

    def __init__(self, app_url: str, signing_secret: str, fake: FakeSlack, *, team_id: str = "T1") -> None:
        self.app_url = app_url.rstrip("/")
        self.secret = signing_secret
        self.fake = fake
        self.team_id = team_id

    # -- raw ------------------------------------------------------------------------------------------------------
    def post(self, body: bytes, content_type: str, *, timestamp: int | None = None, signature: str | None = None,
             headers: dict[str, str] | None = None, path: str = "/slack/events") -> Reply:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        request = urllib.request.Request(self.app_url + path, data=body, method="POST")
        request.add_header("Content-Type", content_type)
        request.add_header("X-Slack-Request-Timestamp", ts)
        request.add_header("X-Slack-Signature", signature if signature is not None else sign(self.secret, ts, body))
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Reply(response.status, response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.read())

    def get(self, path: str) -> Reply:
        try:
            with urllib.request.urlopen(self.app_url + path, timeout=30) as response:
                return Reply(response.status, response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.read())

    def form(self, fields: dict[str, Any], **kwargs: Any) -> Reply:
        return self.post(urlencode(fields).encode(), "application/x-www-form-urlencoded", **kwargs)

    def interaction(self, payload: dict[str, Any], **kwargs: Any) -> Reply:
        return self.form({"payload": json.dumps(payload)}, **kwargs)

    # -- what Slack sends ---------------------------------------------------------------------------------------
    def command(self, command: str, text: str = "", *, user: str = "U1", channel: str = "C1",
                team: str | None = None, **kwargs: Any) -> Reply:
        """A slash command typed by `user` in `channel`."""
        fields = {
            "token": "verification-token-unused",
            "team_id": team or self.team_id,
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": channel.lower(),
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "ACADENCE",
            "is_enterprise_install": "false",
            "response_url": self.fake.response_url(user=user),
            "trigger_id": self.fake.trigger_id(),
        }
        return self.form(fields, **kwargs)

    def _user(self, user: str, team: str | None) -> dict[str, Any]:
        return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team or self.team_id}

    def block_action(self, action_id: str, value: str | None = None, *, user: str = "U1",
                     channel: str | None = "C1", message_ts: str | None = None, block_id: str = "b",
                     view: dict[str, Any] | None = None, selected_option: dict[str, Any] | None = None,
                     selected_user: str | None = None, selected_date: str | None = None,
                     team: str | None = None, **kwargs: Any) -> Reply:
        """A click on a button (or a choice in a select) in a message or a view."""
        action: dict[str, Any] = {"action_id": action_id, "block_id": block_id, "type": "button",
                                  "action_ts": f"{time.time():.6f}"}
        if value is not None:
            action["value"] = value
        if selected_option is not None:
            action.update(type="static_select", selected_option=selected_option)
        if selected_user is not None:
            action.update(type="users_select", selected_user=selected_user)
        if selected_date is not None:
            action.update(type="datepicker", selected_date=selected_date)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": team or self.team_id, "domain": "test"},
            "user": self._user(user, team),
            "api_app_id": "ACADENCE",
            "token": "verification-token-unused",
            "trigger_id": self.fake.trigger_id(),
            "actions": [action],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id")}
            payload["view"] = view
        else:
            payload["container"] = {"type": "message", "message_ts": message_ts, "channel_id": channel,
                                    "is_ephemeral": False}
            payload["channel"] = {"id": channel, "name": (channel or "").lower()}
            if message_ts is not None and channel is not None:
                message = self.fake.state.messages.get((channel, message_ts))
                if message is not None:
                    payload["message"] = {"ts": message_ts, "text": message.text, "blocks": message.blocks,
                                          "thread_ts": message.thread_ts}
            payload["response_url"] = self.fake.response_url((channel, message_ts) if message_ts and channel else None,
                                                             user=user)
        return self.interaction(payload, **kwargs)

    def click(self, message: Any, action_id: str, *, user: str = "U1", **kwargs: Any) -> Reply:
        """Click the button `action_id` on a message the fake recorded, with the value the app put on it."""
        for block in message.blocks:
            for element in [*block.get("elements", []), block.get("accessory") or {}]:
                if element.get("action_id") == action_id:
                    return self.block_action(action_id, element.get("value"), user=user, channel=message.channel,
                                             message_ts=message.ts, block_id=block.get("block_id", "b"), **kwargs)
        raise AssertionError(f"no button {action_id!r} on the message: {message.all_text}")

    def view_submission(self, view: dict[str, Any], values: dict[str, dict[str, Any]], *, user: str = "U1",
                        team: str | None = None, **kwargs: Any) -> Reply:
        """Submit a modal the app opened (`view` as views.open stored it) with `values` as its state."""
        submitted = {**view, "state": {"values": values}}
        payload = {
            "type": "view_submission",
            "team": {"id": team or self.team_id, "domain": "test"},
            "user": self._user(user, team),
            "api_app_id": "ACADENCE",
            "token": "verification-token-unused",
            "trigger_id": self.fake.trigger_id(),
            "view": submitted,
            "response_urls": [],
        }
        return self.interaction(payload, **kwargs)

    def shortcut(self, callback_id: str, *, message: dict[str, Any], user: str = "U1", channel: str = "C1",
                 team: str | None = None, **kwargs: Any) -> Reply:
        """A message shortcut used on `message` (with at least `ts` and `text`)."""
        payload = {
            "type": "message_action",
            "callback_id": callback_id,
            "team": {"id": team or self.team_id, "domain": "test"},
            "user": self._user(user, team),
            "channel": {"id": channel, "name": channel.lower()},
            "message": message,
            "message_ts": message["ts"],
            "trigger_id": self.fake.trigger_id(),
            "response_url": self.fake.response_url(user=user),
            "token": "verification-token-unused",
        }
        return self.interaction(payload, **kwargs)

    def event(self, event: dict[str, Any], *, event_id: str | None = None, team: str | None = None,
              **kwargs: Any) -> Reply:
        """An Events API delivery of `event`."""
        body = {
            "token": "verification-token-unused",
            "team_id": team or self.team_id,
            "api_app_id": "ACADENCE",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team or self.team_id, "user_id": "UCADENCE", "is_bot": True}],
        }
        return self.post(json.dumps(body).encode(), "application/json", **kwargs)


def _state(element: dict[str, Any]) -> dict[str, Any]:
    """What Slack sends for an input element left at its initial value."""
    kind = element["type"]
    if kind == "conversations_select":
        return {"type": kind, "selected_conversation": element.get("initial_conversation")}
    if kind == "multi_users_select":
        return {"type": kind, "selected_users": element.get("initial_users", [])}
    if kind == "users_select":
        return {"type": kind, "selected_user": element.get("initial_user")}
    if kind in ("static_select", "radio_buttons"):
        return {"type": kind, "selected_option": element.get("initial_option")}
    if kind == "checkboxes":
        return {"type": kind, "selected_options": element.get("initial_options", [])}
    if kind == "timepicker":
        return {"type": kind, "selected_time": element.get("initial_time")}
    if kind == "datepicker":
        return {"type": kind, "selected_date": element.get("initial_date")}
    return {"type": kind, "value": element.get("initial_value")}


def form(view: dict[str, Any], **changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A modal's state as a person submits it: every input at its initial value, with `changes` by block id."""
    values: dict[str, dict[str, Any]] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        values[block["block_id"]] = {element["action_id"]: {**_state(element), **changes.get(block["block_id"], {})}}
    return values


class SocketModeSender(SlackSender):
    """Delivers what `SlackSender` builds (slash commands, clicks, modal submissions, shortcuts, events) as Socket
    Mode envelopes over the fake's WebSocket, unsigned, as Slack does; a Reply carries the acknowledgement's payload."""

    def __init__(self, fake: FakeSlack, *, team_id: str = "T1") -> None:
        super().__init__("http://socket-mode.invalid", "", fake, team_id=team_id)

    def post(self, body: bytes, content_type: str, **_kwargs: Any) -> Reply:
        if content_type == "application/json":
            payload, kind = json.loads(body), "events_api"
        else:
            fields = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
            if "payload" in fields:
                payload, kind = json.loads(fields["payload"]), "interactive"
            else:
                payload, kind = fields, "slash_commands"
        ack = self.fake.socket_mode().deliver(kind, payload)
        answer = ack.get("payload")
        return Reply(200, json.dumps(answer).encode() if answer else b"")
