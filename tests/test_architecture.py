"""The architecture's hard line: only bot/ knows Slack or the web."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("slack_bolt", "slack_sdk", "bot", "flask", "fastapi", "starlette", "gunicorn", "werkzeug", "django")


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def forbidden_imports(layer: str) -> list[str]:
    found = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        for name in imported_modules(path):
            if name.split(".")[0] in FORBIDDEN:
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


@pytest.mark.parametrize("layer", ["ceremonies", "storage"])
def test_domain_and_storage_never_import_slack_or_bot(layer: str) -> None:
    assert forbidden_imports(layer) == []


def test_the_rule_catches_a_violation(tmp_path: Path) -> None:
    offender = tmp_path / "offender.py"
    offender.write_text("from slack_sdk import WebClient\nimport bot.server.app\nfrom storage import db\n")
    assert imported_modules(offender) == ["slack_sdk", "bot.server.app", "storage"]
    assert [n for n in imported_modules(offender) if n.split(".")[0] in FORBIDDEN] == ["slack_sdk", "bot.server.app"]


def test_ceremonies_never_import_storage() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "ceremonies").rglob("*.py"))
        for name in imported_modules(path)
        if name.split(".")[0] in ("storage", "sqlalchemy")
    ]
    assert offenders == []
