"""Slack's Socket Mode for the fake Slack: a small WebSocket server (RFC 6455, standard library only) speaking Slack's
envelopes (bot.devtools.signed.SocketModeSender delivers slash commands and interactions through it).

`apps.connections.open` on the fake (with an app-level `xapp-` token) answers this server's URL. On connecting, the
app gets `{"type": "hello", ...}`; then each delivery is an envelope `{"envelope_id", "type": "slash_commands" |
"interactive" | "events_api", "accepts_response_payload", "payload"}` that the app acknowledges by sending
`{"envelope_id": ..., "payload": {...}}` back (the payload is the ack's body, as an HTTP response would be).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import queue
import socket
import struct
import threading
import uuid
from typing import Any

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455's key for Sec-WebSocket-Accept
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA
ACK_SECONDS = 10.0  # how long a delivery waits for the app's acknowledgement (Slack: 3 s, then it retries)


class NotAcknowledged(AssertionError):
    """The app did not acknowledge an envelope in time (Slack would show the person an error)."""


class _Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.send_lock = threading.Lock()
        self.open = True

    def send(self, opcode: int, data: bytes) -> None:
        header = bytes([0x80 | opcode])
        size = len(data)
        if size < 126:
            header += bytes([size])
        elif size < 1 << 16:
            header += bytes([126]) + struct.pack("!H", size)
        else:
            header += bytes([127]) + struct.pack("!Q", size)
        with self.send_lock:
            self.sock.sendall(header + data)  # a server's frames are never masked

    def receive(self) -> tuple[int, bytes]:
        first, second = self._exactly(2)
        opcode, masked, size = first & 0x0F, second & 0x80, second & 0x7F
        if size == 126:
            size = struct.unpack("!H", self._exactly(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", self._exactly(8))[0]
        mask = self._exactly(4) if masked else b""
        data = self._exactly(size)
        if masked:
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        return opcode, data

    def _exactly(self, count: int) -> bytes:
        chunks = b""
        while len(chunks) < count:
            chunk = self.sock.recv(count - len(chunks))
            if not chunk:
                raise ConnectionError("the app closed the socket")
            chunks += chunk
        return chunks


class SocketModeServer:
    """The WebSocket endpoint `apps.connections.open` hands out; one app connection at a time."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._connection: _Connection | None = None
        self._connected = threading.Event()
        self._acks: dict[str, queue.Queue[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.received: list[dict[str, Any]] = []  # every text frame the app sent (acknowledgements)
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, name="fake-socket-mode", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket={uuid.uuid4().hex}&app_id=ACADENCE"

    def wait_connected(self, timeout: float = 30.0) -> None:
        """Block until an app connected and got its `hello` (bounded)."""
        if not self._connected.wait(timeout):
            raise AssertionError("no app connected to the Socket Mode endpoint")

    def deliver(self, kind: str, payload: dict[str, Any], *, timeout: float = ACK_SECONDS) -> dict[str, Any]:
        """Send one envelope of `kind` and return the app's acknowledgement (`{"envelope_id", "payload"?}`)."""
        self.wait_connected()
        envelope_id = str(uuid.uuid4())
        waiting: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=1)
        with self._lock:
            self._acks[envelope_id] = waiting
            connection = self._connection
        assert connection is not None
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind in ("slash_commands", "interactive")}
        connection.send(TEXT, json.dumps(envelope).encode())
        try:
            return waiting.get(timeout=timeout)
        except queue.Empty:
            raise NotAcknowledged(f"no acknowledgement of {kind} envelope {envelope_id}") from None
        finally:
            with self._lock:
                self._acks.pop(envelope_id, None)

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            _close(connection.sock)
        self._listener.close()

    # -- serving ----------------------------------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                sock, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), name="fake-socket-mode-conn", daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(None)
        try:
            if not self._handshake(sock):
                _close(sock)
                return
            connection = _Connection(sock)
            with self._lock:
                self._connection = connection
                self.connections += 1
            connection.send(TEXT, json.dumps({"type": "hello", "num_connections": 1,
                                              "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600},
                                              "connection_info": {"app_id": "ACADENCE"}}).encode())
            self._connected.set()
            self._read(connection)
        except (ConnectionError, OSError):
            pass
        finally:
            _close(sock)

    @staticmethod
    def _handshake(sock: socket.socket) -> bool:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = sock.recv(4096)
            if not chunk:
                return False
            request += chunk
        headers = {}
        for line in request.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        key = headers.get("sec-websocket-key")
        if not key or headers.get("upgrade", "").lower() != "websocket":
            sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return False
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
        return True

    def _read(self, connection: _Connection) -> None:
        while not self._stopped.is_set():
            opcode, data = connection.receive()
            if opcode == PING:
                connection.send(PONG, data)
            elif opcode == CLOSE:
                connection.send(CLOSE, data[:2])
                return
            elif opcode == TEXT:
                message = json.loads(data)
                self.received.append(message)
                with self._lock:
                    waiting = self._acks.get(str(message.get("envelope_id")))
                if waiting is not None:
                    waiting.put(message)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
