"""A fake Slack Web API over real HTTP: records every call, answers like Slack, checks Block Kit, fails on demand."""

from __future__ import annotations

import itertools
import json
import math
import random
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from bot.devtools.blockkit import message_problems, view_problems
from bot.devtools.socketmode import SocketModeServer

JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata")
BOT_USER_ID = "UCADENCE"
BOT_ID = "BCADENCE"
MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"
TRIGGER_SECONDS = 3.0  # a trigger_id works once, within 3 s of the request that carried it
RESPONSE_URL_USES = 5  # a response_url works 5 times within 30 minutes
RESPONSE_URL_SECONDS = 30 * 60

# The scopes each method needs (any one of them), as Slack's method pages list them; methods left out need none.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "conversations.info": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "conversations.join": ("channels:join",),
    "conversations.open": ("im:write", "mpim:write"),
    "conversations.history": ("channels:history", "groups:history", "im:history", "mpim:history"),
    "conversations.replies": ("channels:history", "groups:history", "im:history", "mpim:history"),
    "users.info": ("users:read",),
    "users.list": ("users:read",),
    "usergroups.list": ("usergroups:read",),
    "usergroups.users.list": ("usergroups:read",),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
}
HISTORY_SCOPE = {"public": "channels:history", "private": "groups:history", "im": "im:history", "mpim": "mpim:history"}


def manifest_scopes(path: Path = MANIFEST) -> frozenset[str]:
    """The bot scopes manifest.yml asks for: what an installed Cadence is granted."""
    import yaml

    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    return frozenset(manifest["oauth_config"]["scopes"]["bot"])


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    worker: str = ""  # the X-Cadence-Worker header: which process called


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    deleted: bool = False
    edits: int = 0
    metadata: Any = None
    team: str = ""  # the workspace whose token posted it (channel and user ids may repeat across workspaces)

    @property
    def all_text(self) -> str:
        """The message's text and every text inside its blocks, for assertions on what people read."""
        return self.text + "\n" + "\n".join(_texts(self.blocks))


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    after_doing: bool = False  # the call takes effect, and only then fails (a timeout or 500 after Slack posted)


class TokenBucket:
    """`rate` calls a second, bursts of up to `burst`; a refused call spends nothing."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens, self.updated = float(burst), now

    def wait(self, now: float) -> float:
        """Seconds until a call may go (0: now)."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        # A hair of tolerance: senders pacing at exactly the limit must not lose to float rounding.
        return 0.0 if self.tokens >= 1 - 1e-9 else (1 - self.tokens) / self.rate

    def spend(self) -> None:
        self.tokens -= 1


@dataclass
class RateLimit:
    """Slack's limits as the fake enforces them: a workspace-wide bucket and one bucket per channel."""

    per_second: float
    burst: int
    per_channel_per_second: float | None
    per_channel_burst: int
    methods: tuple[str, ...]
    clock: Callable[[], float]
    workspace: TokenBucket | None = None
    channels: dict[str, TokenBucket] = field(default_factory=dict)

    def retry_after(self, method: str, channel: str) -> int | None:
        """None when the call may go (and its tokens are spent), else the whole seconds Slack would ask to wait."""
        if method not in self.methods:
            return None
        now = self.clock()
        if self.workspace is None:
            self.workspace = TokenBucket(self.per_second, self.burst, now)
        waits = [self.workspace.wait(now)]
        bucket = None
        if self.per_channel_per_second:
            bucket = self.channels.get(channel)
            if bucket is None:
                bucket = self.channels[channel] = TokenBucket(self.per_channel_per_second, self.per_channel_burst, now)
            waits.append(bucket.wait(now))
        if max(waits) > 0:
            return max(1, math.ceil(max(waits)))
        self.workspace.spend()
        if bucket is not None:
            bucket.spend()
        return None


@dataclass
class Flaky:
    share: float
    status: int
    retry_after: int | None
    chance: random.Random


class _Server(ThreadingHTTPServer):
    # Slack never refuses a connection; the standard library's backlog of 5 did, under a rush of 200 calls a second.
    request_queue_size = 1024


@dataclass
class FakeSlackState:
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[str, str], Message] = field(default_factory=dict)
    ephemerals: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    # Whose interaction each response answered, by id() of the body in `responses` (tests may clear that list).
    response_to: dict[int, str | None] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    home_views: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    rate_limited: list[Call] = field(default_factory=list)  # calls the rate limiter answered with 429


def _texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["text"]] if isinstance(node.get("text"), str) else []
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                found.extend(_texts(value))
        return found
    if isinstance(node, list):
        return [text for item in node for text in _texts(item)]
    return []


class FakeSlack:
    """Start with `FakeSlack().start()`; point the app at `fake.api_url`.

    As strict as Slack's documentation: the bot is a member of the conversations declared with `add_channel(...,
    is_member=True)` (and of its own DMs with people, `D<user id>`), and of no other; public channels it is not in
    take `chat.postMessage` only with `chat:write.public`, and nothing else that needs membership; private channels,
    DMs and group DMs it is not in are `channel_not_found`. Calls need the scopes manifest.yml grants (`scopes`
    overrides them), a `trigger_id` (minted by `trigger_id()`) works once within 3 s (wall clock) and a
    `response_url` 5 times within 30 minutes (the fake's clock).

    `undeclared_member=True` is the one permissive mode: a `C`/`G`/`D` conversation no test declared behaves as a
    public channel (private for `G`, a DM for `D`) the bot is in. A caller choosing it says why.
    """

    def __init__(self, team_id: str = "T1", team_name: str = "Test Team", *, undeclared_member: bool = False,
                 scopes: frozenset[str] | None = None) -> None:
        self.team_id = team_id
        self.undeclared_member = undeclared_member
        self.scopes = manifest_scopes() if scopes is None else frozenset(scopes)
        self._triggers: dict[str, tuple[float, bool]] = {}  # trigger_id -> (monotonic time minted, exchanged)
        self._response_uses: dict[str, tuple[float, int]] = {}  # token -> (clock time minted, uses)
        self.team_name = team_name
        self.state = FakeSlackState()
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.tokens: dict[str, str] = {}  # token -> team id; any xoxb- token is accepted for `team_id` by default
        self.revoked: dict[str, str] = {}  # token -> the error every call with it answers (see `revoke`)
        self.oauth_grants: dict[str, dict[str, Any]] = {}
        self.refresh_grants: dict[str, dict[str, Any]] = {}  # refresh token -> oauth.v2.access answer (rotation)
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self.latency: dict[str, float] = {}  # method -> seconds each call takes, like a slow Slack
        self._team_trouble: dict[str, tuple[float, int | None]] = {}  # team -> (seconds, HTTP status): team_trouble
        self._flaky: dict[str, Flaky] = {}
        self._rate_limit: RateLimit | None = None
        self._response_targets: dict[str, tuple[str, str] | None] = {}
        self._response_users: dict[str, str | None] = {}
        self._lock = threading.RLock()
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._socket_mode: SocketModeServer | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------------
    clock: Callable[[], float] = staticmethod(time.time)  # type: ignore[assignment]

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                fake._handle(self)

            def do_PUT(self) -> None:
                fake._handle(self)

            def log_message(self, *_args: Any) -> None:
                return

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), name="fake-slack", daemon=True)
        self._thread.start()
        return self

    def socket_mode(self) -> SocketModeServer:
        """The Socket Mode endpoint `apps.connections.open` hands out (started on first use)."""
        with self._lock:
            if self._socket_mode is None:
                self._socket_mode = SocketModeServer()
            return self._socket_mode

    def stop(self) -> None:
        if self._socket_mode is not None:
            self._socket_mode.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    # -- arranging ----------------------------------------------------------------------------------------------
    def add_user(
        self,
        user_id: str,
        name: str | None = None,
        *,
        tz: str = "Europe/Berlin",
        tz_offset: int = 3600,
        deleted: bool = False,
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
    ) -> dict[str, Any]:
        name = name or user_id.lower()
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": name.title(),
            "deleted": deleted,
            "is_admin": is_admin,
            "is_owner": is_owner,
            "is_bot": is_bot,
            "tz": tz,
            "tz_offset": tz_offset,
            "profile": {"display_name": name, "real_name": name.title()},
        }
        self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str, name: str | None = None, *, is_member: bool = True, private: bool = False,
                    kind: str | None = None) -> None:
        """A conversation: `kind` is public, private, im (a DM between people) or mpim (a group DM); by default a
        `D` id is a DM and any other a public channel (private with `private=True`)."""
        kind = kind or ("im" if channel_id.startswith("D") else "private" if private else "public")
        self.channels[channel_id] = {"id": channel_id, "name": name or channel_id.lower(), "is_member": is_member,
                                     "kind": kind}

    def trigger_id(self) -> str:
        """A trigger_id for an interaction sent now: views.open takes it once, within 3 s (wall clock)."""
        trigger = f"{next(self._ids)}.{int(time.time())}.{random.getrandbits(48):012x}"
        with self._lock:
            self._triggers[trigger] = (time.monotonic(), False)
        return trigger

    def revoke(self, token: str, error: str = "token_revoked") -> None:
        """From now on every call with `token` answers `error` (token_revoked, invalid_auth, account_inactive), as when
        an admin removed the app or deactivated its bot user and the app_uninstalled event never arrived."""
        with self._lock:
            self.revoked[token] = error

    def fail(self, method: str, *, status: int = 200, error: str | None = None, retry_after: int | None = None,
             times: int = 1, after_doing: bool = False) -> None:
        """Make the next `times` calls of `method` fail: HTTP `status` (429 with Retry-After, 500) or `ok: false`.

        With `after_doing`, each call takes effect first (the message is posted) and then answers the failure, as
        when Slack's answer is lost on the way back.
        """
        if status == 200 and error is None:
            error = "internal_error"
        with self._lock:
            for _ in range(times):
                self._failures[method].append(Failure(status=status, error=error, retry_after=retry_after,
                                                      after_doing=after_doing))

    def flaky(self, method: str, *, share: float, status: int = 500, retry_after: int | None = None,
              seed: int = 0) -> None:
        """Answer a random `share` of the calls of `method` with HTTP `status` (before doing anything), until
        `flaky(method, share=0)`."""
        with self._lock:
            self._flaky[method] = Flaky(share, status, retry_after, random.Random(seed))

    def team_trouble(self, team_id: str, *, latency: float = 0.0, status: int | None = None) -> None:
        """One workspace's Slack is slow (every call of its token takes `latency` seconds) or failing (answers
        HTTP `status`, e.g. 500), the others' not; `latency=0, status=None` ends it."""
        with self._lock:
            if latency or status:
                self._team_trouble[team_id] = (latency, status)
            else:
                self._team_trouble.pop(team_id, None)

    def _team_troubled(self, request: BaseHTTPRequestHandler, method: str, token: str | None) -> bool:
        latency, status = self._team_trouble.get(self.team_of(token), (0.0, None))
        if latency:
            time.sleep(latency)
        if status is not None and method != "oauth.v2.access":
            self._send_json(request, status, {"ok": False, "error": "internal_error"})
            return True
        return False

    def rate_limit(self, *, per_second: float, burst: int = 1, per_channel_per_second: float | None = 1.0,
                   per_channel_burst: int = 2, methods: tuple[str, ...] = ("chat.postMessage",),
                   clock: Callable[[], float] = time.monotonic) -> None:
        """Enforce Slack-like limits on `methods`: `per_second` for the workspace (bursts of `burst`) and
        `per_channel_per_second` per channel; a call over either is answered 429 with a Retry-After in whole
        seconds and recorded in `state.rate_limited`. `clock` lets a test run on virtual time."""
        with self._lock:
            self._rate_limit = RateLimit(per_second, burst, per_channel_per_second, per_channel_burst, methods, clock)

    def response_url(self, target: tuple[str, str] | None = None, *, user: str | None = None) -> str:
        """A response_url for `user`'s interaction; replace_original/delete_original act on the message at `target`.

        It needs no membership: Slack shows what is sent through it to the person who acted, wherever they were."""
        token = f"r{next(self._ids)}"
        with self._lock:
            self._response_targets[token] = target
            self._response_users[token] = user
            self._response_uses[token] = (self.clock(), 0)
        return f"{self.base_url}/respond/{token}"

    # -- reading what happened ----------------------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.state.calls if method is None or c.method == method]

    def messages(self, channel: str | None = None, *, thread_ts: str | None = None, top_level: bool = False
                 ) -> list[Message]:
        """Messages as they stand now (updates applied, deletions left out), oldest first."""
        with self._lock:
            found = [m for m in self.state.messages.values() if not m.deleted]
        if channel is not None:
            found = [m for m in found if m.channel == channel]
        if thread_ts is not None:
            found = [m for m in found if m.thread_ts == thread_ts]
        if top_level:
            found = [m for m in found if m.thread_ts is None]
        return sorted(found, key=lambda m: float(m.ts))

    def dms(self, user_id: str) -> list[Message]:
        """What the app said to `user_id` in its DM."""
        return self.messages(self.dm_channel(user_id))

    def message(self, channel: str, ts: str) -> Message:
        with self._lock:
            return self.state.messages[(channel, ts)]

    def ephemerals(self, user_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.state.ephemerals if user_id is None or e.get("user") == user_id]

    def responses(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """What the app answered through response_urls (of `user_id`'s interactions only, if given)."""
        with self._lock:
            return [body for body in self.state.responses
                    if user_id is None or self.state.response_to.get(id(body)) == user_id]

    def views(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.state.views.values())

    def last_view(self) -> dict[str, Any]:
        with self._lock:
            return list(self.state.views.values())[-1]

    def home(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self.state.home_views.get(user_id)

    @property
    def violations(self) -> list[str]:
        with self._lock:
            return list(self.state.violations)

    @staticmethod
    def dm_channel(user_id: str) -> str:
        return "D" + user_id

    # -- serving ------------------------------------------------------------------------------------------------
    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        path = urlparse(request.path).path
        if path.startswith("/respond/"):
            self._respond_url(request, path.removeprefix("/respond/"), raw)
            return
        if path.startswith("/upload/"):
            with self._lock:
                self.state.uploads.setdefault(path.removeprefix("/upload/"), {})["content"] = raw
            self._send(request, 200, b"OK", content_type="text/plain")
            return
        if not path.startswith("/api/"):
            self._send(request, 404, b"not found", content_type="text/plain")
            return
        method = path.removeprefix("/api/")
        args = self._args(request, raw)
        token = (request.headers.get("Authorization") or "").removeprefix("Bearer ").strip() or args.get("token")
        with self._lock:
            self.state.calls.append(Call(method, args, token, request.headers.get("X-Cadence-Worker") or ""))
            failure = self._failures[method].popleft() if self._failures[method] else None
            flaky = self._flaky.get(method)
            if failure is None and flaky is not None and flaky.chance.random() < flaky.share:
                failure = Failure(status=flaky.status, retry_after=flaky.retry_after)
            if failure is None and self._rate_limit is not None:
                channel = str(args.get("channel") or "")
                retry_after = self._rate_limit.retry_after(method, self.dm_channel(channel) if channel.startswith(
                    ("U", "W")) else channel)
                if retry_after is not None:
                    self.state.rate_limited.append(self.state.calls[-1])
                    failure = Failure(status=429, retry_after=retry_after)
        if failure is not None and failure.after_doing:
            handler = getattr(self, "_api_" + method.replace(".", "_"), None)
            if handler is not None:
                with self._lock:
                    handler(args, token)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            if failure.status != 200:
                body = {"ok": False, "error": "ratelimited" if failure.status == 429 else "internal_error"}
                self._send_json(request, failure.status, body, headers)
            else:
                self._send_json(request, 200, {"ok": False, "error": failure.error}, headers)
            return
        if self.latency.get(method):
            time.sleep(self.latency[method])
        if self._team_troubled(request, method, token):
            return
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            self._send_json(request, 200, {"ok": False, "error": "unknown_method"})
            return
        if method == "apps.connections.open" or (token or "").startswith("xapp-"):
            # An app-level token opens Socket Mode connections and does nothing else; a bot token cannot open one.
            if method != "apps.connections.open" or not (token or "").startswith("xapp-"):
                self._send_json(request, 200, {"ok": False, "error": "not_allowed_token_type"})
                return
        elif method not in ("oauth.v2.access",) and not self._authorized(token):
            self._send_json(request, 200, {"ok": False, "error": "invalid_auth"})
            return
        if dead := self.revoked.get(token or ""):
            self._send_json(request, 200, {"ok": False, "error": dead})
            return
        needed = METHOD_SCOPES.get(method, ())
        if needed and not self.scopes & set(needed):
            self._send_json(request, 200, {"ok": False, "error": "missing_scope", "needed": ",".join(needed),
                                           "provided": ",".join(sorted(self.scopes))})
            return
        with self._lock:
            result = handler(args, token)
        self._send_json(request, 200, result)

    def _authorized(self, token: str | None) -> bool:
        if not token:
            return False
        return token in self.tokens or token.startswith(("xoxb-", "xoxp-"))

    def team_of(self, token: str | None) -> str:
        return self.tokens.get(token or "", self.team_id)

    @staticmethod
    def _args(request: BaseHTTPRequestHandler, raw: bytes) -> dict[str, Any]:
        content_type = request.headers.get("Content-Type") or ""
        if "application/json" in content_type:
            args = json.loads(raw or b"{}")
        else:
            args = {k: v[0] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
            query = parse_qs(urlparse(request.path).query)
            args.update({k: v[0] for k, v in query.items()})
        for name in JSON_FIELDS:
            if isinstance(args.get(name), str) and args[name][:1] in "[{":
                args[name] = json.loads(args[name])
        return args

    def _send_json(self, request: BaseHTTPRequestHandler, status: int, body: dict[str, Any],
                   headers: dict[str, str] | None = None) -> None:
        self._send(request, status, json.dumps(body).encode(), headers=headers)

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, body: bytes, *, content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        try:
            request.end_headers()
            request.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller gave up waiting (a short time budget): Slack's answer goes nowhere

    def _respond_url(self, request: BaseHTTPRequestHandler, token: str, raw: bytes) -> None:
        body = json.loads(raw or b"{}")
        with self._lock:
            minted, uses = self._response_uses.get(token, (0.0, -1))
            refusal = ("invalid_url" if uses < 0 else "expired_url" if self.clock() - minted > RESPONSE_URL_SECONDS
                       else "used_url" if uses >= RESPONSE_URL_USES else None)
            if refusal is None:
                self._response_uses[token] = (minted, uses + 1)
        if refusal is not None:
            self._send(request, 404, refusal.encode(), content_type="text/plain")
            return
        with self._lock:
            problems = message_problems(body.get("text"), body.get("blocks"))
            self._record_problems("response_url", problems)
            self.state.responses.append(body)
            self.state.response_to[id(body)] = self._response_users.get(token)
            target = self._response_targets.get(token)
            if target is not None and target in self.state.messages:
                message = self.state.messages[target]
                if body.get("delete_original"):
                    message.deleted = True
                elif body.get("replace_original"):
                    message.text = body.get("text", "")
                    message.blocks = body.get("blocks") or []
                    message.edits += 1
        self._send(request, 200, b"ok", content_type="text/plain")

    def _record_problems(self, where: str, problems: list[str]) -> None:
        self.state.violations.extend(f"{where}: {p}" for p in problems)

    def _next_ts(self) -> str:
        # Slack's ts are the posting time in seconds; the harness sets `clock` to the app's frozen clock.
        return f"{int(self.clock()):d}.{next(self._ts):06d}"

    def conversation(self, channel: str) -> dict[str, Any] | None:
        """The conversation `channel` as the bot's token sees it, or None where Slack says channel_not_found."""
        info = self.channels.get(channel)
        if info is not None:
            return info if info["is_member"] or info["kind"] == "public" else None
        if channel.startswith("D") and (channel[1:] in self.users or self.undeclared_member):
            return {"id": channel, "name": channel.lower(), "is_member": True, "kind": "im"}  # the app's own DM
        if self.undeclared_member and channel.startswith(("C", "G")):
            return {"id": channel, "name": channel.lower(), "is_member": True,
                    "kind": "private" if channel.startswith("G") else "public"}
        return None

    def _membership_check(self, channel: str | None, *, public_without_membership: bool = False) -> str | None:
        """Slack's error for a call that needs the bot in `channel` (None: it may go)."""
        info = self.conversation(channel or "")
        if info is None:
            return "channel_not_found"
        if info.get("archived"):
            return "is_archived"
        if info["is_member"] or (info["kind"] == "public" and public_without_membership):
            return None
        return "not_in_channel"

    def _channel_check(self, channel: str | None, *, public_without_membership: bool = False) -> str | None:
        if not channel:
            return "channel_not_found"
        if channel.startswith(("U", "W")):
            user = self.users.get(channel)
            if user is None:
                return "user_not_found" if self.users else None
            if user.get("deleted"):
                return "user_disabled"
            return None
        return self._membership_check(channel, public_without_membership=public_without_membership)

    # -- Web API methods ----------------------------------------------------------------------------------------
    def _api_auth_test(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        team = self.team_of(token)
        return {"ok": True, "url": f"https://{team.lower()}.slack.com/", "team": self.team_name, "user": "cadence",
                "team_id": team, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}

    def _api_chat_postMessage(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = args.get("channel")
        if error := self._channel_check(channel, public_without_membership="chat:write.public" in self.scopes):
            return {"ok": False, "error": error}
        assert channel is not None
        if channel.startswith(("U", "W")):
            channel = self.dm_channel(channel)
        problems = message_problems(args.get("text"), args.get("blocks"))
        if problems:
            self._record_problems(f"chat.postMessage to {channel}", problems)
            return {"ok": False, "error": "invalid_blocks", "errors": problems}
        thread_ts = args.get("thread_ts") or None
        if thread_ts and (channel, thread_ts) not in self.state.messages:
            return {"ok": False, "error": "thread_not_found"}
        ts = self._next_ts()
        message = Message(channel, ts, args.get("text") or "", args.get("blocks") or [], thread_ts,
                          metadata=args.get("metadata"), team=self.team_of(token))
        self.state.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts,
                "message": {"text": message.text, "blocks": message.blocks, "ts": ts, "user": BOT_USER_ID}}

    def _api_chat_update(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        key = (args.get("channel") or "", args.get("ts") or "")
        message = self.state.messages.get(key)
        if message is None or message.deleted:
            return {"ok": False, "error": "message_not_found"}
        problems = message_problems(args.get("text"), args.get("blocks"))
        if problems:
            self._record_problems(f"chat.update of {key}", problems)
            return {"ok": False, "error": "invalid_blocks", "errors": problems}
        if "text" in args:
            message.text = args.get("text") or ""
        if "blocks" in args:
            message.blocks = args.get("blocks") or []
        message.edits += 1
        return {"ok": True, "channel": key[0], "ts": key[1], "text": message.text}

    def _api_chat_delete(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        key = (args.get("channel") or "", args.get("ts") or "")
        message = self.state.messages.get(key)
        if message is None or message.deleted:
            return {"ok": False, "error": "message_not_found"}
        message.deleted = True
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def _api_chat_postEphemeral(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if error := self._membership_check(args.get("channel")):
            return {"ok": False, "error": error}
        if self.users and args.get("user") not in self.users:
            return {"ok": False, "error": "user_not_in_channel"}
        problems = message_problems(args.get("text"), args.get("blocks"))
        if problems:
            self._record_problems("chat.postEphemeral", problems)
            return {"ok": False, "error": "invalid_blocks", "errors": problems}
        self.state.ephemerals.append(args)
        return {"ok": True, "message_ts": self._next_ts()}

    def _api_chat_getPermalink(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel, ts = args.get("channel", ""), args.get("message_ts", "")
        if self.conversation(channel) is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": channel,
                "permalink": f"https://test.slack.com/archives/{channel}/p{ts.replace('.', '')}"}

    def _api_conversations_open(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        users = (args.get("users") or "").split(",")
        if len(users) != 1 or not users[0]:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": self.dm_channel(users[0])}}

    def _history(self, args: dict[str, Any], token: str | None, *, thread_ts: str | None) -> dict[str, Any]:
        channel = args.get("channel") or ""
        if channel.startswith(("U", "W")):
            return {"ok": False, "error": "channel_not_found"}
        if error := self._membership_check(channel):
            return {"ok": False, "error": error}
        kind = (self.conversation(channel) or {}).get("kind", "public")
        if HISTORY_SCOPE[kind] not in self.scopes:
            return {"ok": False, "error": "missing_scope", "needed": HISTORY_SCOPE[kind]}
        oldest = float(args.get("oldest") or 0)
        limit = min(int(args.get("limit") or 100), 1000)
        with_metadata = str(args.get("include_all_metadata")).lower() in ("1", "true")
        team = self.team_of(token)
        found = [m for m in self.state.messages.values()
                 if m.channel == channel and not m.deleted and m.team == team and float(m.ts) >= oldest
                 and (m.ts == thread_ts or m.thread_ts == thread_ts if thread_ts else m.thread_ts is None)]
        found.sort(key=lambda m: float(m.ts), reverse=thread_ts is None)  # history: newest first; replies: oldest
        messages = []
        for m in found[:limit]:
            item: dict[str, Any] = {"type": "message", "ts": m.ts, "text": m.text, "user": BOT_USER_ID}
            if m.thread_ts:
                item["thread_ts"] = m.thread_ts
            if with_metadata and m.metadata:
                item["metadata"] = m.metadata
            messages.append(item)
        return {"ok": True, "messages": messages, "has_more": len(found) > limit}

    def _api_conversations_history(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        return self._history(args, token, thread_ts=None)

    def _api_conversations_replies(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not args.get("ts"):
            return {"ok": False, "error": "thread_not_found"}
        return self._history(args, token, thread_ts=str(args["ts"]))

    def _api_conversations_info(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        info = self.conversation(args.get("channel") or "")
        if info is None:
            return {"ok": False, "error": "channel_not_found"}
        kind = info["kind"]
        return {"ok": True, "channel": {
            "id": info["id"], "name": info["name"], "is_member": info["is_member"],
            "is_channel": kind in ("public", "private"), "is_group": kind == "private", "is_im": kind == "im",
            "is_mpim": kind == "mpim", "is_private": kind != "public", "is_archived": bool(info.get("archived"))}}

    def _api_conversations_join(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = args.get("channel") or ""
        info = self.conversation(channel)
        if info is None:
            return {"ok": False, "error": "channel_not_found"}
        if info["kind"] != "public":
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        if info.get("archived"):
            return {"ok": False, "error": "is_archived"}
        joined = self.channels.setdefault(channel, dict(info))
        already = joined["is_member"]
        joined["is_member"] = True
        answer: dict[str, Any] = {"ok": True, "channel": {"id": channel, "name": joined["name"], "is_member": True}}
        if already:
            answer["warning"] = "already_in_channel"
        return answer

    def _api_users_info(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        user = self.users.get(args.get("user") or "")
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _api_users_list(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        members = list(self.users.values())
        start = int(args.get("cursor") or 0)
        limit = max(1, min(int(args.get("limit") or 200), 1000))
        page = members[start:start + limit]
        cursor = str(start + limit) if start + limit < len(members) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    def _api_usergroups_users_list(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        users = self.usergroups.get(args.get("usergroup") or "")
        if users is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": users}

    def _api_usergroups_list(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        groups = [{"id": gid, "handle": gid.lower(), "name": gid, "user_count": len(users)}
                  for gid, users in self.usergroups.items()]
        return {"ok": True, "usergroups": groups}

    def _open_view(self, view: Any, *, kind: str, view_id: str | None = None) -> dict[str, Any]:
        problems = view_problems(view)
        if problems:
            self._record_problems(kind, problems)
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": problems}}
        view_id = view_id or f"V{next(self._ids):05d}"
        stored = {**view, "id": view_id, "hash": f"h{next(self._ids)}", "team_id": self.team_id}
        self.state.views[view_id] = stored
        return {"ok": True, "view": stored}

    def _exchange_trigger(self, trigger_id: str | None) -> str | None:
        """Slack's error for a trigger_id that cannot open a view now (None: it is exchanged now)."""
        minted = self._triggers.get(trigger_id or "")
        if minted is None:
            return "invalid_trigger_id"
        at, exchanged = minted
        if exchanged:
            return "exchanged_trigger_id"
        if time.monotonic() - at > TRIGGER_SECONDS:
            return "expired_trigger_id"
        self._triggers[trigger_id or ""] = (at, True)
        return None

    def _api_views_open(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if error := self._exchange_trigger(args.get("trigger_id")):
            return {"ok": False, "error": error}
        return self._open_view(args.get("view"), kind="views.open")

    def _api_views_push(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if error := self._exchange_trigger(args.get("trigger_id")):
            return {"ok": False, "error": error}
        return self._open_view(args.get("view"), kind="views.push")

    def _api_views_update(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        view_id = args.get("view_id")
        if view_id and view_id not in self.state.views:
            return {"ok": False, "error": "not_found"}
        return self._open_view(args.get("view"), kind="views.update", view_id=view_id)

    def _api_views_publish(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        view = args.get("view")
        problems = view_problems(view)
        if problems:
            self._record_problems("views.publish", problems)
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": problems}}
        user = args.get("user_id") or ""
        self.state.home_views[user] = view
        return {"ok": True, "view": {**view, "id": f"VH{user}"}}

    def _api_files_getUploadURLExternal(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if len(str(args.get("alt_txt") or "")) > 1000:  # Slack: "longer than the limit of 1000 character"
            return {"ok": False, "error": "alt_txt_too_large"}
        file_id = f"F{next(self._ids):06d}"
        self.state.uploads[file_id] = {"filename": args.get("filename"), "length": int(args.get("length") or 0),
                                       "alt_txt": args.get("alt_txt")}
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _api_files_completeUploadExternal(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        files = args.get("files") or []
        channel = args.get("channel_id") or args.get("channels")
        if channel and (error := self._membership_check(str(channel).split(",")[0])):
            return {"ok": False, "error": error}
        shared = []
        for item in files:
            upload = self.state.uploads.get(item.get("id"))
            if upload is None or "content" not in upload:
                return {"ok": False, "error": "file_not_found"}
            upload.update(title=item.get("title"), channel=args.get("channel_id"), thread_ts=args.get("thread_ts"),
                          initial_comment=args.get("initial_comment"))
            shared.append({"id": item["id"], "title": item.get("title"), "name": upload.get("filename")})
        return {"ok": True, "files": shared}

    def _api_apps_connections_open(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"ok": True, "url": self.socket_mode().url}

    def _api_oauth_v2_access(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if args.get("grant_type") == "refresh_token":
            grant = self.refresh_grants.pop(args.get("refresh_token") or "", None)
            return {"ok": True, **grant} if grant is not None else {"ok": False, "error": "invalid_refresh_token"}
        grant = self.oauth_grants.pop(args.get("code") or "", None)
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        return {"ok": True, **grant}


def text_of(payload: Any) -> str:
    """Every text a person reads in a message, response or view payload, one per line."""
    return "\n".join(_texts(payload))
