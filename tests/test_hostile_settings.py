"""The anonymity secret: named for what it does, its former name still read, and never the public default when
serving."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.server.settings import DEVELOPMENT_ANONYMITY_SECRET, ConfigError, load_settings
from tests.test_settings import run_cadence

SERVE_ENV = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "signing-secret-1"}


def test_serve_with_the_public_anonymity_secret_names_the_variable_and_exits_2(tmp_path: Path) -> None:
    for env in (SERVE_ENV, {**SERVE_ENV, "CADENCE_ANONYMITY_SECRET": DEVELOPMENT_ANONYMITY_SECRET}):
        result = run_cadence(["serve"], env, tmp_path)
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1
        assert lines[0].startswith("cadence: CADENCE_ANONYMITY_SECRET is not set")
        assert "Traceback" not in result.stderr


def test_both_names_are_read_and_the_new_one_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETRO_ANONYMITY_SECRET", "the-former-name-value")
    assert load_settings(_env_file=None).cadence_anonymity_secret == "the-former-name-value"
    assert load_settings(_env_file=None).retro_anonymity_secret == "the-former-name-value"
    monkeypatch.setenv("CADENCE_ANONYMITY_SECRET", "the-new-name-value-1")
    assert load_settings(_env_file=None).cadence_anonymity_secret == "the-new-name-value-1"
    load_settings(_env_file=None, **{k.lower(): v for k, v in SERVE_ENV.items()}).require_serving()


def test_a_short_secret_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CADENCE_ANONYMITY_SECRET", "short")
    with pytest.raises(ConfigError, match="CADENCE_ANONYMITY_SECRET is invalid"):
        load_settings(_env_file=None)
