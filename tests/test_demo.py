"""`cadence demo` plays a whole sprint through the real app and prints a report with real figures."""

from __future__ import annotations

import re
import struct
from pathlib import Path

from bot.cli import build_parser
from bot.devtools.demo import BACKLOG, run_demo


def figure(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in the report:\n{text}"
    return int(found.group(1))


def test_the_demo_sprint_reports_real_figures_and_draws_the_chart(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run_demo(tmp_path / "out", seed=7, say=lines.append)
    report = result.report

    assert result.violations == []
    assert report.startswith("# Sprint 14\n")
    assert "(in progress)" not in report  # it ended by itself after its last day
    committed = figure(r"\| Committed points \| (\d+) \((\d+) stories\)", report)
    completed = figure(r"\| Completed points \| (\d+) ", report)
    assert figure(r"\| Committed points \| \d+ \((\d+) stories\)", report) == len(BACKLOG)
    assert 0 < completed < committed  # the refund flow is not finished
    assert "+2 added" in report  # the scope change
    assert 50 <= figure(r"Participation: (\d+)%", report) < 100  # some late, some forgot, some skipped
    assert len(re.findall(r"^\| \w{3} \d\d \w{3} \| \d+ \| \d+ \|$", report, flags=re.MULTILINE)) == 10
    assert figure(r"- Opened (\d+), resolved", report) == 3
    assert figure(r"resolved (\d+), still open 0", report) == 3
    assert figure(r"- Escalations: (\d+)", report) >= 1
    assert "median —" not in report
    assert figure(r"- Stories estimated: (\d+)", report) == len(BACKLOG)
    assert figure(r"- Re-votes: (\d+)", report) >= 1
    assert figure(r"- Action items: (\d+) created", report) == 3
    assert "votes)" in report  # the retro's top cards
    assert "## Team health check\n\n5 of 6 answered." in report  # the round before the retro
    assert "| Teamwork |" in report
    assert any("health check: half time, 1 reminder" in line for line in lines)
    assert "- Accepted 4, needs changes 1, undecided 2" in report  # the sprint review on the last day
    assert figure(r"- Follow-ups created for the next sprint: (\d+)", report) == 1
    assert "- Open 1, raised 2, closed 1, occurred 0" in report  # a risk raised, rescored and closed; one stays open
    assert any("rescores risk #1" in line for line in lines)

    assert result.report_path.read_text(encoding="utf-8") == report
    png = result.chart_path.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1000, 600)
    assert any("planning poker" in line for line in lines)
    assert any("written back to Jira's story points: PAY-101 3" in line for line in lines)  # from the fake Jira
    assert any("Sprint 14 ends" in line for line in lines)
    assert result.seconds < 60


def test_the_demo_command_takes_its_options() -> None:
    args = build_parser().parse_args(["demo", "--out", "here", "--seed", "3", "--quiet"])
    assert (args.out, args.seed, args.quiet, args.verbose) == ("here", 3, True, False)
    assert build_parser().parse_args(["demo"]).out is None
