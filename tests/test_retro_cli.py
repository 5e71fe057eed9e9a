"""`cadence retro export`: a board written as Markdown or CSV by the real command line, on both databases."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from ceremonies import retro as domain
from ceremonies.retro import Phase
from storage import retro as store
from storage.db import Database

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def cadence_cli(db_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def closed_board(db: Database, *, anonymous: bool) -> int:
    setup = domain.RetroSetup("Sprint 9", domain.Template.START_STOP_CONTINUE, ("Start", "Stop", "Continue"),
                              anonymous, 3, True)
    with db.transaction() as session:
        board = store.create_board(session, team_id="T1", channel_id="CTEAM", setup=setup, facilitator_id="U1",
                                   now=NOW)
        for column, text, user in ((0, "Pairing", "U2"), (1, "Long meetings", "U3")):
            store.add_card(session, team_id="T1", board_id=board.id, column=column, text=text,
                           author_id=None if anonymous else user,
                           author_key=domain.author_key("s" * 16, team_id="T1", board_id=board.id, user_id=user)
                           if anonymous else None, now=NOW)
        for phase in (Phase.REVEAL, Phase.GROUP, Phase.VOTE):
            store.advance(session, team_id="T1", board_id=board.id, target=phase, user_id="U1", now=NOW)
        cards = store.cards(session, team_id="T1", board_id=board.id)
        store.cast_vote(session, team_id="T1", board_id=board.id, card_id=cards[1].id, voter_id="U2", click_id="a",
                        now=NOW)
        store.advance(session, team_id="T1", board_id=board.id, target=Phase.DISCUSS, user_id="U1", now=NOW)
        store.add_action_item(session, team_id="T1", board_id=board.id, created_by="U1", now=NOW,
                              item=domain.NewActionItem("Shorter meetings", "U3", None, cards[1].id))
        return board.id


def test_markdown_to_standard_output(db: Database, db_url: str, tmp_path: Path) -> None:
    board_id = closed_board(db, anonymous=False)
    result = cadence_cli(db_url, tmp_path, "retro", "export", "--team", "CTEAM", "--format", "md")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Sprint 9\n")
    assert "- Long meetings — U3 **(1 vote)**" in result.stdout
    assert "- [ ] Shorter meetings — U3" in result.stdout
    by_number = cadence_cli(db_url, tmp_path, "retro", "export", "--team", "CTEAM", "--board", str(board_id))
    assert by_number.stdout == result.stdout


def test_csv_to_a_file_without_authors_for_an_anonymous_board(db: Database, db_url: str, tmp_path: Path) -> None:
    closed_board(db, anonymous=True)
    out = tmp_path / "board.csv"
    result = cadence_cli(db_url, tmp_path, "retro", "export", "--team", "CTEAM", "--format", "csv", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text().splitlines() == [
        "kind,column,text,votes,group,author,owner,due,status",
        "card,Start,Pairing,0,1,,,,",
        "card,Stop,Long meetings,1,2,,,,",
        "action,,Shorter meetings,,,,U3,,open",
    ]


def test_an_unknown_board_is_one_clear_line(db: Database, db_url: str, tmp_path: Path) -> None:
    result = cadence_cli(db_url, tmp_path, "retro", "export", "--team", "CNONE")
    assert result.returncode == 1
    assert result.stderr.strip() == "cadence: This channel has no retro board yet; start one with `/retro`."
