"""What the fake trackers (fakejira.py, fakegithub.py) share: a real HTTP server, a call log, failure injection and
signed webhook deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass(frozen=True)
class Call:
    """One request the app made: its method, path, query, JSON body and whether it carried credentials."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorization: str


@dataclass(frozen=True)
class Failure:
    status: int
    message: str
    retry_after: int | None


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] | None = None
    content_type: str = "application/json"


Route = Callable[["Request"], Reply]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


class FakeService:
    """A local HTTP server answering like a tracker's REST API; subclasses route requests in `answer`."""

    name = "fake"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._server: ThreadingHTTPServer | None = None
        self.calls: list[Call] = []
        self.latency: dict[str, float] = {}  # "METHOD /path" prefix -> seconds before answering, as a slow server

    # -- lifecycle ------------------------------------------------------------------------------------------------
    def start(self) -> FakeService:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

            def do_PUT(self) -> None:
                fake._handle(self)

            def do_PATCH(self) -> None:
                fake._handle(self)

            def do_DELETE(self) -> None:
                fake._handle(self)

            def log_message(self, *_args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.02,), name=f"fake-{self.name}",
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- arranging ------------------------------------------------------------------------------------------------
    def fail(self, route: str, *, status: int, message: str = "", retry_after: int | None = None,
             times: int = 1) -> None:
        """Answer the next `times` requests whose "METHOD /path" starts with `route` with `status` (429 and 403
        with Retry-After when given) before doing anything."""
        with self._lock:
            for _ in range(times):
                self._failures[route].append(Failure(status, message, retry_after))

    def calls_to(self, route: str) -> list[Call]:
        """The requests whose "METHOD /path" starts with `route`."""
        with self._lock:
            return [c for c in self.calls if f"{c.method} {c.path}".startswith(route)]

    # -- answering ------------------------------------------------------------------------------------------------
    def answer(self, request: Request) -> Reply:  # pragma: no cover - subclasses answer
        raise NotImplementedError

    def failure_reply(self, failure: Failure) -> Reply:  # pragma: no cover - subclasses shape their errors
        raise NotImplementedError

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        parsed = urlparse(handler.path)
        query = {k: v[0] for k, v in parse_qs(parsed.query, keep_blank_values=True).items()}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._send(handler, Reply(400, {"message": "Problems parsing JSON"}))
            return
        headers = {k.lower(): v for k, v in handler.headers.items()}
        request = Request(handler.command, parsed.path, query, body, headers)
        with self._lock:
            self.calls.append(Call(handler.command, parsed.path, query, body, headers.get("authorization", "")))
            failure = None
            for route, queued in self._failures.items():
                if queued and f"{handler.command} {parsed.path}".startswith(route):
                    failure = queued.popleft()
                    break
            reply = self.failure_reply(failure) if failure is not None else self.answer(request)
            delay = max((s for route, s in self.latency.items()
                         if f"{handler.command} {parsed.path}".startswith(route)), default=0.0)
        if delay:
            time.sleep(delay)
        self._send(handler, reply)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.body is None:
            payload = b""
        elif isinstance(reply.body, bytes | str):
            payload = reply.body.encode() if isinstance(reply.body, str) else reply.body
        else:
            payload = json.dumps(reply.body).encode()
        handler.send_response(reply.status)
        if payload:
            handler.send_header("Content-Type", reply.content_type)
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in (reply.headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC of the body>`: how GitHub (X-Hub-Signature-256) and Jira (X-Hub-Signature) sign."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST a webhook body to `url` as the tracker would; (HTTP status, body)."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def new_delivery_id() -> str:
    return str(uuid.uuid4())
