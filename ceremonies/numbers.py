"""Numbers a person types or a button carries, bounded before they become database ids.

Both come from outside (a button's value is whatever the sender put in the payload): a number no row can have is
answered like a missing row, never handed to the database, where Postgres's `integer` and SQLite's 64-bit integers
would refuse it with an error instead of "not found".
"""

from __future__ import annotations

from collections.abc import Callable

from ceremonies.errors import InvalidInput, NotFound

MAX_ID = 2**31 - 1  # the largest id a row can have on either database (Postgres `integer`)
OUT_OF_DATE = "That button is out of date."


def parse_id(raw: str, *, invalid: str, missing: Callable[[str], NotFound]) -> int:
    """`12` or `#12` as an id: `invalid` when it is not a number, `missing(number)` when no row can have it."""
    value = raw.strip().removeprefix("#")
    if not (value.isascii() and value.isdigit()):
        raise InvalidInput(invalid)
    if len(value) > len(str(MAX_ID)) or not 0 < int(value) <= MAX_ID:
        raise missing(value if len(value) <= 20 else value[:20] + "…")
    return int(value)


def button_ids(value: str, count: int | None = None) -> list[int]:
    """The ids a button carries (`12` or `12:34`), each one a row could have; a button of ours always does."""
    parts = (value or "").split(":")
    if count is not None and len(parts) != count:
        raise InvalidInput(OUT_OF_DATE)
    ids = []
    for part in parts:
        if not (part.isascii() and part.isdigit()) or len(part) > len(str(MAX_ID)) or int(part) > MAX_ID:
            raise InvalidInput(OUT_OF_DATE)
        ids.append(int(part))
    return ids
