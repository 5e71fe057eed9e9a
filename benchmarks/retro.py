"""Retro numbers: dot votes per second (one voter's budget raced by threads) and rendering a large board.

Run: python -m benchmarks.retro [DATABASE_URL]   (default: a temporary SQLite file)
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from bot.views import retro as views
from ceremonies import retro as domain
from ceremonies.retro import Phase
from storage import migrate
from storage import retro as store
from storage import retro_cases as cases
from storage.db import Database

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
VOTERS = 40
BUDGET = 5
CARDS = 200


def board_with_cards(db: Database) -> tuple[int, list[int]]:
    setup = domain.RetroSetup("Bench", domain.Template.FOUR_LS, domain.TEMPLATE_COLUMNS[domain.Template.FOUR_LS],
                              True, BUDGET, True)
    with db.transaction() as session:
        board = store.create_board(session, team_id="TB", channel_id=f"C{time.time_ns()}", setup=setup,
                                   facilitator_id="U1", now=NOW)
        ids = [
            store.add_card(session, team_id="TB", board_id=board.id, column=i % 4, text=f"Card {i} " + "x" * 300,
                           author_id=None, author_key=f"k{i % 30}", now=NOW).id
            for i in range(CARDS)
        ]
        for phase in (Phase.REVEAL, Phase.GROUP, Phase.VOTE):
            store.advance(session, team_id="TB", board_id=board.id, target=phase, user_id="U1", now=NOW)
        return board.id, ids


def votes(db: Database, board_id: int, card_ids: list[int]) -> None:
    clicks = [(f"U{v}", card_ids[(v * 7 + c) % len(card_ids)], f"{v}-{c}") for v in range(VOTERS)
              for c in range(BUDGET * 2)]
    refused = 0
    lock = threading.Lock()

    def click(args: tuple[str, int, str]) -> None:
        nonlocal refused
        voter, card_id, click_id = args
        try:
            with db.transaction() as session:
                # As a click does: the vote and the board's redraw request (one outbox row) in one transaction.
                cases.vote(session, team_id="TB", board_id=board_id, card_id=card_id, voter_id=voter,
                           click_id=click_id, now=NOW)
        except domain.VoteBudgetExceeded:
            with lock:
                refused += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(click, clicks))
    elapsed = time.perf_counter() - started
    with db.transaction() as session:
        counts = [store.votes_of(session, team_id="TB", board_id=board_id, voter_id=f"U{v}") for v in range(VOTERS)]
    print(f"  {len(clicks)} vote clicks from {VOTERS} voters on 8 threads: {elapsed:.2f}s "
          f"({len(clicks) / elapsed:.0f} clicks/s), {refused} refused over budget, "
          f"max votes held by one voter {max(counts)} (budget {BUDGET})")


def rendering(db: Database, board_id: int) -> None:
    with db.transaction() as session:
        board = store.get_board(session, team_id="TB", board_id=board_id)
        started = time.perf_counter()
        groups = domain.group_cards(store.domain_cards(session, board=board))
        columns = store.board_columns(session, team_id="TB", board_id=board_id)
        loaded = time.perf_counter() - started
    started = time.perf_counter()
    messages = views.card_messages(board_id, columns, groups, vote_buttons=True, anonymous=True, title="Bench")
    rendered = time.perf_counter() - started
    print(f"  {CARDS}-card board: loaded in {loaded * 1000:.1f} ms, rendered into {len(messages)} messages "
          f"(max {max(len(m) for m in messages)} blocks) in {rendered * 1000:.1f} ms")


def main(database_url: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        migrate.upgrade(url)
        db = Database(url)
        try:
            print(f"retro benchmark on {db.dialect}")
            board_id, card_ids = board_with_cards(db)
            votes(db, board_id, card_ids)
            rendering(db, board_id)
        finally:
            db.dispose()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
