"""Listeners stay short and the same shape; scheduled jobs live in bot/jobs/, never in a listener module."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.jobs.scheduler import JOB_MODULES, all_jobs
from bot.listeners import MODULES

ROOT = Path(__file__).resolve().parent.parent
LONGEST_LISTENER = 40  # lines: ack, parse, one use case, render, answer


def long_functions(path: Path, limit: int = LONGEST_LISTENER) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path.relative_to(path.parents[2])}:{node.lineno} {node.name} has {node.end_lineno - node.lineno + 1} lines"
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > limit]


def test_no_function_in_a_listener_module_is_longer_than_40_lines() -> None:
    found = [problem for path in sorted((ROOT / "bot" / "listeners").glob("*.py")) for problem in long_functions(path)]
    assert found == []


def test_the_length_check_catches_a_long_function(tmp_path: Path) -> None:
    module = tmp_path / "bot" / "listeners" / "long.py"
    module.parent.mkdir(parents=True)
    module.write_text("def listener():\n" + "    x = 1\n" * 45)
    assert long_functions(module) == ["bot/listeners/long.py:1 listener has 46 lines"]


def test_scheduled_jobs_live_in_bot_jobs_not_in_listener_modules() -> None:
    assert [module.__name__ for module in MODULES if hasattr(module, "JOBS")] == []
    jobs = all_jobs()
    assert jobs, "no scheduled job registered"
    assert {job.__module__ for job in jobs} <= {module.__name__ for module in JOB_MODULES}
    assert all(module.__name__.startswith("bot.jobs.") for module in JOB_MODULES)
