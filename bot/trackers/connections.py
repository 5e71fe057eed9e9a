"""A workspace's tracker connection as a working client: credentials encrypted with CADENCE_ENCRYPTION_KEY (like
bot tokens) on the way in, decrypted only to make a call, and added to the log redaction before any call."""

from __future__ import annotations

import json
import secrets

from bot.server import redact
from bot.server.settings import Settings
from bot.slack.crypto import TokenCipher
from bot.trackers.base import Tracker, TrackerError
from bot.trackers.github import GitHubTracker
from bot.trackers.jira import JiraTracker
from ceremonies import trackers as domain
from storage.trackers import TrackerConnection

# The connect modal's check: answered in the acknowledgement when it takes under 2 s, otherwise the modal says
# "checking…" and shows the answer when it comes (bot/listeners/trackers.py); a tracker silent this long is refused.
CHECK_TIMEOUT_SECONDS = 10.0
# Calls made by the jobs (writes, syncs) and after an ack (imports): nobody's 3 s depends on them.
CALL_TIMEOUT_SECONDS = 10.0


class NoEncryptionKey(Exception):
    """Tracker credentials are only ever stored encrypted: without CADENCE_ENCRYPTION_KEY nothing is connected."""


def cipher(settings: Settings) -> TokenCipher:
    if not settings.cadence_encryption_key:
        raise NoEncryptionKey("An admin must set CADENCE_ENCRYPTION_KEY (see `cadence keys generate`) before a "
                              "tracker can be connected: its token is stored only encrypted.")
    return TokenCipher.from_setting(settings.cadence_encryption_key)


def tracker_for(settings: Settings, kind: domain.Kind, *, site_url: str, credentials: domain.Credentials,
                timeout: float) -> Tracker:
    """A client for the tracker (Jira at its site, GitHub at GITHUB_API_URL)."""
    if kind is domain.Kind.JIRA:
        return JiraTracker(site_url, credentials, timeout=timeout)
    return GitHubTracker(settings.github_api_url, credentials, timeout=timeout)


def encrypt_credentials(settings: Settings, credentials: domain.Credentials) -> str:
    stored: dict[str, str | int] = {"token": credentials.token, "email": credentials.email}
    if credentials.app_id:  # a GitHub App installation
        redact.add_secrets(*domain.private_key_parts(credentials.private_key))
        stored.update(app_id=credentials.app_id, installation_id=credentials.installation_id,
                      private_key=credentials.private_key)
    return cipher(settings).encrypt(json.dumps(stored))


def new_webhook_secret(settings: Settings) -> tuple[str, str]:
    """A fresh webhook secret: (clear, encrypted). The clear one is shown once, to paste into the tracker."""
    clear = secrets.token_urlsafe(32)
    redact.add_secrets(clear)
    return clear, cipher(settings).encrypt(clear)


def credentials_of(settings: Settings, row: TrackerConnection) -> domain.Credentials:
    stored = json.loads(cipher(settings).decrypt(row.secret))
    credentials = domain.Credentials(token=str(stored["token"]), email=str(stored.get("email") or ""),
                                     app_id=int(stored.get("app_id") or 0),
                                     installation_id=int(stored.get("installation_id") or 0),
                                     private_key=str(stored.get("private_key") or ""))
    redact.add_secrets(credentials.token, *domain.private_key_parts(credentials.private_key))
    return credentials


def webhook_secret_of(settings: Settings, row: TrackerConnection) -> str:
    clear = cipher(settings).decrypt(row.webhook_secret)
    redact.add_secrets(clear)
    return clear


def open_tracker(settings: Settings, row: TrackerConnection | None, *, timeout: float = CALL_TIMEOUT_SECONDS
                 ) -> Tracker:
    """The client of a stored connection; TrackerError when there is none any more."""
    if row is None:
        raise TrackerError("the tracker is not connected (any more): connect it with `/cadence connect`.", status=404)
    return tracker_for(settings, domain.Kind(row.kind), site_url=row.site_url,
                       credentials=credentials_of(settings, row), timeout=timeout)
