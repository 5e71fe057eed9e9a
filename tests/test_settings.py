"""Settings: one clear line naming the variable, exit status 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.server.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def run_cadence(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env},
        capture_output=True, text=True, timeout=60,
    )


def test_serve_without_a_token_names_the_variable_and_exits_2(tmp_path: Path) -> None:
    result = run_cadence(["serve"], {}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "cadence: SLACK_BOT_TOKEN is not set: expected the bot token (xoxb-…) from your Slack app's OAuth page"
    ]
    assert "Traceback" not in result.stderr


def test_serve_without_a_signing_secret_names_it(tmp_path: Path) -> None:
    result = run_cadence(["serve"], {"SLACK_BOT_TOKEN": "xoxb-1"}, tmp_path)
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET is not set" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PORT", "eighty", "PORT is invalid"),
        ("PORT", "70000", "PORT is invalid"),
        ("DEFAULT_TIMEZONE", "Mars/Olympus", "DEFAULT_TIMEZONE is invalid: expected an IANA timezone name"),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL is invalid: expected sqlite:///FILE or postgresql"),
        ("SLACK_API_URL", "ftp://slack", "SLACK_API_URL is invalid: expected an http:// or https:// URL"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL is invalid"),
    ],
)
def test_an_invalid_setting_is_one_line_and_exit_2(tmp_path: Path, variable: str, value: str, expected: str) -> None:
    result = run_cadence(["db", "current"], {variable: value}, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert expected in lines[0]


def test_settings_come_from_a_dotenv_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-from-file\nPORT=4000\nDATABASE_URL=postgresql://u@h/db\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.slack_bot_token == "xoxb-from-file"
    assert settings.port == 4000
    assert settings.database_url == "postgresql+psycopg://u@h/db"


def test_the_api_url_always_ends_with_a_slash() -> None:
    assert load_settings(_env_file=None, slack_api_url="http://127.0.0.1:9/api").slack_api_url == "http://127.0.0.1:9/api/"


def test_require_slack_accepts_socket_mode_without_a_signing_secret() -> None:
    settings = load_settings(_env_file=None, slack_bot_token="xoxb-1", slack_app_token="xapp-1")
    settings.require_slack()
    assert settings.socket_mode
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        load_settings(_env_file=None, slack_bot_token="xoxb-1").require_slack()


def test_cli_help_on_every_command(tmp_path: Path) -> None:
    for args in (["--help"], ["serve", "--help"], ["db", "--help"], ["db", "upgrade", "--help"]):
        result = run_cadence(args, {}, tmp_path)
        assert result.returncode == 0, result.stderr
        assert "usage: cadence" in result.stdout


MULTI = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "client-secret-1234", "SLACK_SIGNING_SECRET": "s" * 20,
         "SLACK_STATE_SECRET": "state-secret-123456", "CADENCE_ENCRYPTION_KEY": "Mc2rUw1XzVwKc9Q8cJ7k0pIuQx3zYhGd1cYb2m3n4o8="}


@pytest.mark.parametrize("missing", ["SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET", "CADENCE_ENCRYPTION_KEY",
                                     "SLACK_SIGNING_SECRET"])
def test_multi_workspace_mode_names_each_missing_setting(missing: str) -> None:
    values = {k.lower(): v for k, v in MULTI.items() if k != missing}
    with pytest.raises(ConfigError, match=f"^{missing} is not set: expected .*many workspaces"):
        load_settings(_env_file=None, **values).require_slack()


def test_multi_workspace_mode_needs_no_bot_token_and_refuses_both() -> None:
    settings = load_settings(_env_file=None, **{k.lower(): v for k, v in MULTI.items()})
    settings.require_slack()
    assert settings.multi_workspace
    assert settings.workspace_retention_days == 30
    with pytest.raises(ConfigError, match=r"^SLACK_BOT_TOKEN is set together with SLACK_CLIENT_ID"):
        load_settings(_env_file=None, slack_bot_token="xoxb-1", **{k.lower(): v for k, v in MULTI.items()}
                      ).require_slack()


def test_serve_in_multi_workspace_mode_without_a_key_is_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in MULTI.items() if k != "CADENCE_ENCRYPTION_KEY"}
    result = run_cadence(["serve"], env, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "cadence: CADENCE_ENCRYPTION_KEY is not set: expected a Fernet key from `cadence keys generate` "
        "(needed to install Cadence in many workspaces)"
    ]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SLACK_STATE_SECRET", "short", "SLACK_STATE_SECRET is invalid"),
        ("CADENCE_ENCRYPTION_KEY", "abc,def", "CADENCE_ENCRYPTION_KEY is invalid: key 1 is not a Fernet key"),
        ("WORKSPACE_RETENTION_DAYS", "-1", "WORKSPACE_RETENTION_DAYS is invalid"),
    ],
)
def test_invalid_platform_settings_are_one_line(tmp_path: Path, variable: str, value: str, expected: str) -> None:
    result = run_cadence(["db", "current"], {variable: value}, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert expected in lines[0]
