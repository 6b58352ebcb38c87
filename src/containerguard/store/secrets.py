"""Secrets at rest: registry passwords are Fernet-encrypted with a key kept in
``$CONTAINERGUARD_HOME/secret.key`` (created 0600 on first use); tokens are kept as SHA-256 hashes.

A token is 32 random bytes, so a plain SHA-256 is enough (no salt or slow hash is needed against
guessing a 256-bit secret); it also lets a request's token be found by an indexed equality lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from containerguard.config import Settings
from containerguard.errors import ConfigError

TOKEN_PREFIX = "cg_"


def key_path(settings: Settings) -> Path:
    """Where the encryption key lives."""
    return settings.home / "secret.key"


def load_key(settings: Settings) -> bytes:
    """The Fernet key, created (mode 0600, exclusively: two processes never make two keys) if missing."""
    path = key_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as out:
            out.write(Fernet.generate_key())
    key = path.read_bytes().strip()
    try:
        Fernet(key)
    except ValueError as exc:
        raise ConfigError(f"{path} does not hold a valid encryption key") from exc
    return key


class Cipher:
    """Encrypts and decrypts short secrets (registry passwords) with the data home's key."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def for_settings(cls, settings: Settings) -> Cipher:
        """The cipher of the data home in ``settings``."""
        return cls(load_key(settings))

    def encrypt(self, plain: str) -> str:
        """Ciphertext of ``plain`` ("" stays "": no secret to keep)."""
        return self._fernet.encrypt(plain.encode()).decode() if plain else ""

    def decrypt(self, token: str) -> str:
        """Inverse of :meth:`encrypt`; a ConfigError when the key changed since."""
        if not token:
            return ""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ConfigError("a stored registry password cannot be decrypted: secret.key changed") from exc


def new_token() -> str:
    """A fresh random token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The hex SHA-256 stored for ``token``."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_hash(a: str, b: str) -> bool:
    """Constant-time comparison of two hashes."""
    return hmac.compare_digest(a, b)
