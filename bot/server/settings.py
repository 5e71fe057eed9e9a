"""The one settings object of Cadence, read from the environment and an optional `.env` file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SLACK_API_DEFAULT = "https://slack.com/api/"
# Public (it is in this file): anyone could recompute an anonymous author's or voter's key from the few user ids of a
# workspace. Fine for tests and the demo; `cadence serve` refuses it.
DEVELOPMENT_ANONYMITY_SECRET = "cadence-anonymity-development-secret"


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the variable and what is expected."""


class Settings(BaseSettings):
    """Every setting Cadence reads. Nothing else in the code reads `os.environ`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False)

    slack_bot_token: str | None = Field(default=None, description="the bot token, xoxb-…")
    slack_signing_secret: str | None = Field(default=None, description="the app's signing secret")
    slack_app_token: str | None = Field(default=None, description="an app-level token, xapp-…, for Socket Mode")
    slack_api_url: str = Field(default=SLACK_API_DEFAULT, description="the Web API base URL")
    database_url: str = Field(default="sqlite:///cadence.sqlite3", description="an SQLAlchemy database URL")
    port: int = Field(default=3000, ge=1, le=65535, description="a TCP port from 1 to 65535")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    default_timezone: str = Field(default="UTC", description="an IANA timezone name such as Europe/Berlin")
    web_concurrency: int = Field(default=1, ge=1, le=64, description="the number of server worker processes")
    slack_client_id: str | None = Field(default=None, description="the app's client id, for multi-workspace installs")
    slack_client_secret: str | None = Field(default=None, description="the app's client secret")
    slack_state_secret: str | None = Field(
        default=None, min_length=16, description="a secret of at least 16 characters signing the OAuth state"
    )
    cadence_encryption_key: str | None = Field(
        default=None,
        description="one or more Fernet keys, comma-separated, newest first (make one with `cadence keys generate`)",
    )
    workspace_retention_days: int = Field(
        default=30, ge=0, le=3650, description="days an uninstalled workspace's data is kept, from 0 to 3650"
    )
    prometheus_multiproc_dir: str | None = Field(
        default=None,
        description="an existing, empty directory where every worker process writes its metrics (several workers)",
    )
    scheduler_tick_seconds: float = Field(
        default=20.0, gt=0, le=3600, description="seconds between the scheduler's ticks, more than 0 and at most 3600"
    )
    slack_fanout_per_second: float = Field(
        default=4.0, gt=0, le=100,
        description="messages a second the app sends a workspace in a fan-out (stand-up prompts), more than 0 up to 100",
    )
    slack_channel_interval_seconds: float = Field(
        default=1.0, ge=0, le=60,
        description="seconds between two new messages in one channel (Slack allows about one a second), 0 to 60",
    )
    cadence_anonymity_secret: str = Field(
        default=DEVELOPMENT_ANONYMITY_SECRET,
        min_length=16,
        # RETRO_ANONYMITY_SECRET is its former name, still read; the new name wins when both are set.
        validation_alias=AliasChoices("cadence_anonymity_secret", "retro_anonymity_secret"),
        description="a secret of at least 16 characters keying the hashes of anonymous retro authors and poll voters",
    )

    github_api_url: str = Field(
        default="https://api.github.com",
        description="GitHub's REST API base URL (https://HOST/api/v3 for GitHub Enterprise Server)",
    )
    cadence_public_url: str | None = Field(
        default=None, description="Cadence's public https:// address, shown in the trackers' webhook URLs",
    )
    tracker_sync_minutes: float = Field(
        default=5.0, gt=0, le=1440,
        description="minutes between two syncs of a sprint or action item with Jira or GitHub, more than 0 up to 1440",
    )

    @property
    def retro_anonymity_secret(self) -> str:
        """The former name of `cadence_anonymity_secret`."""
        return self.cadence_anonymity_secret

    @field_validator("github_api_url")
    @classmethod
    def _github_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("cadence_public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("cadence_encryption_key")
    @classmethod
    def _fernet_keys(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from bot.slack.crypto import parse_keys

        parse_keys(value)
        return value

    @field_validator("prometheus_multiproc_dir")
    @classmethod
    def _existing_directory(cls, value: str | None) -> str | None:
        if value and not Path(value).is_dir():
            raise ValueError("no such directory")
        return value or None

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("expected an IANA timezone name such as Europe/Berlin") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if value.startswith("postgres://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgres://")
        elif value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if not value.startswith(("sqlite:", "postgresql+psycopg:")):
            raise ValueError("expected sqlite:///FILE or postgresql+psycopg://USER@HOST/DB")
        return value

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    @property
    def multi_workspace(self) -> bool:
        """True when any workspace may install Cadence through OAuth (SLACK_CLIENT_ID/SECRET set)."""
        return bool(self.slack_client_id or self.slack_client_secret)

    def require_slack(self) -> None:
        """Refuse to serve without the tokens Slack requests need."""
        if self.multi_workspace:
            self._require_oauth()
            return
        if not self.slack_bot_token:
            raise ConfigError("SLACK_BOT_TOKEN is not set: expected the bot token (xoxb-…) from your Slack app's OAuth page")
        if self.socket_mode:
            return
        if not self.slack_signing_secret:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set: expected the signing secret from your Slack app's Basic Information page"
            )

    def require_serving(self) -> None:
        """Refuse to serve without the tokens Slack requests need, or with a public secret."""
        self.require_slack()
        if self.cadence_anonymity_secret == DEVELOPMENT_ANONYMITY_SECRET:
            raise ConfigError(
                "CADENCE_ANONYMITY_SECRET is not set (or still the public development value): expected a random secret "
                "of at least 16 characters, e.g. from `openssl rand -hex 32`, that keys anonymous authors and voters"
            )

    def _require_oauth(self) -> None:
        needed = [
            ("SLACK_CLIENT_ID", self.slack_client_id, "the client id from your Slack app's Basic Information page"),
            ("SLACK_CLIENT_SECRET", self.slack_client_secret, "the client secret from the same page"),
            ("SLACK_STATE_SECRET", self.slack_state_secret, "a random secret of at least 16 characters"),
            ("CADENCE_ENCRYPTION_KEY", self.cadence_encryption_key, "a Fernet key from `cadence keys generate`"),
            ("SLACK_SIGNING_SECRET", self.slack_signing_secret, "the signing secret from Basic Information"),
        ]
        for name, value, expected in needed:
            if not value:
                raise ConfigError(f"{name} is not set: expected {expected} (needed to install Cadence in many workspaces)")
        if self.slack_bot_token:
            raise ConfigError(
                "SLACK_BOT_TOKEN is set together with SLACK_CLIENT_ID: set SLACK_BOT_TOKEN for one workspace, "
                "or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to let many install Cadence, not both"
            )
        if self.socket_mode:
            raise ConfigError(
                "SLACK_APP_TOKEN is set together with SLACK_CLIENT_ID: installing in many workspaces needs the HTTP "
                "OAuth pages; unset SLACK_APP_TOKEN"
            )


# Former names of settings, still read.
_ALIASES = {"retro_anonymity_secret": "cadence_anonymity_secret"}


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a validation failure into one ConfigError naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper() if error["loc"] else "setting"
        field = Settings.model_fields.get(name.lower()) or Settings.model_fields.get(_ALIASES.get(name.lower(), ""))
        expected = field.description if field and field.description else error["msg"]
        raise ConfigError(f"{name} is invalid: {error['msg'].removeprefix('Value error, ')} ({expected})") from None


def exit_on_config_error(error: ConfigError) -> NoReturn:
    """End the program with one line naming the variable, exit status 2, no traceback."""
    print(f"cadence: {error}", file=sys.stderr)
    raise SystemExit(2)
