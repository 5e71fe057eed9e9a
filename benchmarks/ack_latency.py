"""Acknowledgement latency: slash commands and button clicks from 50 concurrent clients, Cadence against a bare
Bolt app on the same server stack in the same run; then the resident memory of Cadence's serving process.

Two loads. Paced: the 50 clients together send 100 requests a second (the vote storm's rate) at random moments, so
what is measured is how fast a request is answered, bursts included. Back to back: each client sends its next request
the moment it has its answer, which keeps the worker saturated, so what is measured is how much work a request costs
(requests answered a second are reported too). Both run on the default stack (one gthread worker, SQLite); paced runs
again on two workers sharing Postgres (the scale-out setup) when TEST_DATABASE_URL names a server.

    python -m benchmarks.ack_latency
"""

from __future__ import annotations

import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.fakeserver import RemoteFake, fake_slack_process
from benchmarks.servers import ACK_ONLY_ACTION, CLICK_ACTION
from benchmarks.table import Row, ms, render
from benchmarks.vote_storm import fresh_postgres
from bot.devtools.signed import Reply, SlackSender

ROOT = Path(__file__).resolve().parent.parent
SECRET = "benchmark-signing-secret"
CLIENTS = 50
REQUESTS_PER_CLIENT = 20  # back to back
PACED_REQUESTS_PER_CLIENT = 12
PACED_RATE = 100.0  # requests a second from all clients together
WARMUP = 100
ROUNDS = 2

KINDS = (
    ("command", "/cadence help"),
    ("click", "button (ack, then DB read + Web API call)"),
    ("ack-only click", "button (ack only)"),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Stack:
    """Where both apps run: how many gunicorn workers, on which database, under which loads."""

    name: str
    workers: int
    loads: tuple[str, ...]
    database_url: str | None = None  # None: a SQLite file of the run's own


@contextmanager
def server(kind: str, fake: RemoteFake, workdir: Path, stack: Stack) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
           "SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_API_URL": fake.api_url,
           "DATABASE_URL": stack.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}", "LOG_LEVEL": "WARNING",
           "CADENCE_ANONYMITY_SECRET": "benchmark-anonymity-secret"}
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.servers", kind, str(port), str(stack.workers)],
                               cwd=workdir, env=env)
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


def measure(send: Callable[[int], Reply], load: str, seed: int) -> tuple[list[float], float]:
    """Seconds from sending to the whole answer for every request, and the requests answered per second, for CLIENTS
    clients each sending in turn: back to back, or paced at PACED_RATE requests a second from all of them together.

    Paced, each client sends at random moments spread evenly over the run (the same moments for both apps), so the
    requests of all clients arrive as a Poisson stream would, bursts included."""
    for i in range(WARMUP):
        send(i)
    paced = load == "paced"
    count = PACED_REQUESTS_PER_CLIENT if paced else REQUESTS_PER_CLIENT
    window = count * CLIENTS / PACED_RATE
    started = time.perf_counter() + 0.1

    def client(number: int) -> list[float]:
        moments = random.Random(seed * 1000 + number)
        due = sorted(moments.uniform(0, window) for _ in range(count)) if paced else [0.0] * count
        times = []
        for i, moment in enumerate(due):
            time.sleep(max(0.0, started + moment - time.perf_counter()))  # a person's pause between clicks
            sent = time.perf_counter()
            reply = send(number * 1000 + i)
            times.append(time.perf_counter() - sent)
            if reply.status != 200:
                raise RuntimeError(f"answered {reply.status}: {reply.body[:200]!r}")
        return times

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        times = [t for client_times in pool.map(client, range(CLIENTS)) for t in client_times]
    return times, len(times) / (time.perf_counter() - started)


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


def run(stack: Stack, fake: RemoteFake, workdir: Path) -> tuple[list[Row], float]:
    """Every load of `stack`, rounds alternating between the apps; the rows, and Cadence's worker memory after."""
    results: dict[tuple[str, str, str], list[float]] = {}
    rates: dict[tuple[str, str, str], list[float]] = {}
    with server("cadence", fake, workdir, stack) as (cadence_url, cadence), \
            server("bare", fake, workdir, stack) as (bare_url, _bare):
        # Rounds alternate between the two apps so that a busy moment on a shared machine hits both alike.
        for round_number in range(ROUNDS):
            for load in stack.loads:
                for app, url in (("cadence", cadence_url), ("bare", bare_url)):
                    slack = SlackSender(url, SECRET, fake)  # type: ignore[arg-type]
                    sends: dict[str, Callable[[int], Reply]] = {
                        "command": lambda i, s=slack: s.command("/cadence", "help", user=f"U{i % 500}"),
                        "click": lambda i, s=slack: s.block_action(CLICK_ACTION, "v", user=f"U{i % 500}",
                                                                   channel="C1"),
                        "ack-only click": lambda i, s=slack: s.block_action(ACK_ONLY_ACTION, "v",
                                                                            user=f"U{i % 500}", channel="C1"),
                    }
                    for what, send in sends.items():
                        times, rate = measure(send, load, round_number)
                        results.setdefault((app, load, what), []).extend(times)
                        rates.setdefault((app, load, what), []).append(rate)
        time.sleep(1)  # let the work after the last acks finish before reading memory
        memory = max(resident_mb(pid) for pid in worker_pids(cadence.pid))
    rows: list[Row] = []
    for load in stack.loads:
        benchmark = f"ack latency, {CLIENTS} clients, {load}, {stack.name}"
        per_client = PACED_REQUESTS_PER_CLIENT if load == "paced" else REQUESTS_PER_CLIENT
        for what, label in KINDS:
            ours, bare = results[("cadence", load, what)], results[("bare", load, what)]
            for share, target in ((0.5, "<= 1.5x bare"), (0.99, "<= 1.5x bare, << 3 s")):
                c, b = percentile(ours, share), percentile(bare, share)
                rows.append(Row(benchmark, f"{label} p{int(share * 100)} (bare Bolt)",
                                f"{ms(c)} ({ms(b)}) = {c / b:.2f}x", target))
            c_rate = statistics.mean(rates[("cadence", load, what)])
            b_rate = statistics.mean(rates[("bare", load, what)])
            rows.append(Row(benchmark, f"{label} answered per second (bare Bolt)",
                            f"{c_rate:.0f}/s ({b_rate:.0f}/s); {CLIENTS * per_client * ROUNDS} each, all 200", ""))
    return rows, memory


def main() -> list[Row]:
    stacks = [Stack("1 worker, SQLite", 1, ("paced", "back to back"))]
    admin = os.environ.get("TEST_DATABASE_URL")
    rows: list[Row] = []
    with fake_slack_process() as fake, tempfile.TemporaryDirectory() as tmp, ExitStack() as cleanup:
        if admin:
            url = cleanup.enter_context(fresh_postgres(admin.replace("postgresql://", "postgresql+psycopg://", 1)))
            stacks.append(Stack("2 workers, Postgres", 2, ("paced",), url))
        for number, stack in enumerate(stacks):
            stack_rows, memory = run(stack, fake, Path(tmp))
            rows += stack_rows
            if number == 0:
                memory_row = Row("memory", "resident size of the serving worker after the ack runs",
                                 f"{memory:.0f} MB", "< 200 MB")
    return [*rows, memory_row]


if __name__ == "__main__":
    print(render(main()))
