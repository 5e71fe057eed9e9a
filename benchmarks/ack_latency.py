"""Acknowledgement latency: slash commands and button clicks from 50 concurrent clients, Cadence against a bare
Bolt app on the same server stack in the same run; then the resident memory of Cadence's serving process.

    python -m benchmarks.ack_latency
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from benchmarks.fakeserver import RemoteFake, fake_slack_process
from benchmarks.servers import ACK_ONLY_ACTION, CLICK_ACTION
from benchmarks.table import Row, ms, render
from bot.devtools.signed import Reply, SlackSender

ROOT = Path(__file__).resolve().parent.parent
SECRET = "benchmark-signing-secret"
CLIENTS = 50
REQUESTS_PER_CLIENT = 20
WARMUP = 100
ROUNDS = 3
KINDS = (
    ("command", "/cadence help"),
    ("click", "button (ack, then DB read + Web API call)"),
    ("ack-only click", "button (ack only)"),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server(kind: str, fake: RemoteFake, workdir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
           "SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_API_URL": fake.api_url,
           "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}", "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.servers", kind, str(port)], cwd=workdir, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the {kind} server did not start") from None
                time.sleep(0.1)  # waiting for the server to listen
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(timeout=30)


def measure(send: Callable[[int], Reply]) -> list[float]:
    """Seconds from sending to the whole answer, for CLIENTS clients each sending REQUESTS_PER_CLIENT in turn."""
    for i in range(WARMUP):
        send(i)

    def client(number: int) -> list[float]:
        times = []
        for i in range(REQUESTS_PER_CLIENT):
            started = time.perf_counter()
            reply = send(number * 1000 + i)
            times.append(time.perf_counter() - started)
            if reply.status != 200:
                raise RuntimeError(f"answered {reply.status}: {reply.body[:200]!r}")
        return times

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return [t for times in pool.map(client, range(CLIENTS)) for t in times]


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1]


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def main() -> list[Row]:
    rows: list[Row] = []
    results: dict[tuple[str, str], list[float]] = {(k, w): [] for k in ("cadence", "bare") for w, _ in KINDS}
    memory = 0.0
    with fake_slack_process() as fake, tempfile.TemporaryDirectory() as tmp, \
            server("cadence", fake, Path(tmp)) as (cadence_url, cadence), \
            server("bare", fake, Path(tmp)) as (bare_url, _bare):
        # Rounds alternate between the two apps so that a busy moment on a shared machine hits both alike.
        for _round in range(ROUNDS):
            for kind, url in (("cadence", cadence_url), ("bare", bare_url)):
                slack = SlackSender(url, SECRET, fake)  # type: ignore[arg-type]
                results[(kind, "command")] += measure(
                    lambda i, s=slack: s.command("/cadence", "help", user=f"U{i % 500}"))
                results[(kind, "click")] += measure(
                    lambda i, s=slack: s.block_action(CLICK_ACTION, "v", user=f"U{i % 500}", channel="C1"))
                results[(kind, "ack-only click")] += measure(
                    lambda i, s=slack: s.block_action(ACK_ONLY_ACTION, "v", user=f"U{i % 500}", channel="C1"))
        time.sleep(1)  # let the work after the last acks finish before reading memory
        memory = max(resident_mb(pid) for pid in worker_pids(cadence.pid))
    requests = CLIENTS * REQUESTS_PER_CLIENT * ROUNDS
    for what, label in KINDS:
        cadence, bare = results[("cadence", what)], results[("bare", what)]
        c50, c99, b50, b99 = (percentile(cadence, 0.5), percentile(cadence, 0.99),
                              percentile(bare, 0.5), percentile(bare, 0.99))
        benchmark = f"ack latency, {CLIENTS} clients"
        rows.append(Row(benchmark, f"{label} p50 (bare Bolt)", f"{ms(c50)} ({ms(b50)}) = {c50 / b50:.2f}x",
                        "<= 1.5x bare"))
        rows.append(Row(benchmark, f"{label} p99 (bare Bolt)", f"{ms(c99)} ({ms(b99)}) = {c99 / b99:.2f}x",
                        "<= 1.5x bare, << 3 s"))
        rows.append(Row(benchmark, f"{label} requests", f"{requests} each, all 200", ""))
    rows.append(Row("memory", "resident size of the serving worker after the ack runs", f"{memory:.0f} MB",
                    "< 200 MB"))
    return rows


if __name__ == "__main__":
    print(render(main()))
