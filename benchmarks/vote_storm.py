"""100 planning poker votes within one second, over HTTP against the real app and the fake Slack.

Prints: whether every vote was counted, how long until the story's message showed the final count, and how many
`chat.update` calls the storm cost (each vote queues an outbox redraw; a burst coalesces into a few).

    /work/venv/bin/python -m benchmarks.vote_storm [--votes 100] [--seconds 1] [--update-latency 0.05]
                                                    [--postgres postgresql+psycopg://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from benchmarks.table import Row, render
from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import FrozenClock, start_cadence
from storage import migrate
from storage import poker as store


def card_button(message, card: str) -> tuple[dict, str]:  # type: ignore[no-untyped-def]
    for block in message.blocks:
        for element in block.get("elements", []):
            if element.get("action_id", "").startswith("poker.vote.") and element["text"]["text"] == card:
                return element, block.get("block_id", "b")
    raise SystemExit(f"no card {card} on the story message")


def main() -> list[Row]:
    """The storm with its defaults on SQLite and, when TEST_DATABASE_URL names a server, on Postgres too."""
    args = argparse.Namespace(votes=100, seconds=1.0, update_latency=0.05)
    rows = run(args, f"sqlite:///{Path(tempfile.mkdtemp()) / 'vote-storm.sqlite3'}")
    admin = os.environ.get("TEST_DATABASE_URL")
    if admin:
        with fresh_postgres(admin.replace("postgresql://", "postgresql+psycopg://", 1)) as url:
            rows += run(args, url)
    return rows


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=1.0, help="the votes are spread evenly over this time")
    parser.add_argument("--update-latency", type=float, default=0.05, help="seconds each fake chat.update takes")
    parser.add_argument("--postgres", default=None, metavar="ADMIN_URL",
                        help="run on a fresh Postgres database made (and dropped) through this server; default SQLite")
    args = parser.parse_args()
    if args.postgres:
        with fresh_postgres(args.postgres) as url:
            print(render(run(args, url)))
    else:
        print(render(run(args, f"sqlite:///{Path(tempfile.mkdtemp()) / 'vote-storm.sqlite3'}")))


@contextmanager
def fresh_postgres(admin_url: str) -> Iterator[str]:
    """A database of its own on the server, dropped afterwards, so that no shared database is touched."""
    name = f"cadence_bench_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(args: argparse.Namespace, url: str) -> list[Row]:
    migrate.upgrade(url)
    fake = FakeSlack().start()
    cadence = start_cadence(fake, url, FrozenClock(datetime.now(UTC)))
    try:
        cadence.command("/poker", "BENCH-1 The storm", user="UFACILITATOR")
        parent = fake.messages("C1", top_level=True)[-1]
        story = fake.messages("C1", thread_ts=parent.ts)[0]
        with cadence.db.transaction() as session:
            story_id = session.scalar(select(func.max(store.PokerStory.id)))
        fake.latency["chat.update"] = args.update_latency
        # Redraws go through the outbox: its delivery loop runs as in production, woken by each vote's commit.
        cadence.scheduler.outbox.start()
        updates_before = len(fake.calls("chat.update"))
        cards = ["1", "2", "3", "5", "8", "13"]
        buttons = [card_button(story, card) for card in cards]
        expected = f"*Votes ({args.votes})*"

        def click(i: int, start: float) -> None:
            element, block_id = buttons[i % len(buttons)]
            delay = start + args.seconds * i / args.votes - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            cadence.slack.block_action(element["action_id"], element["value"], user=f"UB{i:04d}", channel="C1",
                                       message_ts=story.ts, block_id=block_id)

        start = time.perf_counter() + 0.2
        threads = [threading.Thread(target=click, args=(i, start)) for i in range(args.votes)]
        for thread in threads:
            thread.start()
        shown_at = None
        while shown_at is None and time.perf_counter() - start < 120:
            if expected in fake.message("C1", story.ts).all_text:
                shown_at = time.perf_counter()
            else:
                time.sleep(0.002)
        for thread in threads:
            thread.join()
        cadence.scheduler.outbox.stop()
        cadence.settle()
        last_click = start + args.seconds * (args.votes - 1) / args.votes
        with cadence.db.transaction() as session:
            stored = session.scalar(
                select(func.count()).select_from(store.PokerVote).where(store.PokerVote.story_id == story_id)
            )
        updates = len(fake.calls("chat.update")) - updates_before
        name = f"vote storm, {'Postgres' if url.startswith('postgresql') else 'SQLite'}"
        shown = "never" if shown_at is None else (f"{shown_at - start:.3f} s from the first click, "
                                                   f"{max(shown_at - last_click, 0):.3f} s after the last")
        return [
            Row(name, f"votes stored / sent within {args.seconds:.1f} s", f"{stored} / {args.votes}", "all"),
            Row(name, "the message shows the final count", shown, "soon after the last vote"),
            Row(name, f"chat.update calls (fake latency {args.update_latency * 1000:.0f} ms each)", str(updates),
                "coalesced"),
        ]
    finally:
        cadence.stop()
        fake.stop()


if __name__ == "__main__":
    cli()
