"""The house rules as code: the import-linter contracts in pyproject.toml hold, and they catch what they forbid."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run `lint-imports` in `root`, with `root`'s packages (and nothing else of ours) importable."""
    environment = {**os.environ, "PYTHONPATH": str(root), "NO_COLOR": "1"}
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
    )


def test_the_import_contracts_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_catch_a_violation_of_each_rule(tmp_path: Path) -> None:
    for name in ("bot", "storage", "ceremonies", "tests"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "test_*.py"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "storage" / "slacky.py").write_text("from slack_sdk import WebClient\n")
    (tmp_path / "ceremonies" / "upward.py").write_text("from storage import db\n")
    (tmp_path / "ceremonies" / "rows.py").write_text("import sqlalchemy\n")
    (tmp_path / "ceremonies" / "chicken.py").write_text("from ceremonies import egg\n")
    (tmp_path / "ceremonies" / "egg.py").write_text(
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from ceremonies import chicken\n"
    )

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Contracts: 0 kept, 4 broken." in result.stdout
    assert "storage.slacky -> slack_sdk" in result.stdout
    assert "ceremonies.upward -> storage" in result.stdout
    assert "ceremonies.rows -> sqlalchemy" in result.stdout
    assert "These modules import each other: ceremonies.chicken, ceremonies.egg" in result.stdout
