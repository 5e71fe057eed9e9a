"""Tokens encrypted at rest: Fernet with the keys of CADENCE_ENCRYPTION_KEY (newest first, older ones still read)."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

# Prefixes of Slack tokens stored in clear (before encryption was turned on); `cadence keys rotate` encrypts them.
PLAINTEXT_TOKEN_PREFIXES = ("xoxb-", "xoxp-", "xoxe", "xoxa-", "xapp-")


class TokenDecryptionError(Exception):
    """A stored token cannot be decrypted with any configured key."""


def parse_keys(value: str) -> list[Fernet]:
    """The Fernet keys of a comma-separated setting, newest first; ValueError naming a malformed one."""
    keys = [part.strip() for part in value.split(",") if part.strip()]
    if not keys:
        raise ValueError("expected at least one key")
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode()))
        except (ValueError, TypeError):
            raise ValueError(f"key {position} is not a Fernet key (32 url-safe base64-encoded bytes)") from None
    return fernets


def generate_key() -> str:
    """A new random Fernet key."""
    return Fernet.generate_key().decode()


class TokenCipher:
    """Encrypts with the newest key; decrypts with any configured key."""

    def __init__(self, keys: Sequence[Fernet]) -> None:
        self._fernet = MultiFernet(list(keys))

    @classmethod
    def from_setting(cls, value: str) -> TokenCipher:
        return cls(parse_keys(value))

    def encrypt(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode()

    def decrypt(self, stored: str) -> str:
        try:
            return self._fernet.decrypt(stored.encode()).decode()
        except InvalidToken:
            raise TokenDecryptionError(
                "a stored token cannot be decrypted with CADENCE_ENCRYPTION_KEY: was a key removed too early?"
            ) from None

    def rotate(self, stored: str) -> str:
        """The token re-encrypted with the newest key; a token still stored in clear gets encrypted."""
        if stored.startswith(PLAINTEXT_TOKEN_PREFIXES):
            return self.encrypt(stored)
        try:
            return self._fernet.rotate(stored.encode()).decode()
        except InvalidToken:
            raise TokenDecryptionError(
                "a stored token cannot be decrypted with any key of CADENCE_ENCRYPTION_KEY: keep the old key "
                "in the list (after the new one) until `cadence keys rotate` has run"
            ) from None
