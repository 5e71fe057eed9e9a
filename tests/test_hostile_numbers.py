"""Numbers from people and from buttons are bounded before they become ids: a number no row can have is answered
like a missing row ("no blocker #…", "out of date"), never with "Something went wrong", on both databases."""

from __future__ import annotations

import pytest

from bot.devtools.harness import Cadence
from ceremonies.errors import InvalidInput, NotFound
from ceremonies.numbers import MAX_ID, button_ids, parse_id
from tests.test_standup_flow import team

HUGE = ("2147483648", "99999999999999999999", "9" * 400)


def replies(cadence: Cadence) -> str:
    cadence.settle()
    texts = [r.get("text", "") for r in cadence.fake.responses()]
    texts += [e.get("text", "") for e in cadence.fake.ephemerals()]
    return "\n".join(texts)


@pytest.mark.parametrize("number", HUGE)
def test_resolving_a_blocker_number_no_row_can_have_says_there_is_none(cadence: Cadence, number: str) -> None:
    team(cadence)
    reply = cadence.command("/blocker", f"resolve {number}", user="U1", channel="C1")
    assert reply.status == 200
    said = reply.text + replies(cadence)
    assert f"There is no blocker #{number[:20]}" in said, said
    assert "Something went wrong" not in said


@pytest.mark.parametrize("number", HUGE)
def test_exporting_a_board_number_no_row_can_have_says_there_is_none(cadence: Cadence, number: str) -> None:
    team(cadence)
    reply = cadence.command("/retro", f"export {number}", user="U1", channel="C1")
    assert reply.status == 200
    said = reply.text + replies(cadence)
    assert f"There is no retro board #{number[:20]}" in said, said
    assert "Something went wrong" not in said


@pytest.mark.parametrize(("action_id", "value"), [
    ("poll.vote.0", "2147483648:1"),
    ("poll.clear", "99999999999999999999"),
    ("poll.close", "2147483648"),
    ("poker.vote.5", "2147483648:1:5"),
    ("poker.reveal", "1:99999999999999999999"),
    ("retro.add_card", "2147483648"),
    ("retro.vote", "1:2147483648"),
    ("blocker.resolve", "2147483648"),
    ("blocker.help", "99999999999999999999"),
    ("standup.delete_confirm", "2147483648"),
])
def test_a_button_carrying_a_number_no_row_can_have_is_out_of_date(cadence: Cadence, action_id: str,
                                                                      value: str) -> None:
    team(cadence)
    reply = cadence.slack.block_action(action_id, value, user="U1", channel="C1", message_ts="1796108400.000001")
    assert reply.status == 200
    said = replies(cadence)
    assert "Something went wrong" not in said, said
    assert "out of date" in said or "There is no" in said or "no longer exists" in said, (action_id, said)


def test_parse_id_bounds() -> None:
    assert parse_id("#12", invalid="no", missing=NotFound) == 12
    assert parse_id(str(MAX_ID), invalid="no", missing=NotFound) == MAX_ID
    for raw in (str(MAX_ID + 1), "0", "0" * 30 + "1" * 30):
        with pytest.raises(NotFound):
            parse_id(raw, invalid="no", missing=NotFound)
    for raw in ("", "12a", "-1", "١٢", "1.5"):
        with pytest.raises(InvalidInput):
            parse_id(raw, invalid="no", missing=NotFound)
    assert button_ids("12:34", 2) == [12, 34]
    for raw in ("12", "12:x", f"1:{MAX_ID + 1}", "1:-2", ""):
        with pytest.raises(InvalidInput):
            button_ids(raw, 2)
