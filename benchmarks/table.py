"""The one table every benchmark reports into."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One measured number: which benchmark, what was measured, the value with its unit, and the target."""

    benchmark: str
    measure: str
    value: str
    target: str = ""


def render(rows: Iterable[Row]) -> str:
    rows = list(rows)
    header = Row("benchmark", "measure", "value", "target")
    widths = [max(len(getattr(r, f)) for r in [header, *rows]) for f in ("benchmark", "measure", "value", "target")]

    def line(row: Row) -> str:
        cells = (row.benchmark, row.measure, row.value, row.target)
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "| " + " | ".join("-" * w for w in widths) + " |"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
