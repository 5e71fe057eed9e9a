"""`POST /slack/events` as it faces the internet: bounded, verified, well-formed and new, or refused before Bolt.

In this order, each refusal answered with one short log line and never with the body:
1. a body over `MAX_BODY_BYTES` gets 413 before it is read;
2. a request without a valid signature (HMAC of `v0:<timestamp>:<body>` with the signing secret, and a timestamp
   that is a number within 5 minutes of now) gets 401: nothing parses its body, no listener runs, nothing is sent;
3. a verified body that is not UTF-8, not the JSON or form Slack sends, or not shaped as its kind of request says
   (`shape_problem`) gets 400;
4. a verified request whose signature was already seen (a replay) gets an empty 200 and does nothing.
Only then does Bolt dispatch it, with its own verification off (it would log the whole body of a refused request).
Socket Mode requests never come this way: they arrive over the authenticated socket, unsigned.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltRequest
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.server import dedup, requestlog
from bot.server.runtime import Runtime

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger("cadence.edge")

PATH = "/slack/events"
# Slack's largest payloads (a view submission of a big modal) are tens of kilobytes.
MAX_BODY_BYTES = 1_000_000
# Slack: "verify that the request timestamp is within five minutes of the current time".
TIMESTAMP_TOLERANCE_SECONDS = 300
# Slack's payloads nest a dozen levels at most; a deeper body is an attack on recursive code.
MAX_DEPTH = 40
# Put in the context of every request the edge let through, and of every Socket Mode request: the global error
# handler answers only such requests (never through a response_url an unverified sender chose).
VERIFIED = "cadence.verified"

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def verification_problem(secret: str, timestamp: str, signature: str, body: bytes, now: float) -> str | None:
    """Why a request is not from Slack (a short phrase without any of its content), or None when it is."""
    if not timestamp or not _TIMESTAMP.fullmatch(timestamp):
        return "X-Slack-Request-Timestamp is missing or not a number"
    if abs(now - int(timestamp)) > TIMESTAMP_TOLERANCE_SECONDS:
        return "X-Slack-Request-Timestamp is more than 5 minutes away"
    if not signature or not _SIGNATURE.fullmatch(signature):
        return "X-Slack-Signature is missing or malformed"
    expected = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest("v0=" + expected, signature):
        return "X-Slack-Signature does not match"
    return None


# -- shapes ------------------------------------------------------------------------------------------------------
# Keys that, wherever they appear at the top of a payload or its event, hold one kind of value. Bolt, the
# middleware and the listeners read them without looking first.
_STRINGS = frozenset({
    "type", "command", "text", "user_id", "team_id", "channel_id", "enterprise_id", "response_url", "trigger_id",
    "callback_id", "action_id", "api_app_id", "event_id", "token", "challenge", "thread_ts", "ts", "tab",
    "message_ts", "event_ts", "user_team", "private_metadata", "view_id", "hash", "value",
})
_OBJECTS = frozenset({"event", "view", "message", "container", "item", "previous_message", "state"})
_LISTS_OF_OBJECTS = frozenset({"actions", "authorizations", "response_urls"})
# An id or an object carrying one; null where Slack sends it so (an org-wide install's `team`).
_ID_HOLDERS = frozenset({"team", "user", "channel", "enterprise"})
_PASSED_TO_BOLT = frozenset({"url_verification", "ssl_check", "app_rate_limited"})


def shape_problem(body: Any) -> str | None:
    """Why a verified payload is not one Cadence can handle (a short phrase), or None when it has a known shape."""
    if not isinstance(body, dict) or not body:
        return "the body is not a JSON object or a form"
    if _too_deep(body, MAX_DEPTH):
        return f"the payload nests deeper than {MAX_DEPTH} levels"
    problem = _field_problem(body, "")
    if problem:
        return problem
    kind = body.get("type")
    if "command" in body:
        command = body["command"]
        if not isinstance(command, str) or not command.startswith("/") or _required(body, "user_id", "team_id"):
            return "a slash command without a command, user_id or team_id"
        return None
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "an event_callback without an event and its type"
        return _field_problem(event, "event.") or _required(body, "event_id", "team_id")
    if kind == "block_actions":
        actions = body.get("actions")
        if not actions or any(not isinstance(a.get("action_id"), str) for a in actions):
            return "block_actions without actions and their action_id"
        return _user_problem(body) or _nested_problem(body, "view") or _nested_problem(body, "message")
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("callback_id"), str):
            return f"{kind} without a view and its callback_id"
        state = view.get("state", {})
        if not isinstance(state, dict) or not isinstance(state.get("values", {}), dict):
            return f"{kind} whose view.state.values is not an object"
        return _user_problem(body) or _nested_problem(body, "view")
    if kind in ("shortcut", "message_action"):
        return _required(body, "callback_id") or _user_problem(body) or _nested_problem(body, "message")
    if kind == "block_suggestion":
        return _required(body, "action_id") or _user_problem(body)
    if kind in _PASSED_TO_BOLT or body.get("ssl_check"):
        return None
    return "not a kind of request Cadence handles"


def _field_problem(node: dict[str, Any], where: str) -> str | None:
    for key, value in node.items():
        if key in _STRINGS and not (value is None or isinstance(value, str)):  # Slack sends some as null
            return f"{where}{key} is not a string"
        if key in _OBJECTS and not isinstance(value, dict):
            return f"{where}{key} is not an object"
        if key in _LISTS_OF_OBJECTS and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            return f"{where}{key} is not a list of objects"
        if key in _ID_HOLDERS and not (value is None or isinstance(value, str)
                                       or (isinstance(value, dict) and isinstance(value.get("id", ""), str))):
            return f"{where}{key} is neither an id nor an object with one"
    for entry in node.get("authorizations") or ():
        if problem := _field_problem(entry, f"{where}authorizations[]."):
            return problem
    return None


def _nested_problem(body: dict[str, Any], key: str) -> str | None:
    return _field_problem(body[key], f"{key}.") if isinstance(body.get(key), dict) else None


def _user_problem(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
        return "no user with an id"
    return None


def _required(body: dict[str, Any], *keys: str) -> str | None:
    missing = [key for key in keys if not body.get(key)]
    return f"no {', '.join(missing)}" if missing else None


def _too_deep(node: Any, budget: int) -> bool:
    if budget <= 0:
        return True
    if isinstance(node, dict):
        return any(_too_deep(value, budget - 1) for value in node.values())
    if isinstance(node, list):
        return any(_too_deep(value, budget - 1) for value in node)
    return False


# -- the WSGI application ----------------------------------------------------------------------------------------
class SlackEdge:
    """WSGI: `POST /slack/events` checked as the module says, then dispatched by Bolt; any other path to Bolt's
    own handler (the OAuth install pages, or 404)."""

    def __init__(self, runtime: Runtime, app: App, *, clock: Callable[[], float] = time.time) -> None:
        self.runtime = runtime
        self.app = app
        self.clock = clock
        self.secret = runtime.settings.slack_signing_secret or ""
        self.others = SlackRequestHandler(app, path=PATH)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.others(environ, start_response)
        declared = str(environ.get("CONTENT_LENGTH") or "0").strip()
        if not declared.isdigit():
            return _refuse(start_response, 400, "Content-Length is not a number", 0)
        length = int(declared)
        if length > MAX_BODY_BYTES:
            # Never read into memory: the server discards the unread bytes (or closes the connection).
            return _refuse(start_response, 413, f"the body is larger than {MAX_BODY_BYTES} bytes", length)
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = _headers(environ)
        timestamp, signature = headers.get("x-slack-request-timestamp", ""), headers.get("x-slack-signature", "")
        if problem := verification_problem(self.secret, timestamp, signature, raw, self.clock()):
            return _refuse(start_response, 401, problem, length)
        try:
            text = raw.decode("utf-8")
            request = BoltRequest(body=text, query=environ.get("QUERY_STRING", ""), headers=headers)
        except UnicodeDecodeError:
            return _refuse(start_response, 400, "the body is not UTF-8", length)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
            # Bolt parses the body and reads the ids in it as it builds the request: a body it cannot read is
            # not Slack's (JSON errors are ValueErrors, a wrongly typed id a TypeError or AttributeError).
            return _refuse(start_response, 400, "the body is not a Slack payload", length)
        if problem := shape_problem(request.body):
            return _refuse(start_response, 400, problem, length)
        if not self._first(signature, int(timestamp)):
            log.info("replayed request (its signature was already seen) answered without acting")
            return _answer(start_response, 200, "")
        request.context[VERIFIED] = True
        response = self.app.dispatch(request)
        wsgi = WsgiHttpResponse(status=response.status, headers=response.headers, body=response.body)
        start_response(wsgi.status, wsgi.get_headers())
        return wsgi.get_body()

    def _first(self, signature: str, sent_at: int) -> bool:
        try:
            return dedup.first_signature(self.runtime, signature=signature.removeprefix("v0="), sent_at=sent_at,
                                         now=self.clock())
        except SQLAlchemyError as error:
            # Without the database no listener can act either; the request goes on so that the person is told.
            log.warning("could not check the request for a replay: %s", type(error).__name__)
            return True


def _headers(environ: WSGIEnvironment) -> dict[str, str]:
    headers = {}
    for key, value in environ.items():
        if key in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            headers[key.lower().replace("_", "-")] = value
        elif key.startswith("HTTP_"):
            headers[key[5:].lower().replace("_", "-")] = value
    return headers


REASONS = {400: "Bad Request", 401: "Unauthorized", 413: "Content Too Large"}


def _refuse(start_response: StartResponse, status: int, problem: str, length: int) -> Iterable[bytes]:
    info = requestlog.current()
    if info is not None:
        info.kind = "refused"
    log.info("refused with %d: %s (%d bytes)", status, problem, length)
    return _answer(start_response, status, REASONS[status])


def _answer(start_response: StartResponse, status: int, text: str) -> Iterable[bytes]:
    body = text.encode()
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    start_response(f"{status} {REASONS.get(status, 'OK')}", headers)
    return [body]
