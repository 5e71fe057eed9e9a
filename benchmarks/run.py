"""Every benchmark, one table: `python -m benchmarks.run` (or name some: `python -m benchmarks.run fanout`).

A benchmark is a module with `main()`. When `main()` returns a list of benchmarks.table.Row, they join the table;
otherwise whatever it printed stands above the table. Adding one is one line in BENCHMARKS.
"""

from __future__ import annotations

import importlib
import sys
import time

from benchmarks.table import Row, render

BENCHMARKS: tuple[tuple[str, str], ...] = (
    ("ack_latency", "benchmarks.ack_latency"),  # acknowledgement latency vs bare Bolt, then memory
    ("fanout", "benchmarks.fanout"),
    ("vote_storm", "benchmarks.vote_storm"),
    ("standup_fanout", "benchmarks.standup_fanout"),
    ("summary", "benchmarks.summary"),
    ("healthcheck", "benchmarks.healthcheck"),
    ("retro", "benchmarks.retro"),  # prints its own lines above the table
    ("platform", "benchmarks.platform"),  # prints its own lines above the table
    ("risks", "benchmarks.risks"),
    ("scale_idle", "benchmarks.scale_idle"),  # a tick with nothing due at 100 to 10,000 workspaces
    ("scale_rush", "benchmarks.scale_rush"),  # the 09:00 rush over 1, 2 and 4 processes (Postgres only; ~30 min)
)


def main(names: list[str]) -> None:
    chosen = [(name, module) for name, module in BENCHMARKS if not names or name in names]
    rows: list[Row] = []
    for name, module in chosen:
        print(f"running {name}...", file=sys.stderr, flush=True)
        started = time.monotonic()
        result = importlib.import_module(module).main()
        if isinstance(result, list):
            rows.extend(r for r in result if isinstance(r, Row))
        print(f"  {name} took {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    print(render(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
