"""Helpers for multi-workspace tests: an app configured for OAuth, and installing it the way a Slack admin does."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from cryptography.fernet import Fernet

from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import Cadence, FrozenClock, start_cadence

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "client-secret-7f3a9c1e5b"
STATE_SECRET = "state-secret-0123456789abcdef"
ENCRYPTION_KEY = Fernet.generate_key().decode()


def oauth_settings(**extra: Any) -> dict[str, Any]:
    return {
        "slack_bot_token": None,
        "slack_client_id": CLIENT_ID,
        "slack_client_secret": CLIENT_SECRET,
        "slack_state_secret": STATE_SECRET,
        "cadence_encryption_key": ENCRYPTION_KEY,
        **extra,
    }


def start_multi(fake: FakeSlack, db_url: str, clock: FrozenClock, **extra: Any) -> Cadence:
    return start_cadence(fake, db_url, clock, **oauth_settings(**extra))


@dataclass
class Page:
    status: int
    body: str
    headers: dict[str, str]


def get(url: str, headers: dict[str, str] | None = None) -> Page:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Page(response.status, response.read().decode(), {k.lower(): v for k, v in response.headers.items()})
    except urllib.error.HTTPError as error:
        return Page(error.code, error.read().decode(), {k.lower(): v for k, v in error.headers.items()})


def start_install(cadence: Cadence) -> tuple[Page, str]:
    """Open the install page; the page and the state Bolt issued (as in its cookie)."""
    page = get(cadence.url + "/slack/install")
    match = re.search(r"slack-app-oauth-state=([^;]+)", page.headers.get("set-cookie", ""))
    assert match, f"no state cookie: {page.headers}"
    return page, match.group(1)


def grant(team_id: str, token: str, *, team_name: str = "", refresh_token: str | None = None,
          expires_in: int | None = None, installer: str = "UADMIN") -> dict[str, Any]:
    """What oauth.v2.access answers for an installation of the bot in `team_id`."""
    answer: dict[str, Any] = {
        "access_token": token,
        "token_type": "bot",
        "scope": "commands,chat:write",
        "bot_user_id": "UCADENCE",
        "app_id": "ACADENCE",
        "team": {"id": team_id, "name": team_name or f"Team {team_id}"},
        "enterprise": None,
        "is_enterprise_install": False,
        "authed_user": {"id": installer},
    }
    if refresh_token is not None:
        answer.update(refresh_token=refresh_token, expires_in=expires_in or 43200)
    return answer


def install(cadence: Cadence, team_id: str, token: str, **grant_options: Any) -> Page:
    """Install the app in `team_id` through /slack/install and /slack/oauth_redirect, as an admin's browser does."""
    _page, state = start_install(cadence)
    code = f"code-{team_id}-{token[-6:]}"
    cadence.fake.oauth_grants[code] = grant(team_id, token, **grant_options)
    cadence.fake.tokens[token] = team_id
    query = urlencode({"code": code, "state": state})
    return get(f"{cadence.url}/slack/oauth_redirect?{query}", {"Cookie": f"slack-app-oauth-state={state}"})
