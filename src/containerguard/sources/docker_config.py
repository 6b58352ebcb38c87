"""Registry credentials from the Docker CLI's ``config.json``.

Only inline credentials are read: ``auths[host].auth`` (base64 ``user:password``) or the older
``username``/``password`` fields. Credential helpers (``credsStore``, ``credHelpers``) and OAuth
``identitytoken`` entries are ignored on purpose: running a helper means executing a program
named by a config file, which a scanner should not do; pass ``--username``/``--password`` instead.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Any

from containerguard.errors import SourceError

_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")
MAX_CONFIG_BYTES = 1024 * 1024


def config_path() -> Path:
    """``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``."""
    base = os.environ.get("DOCKER_CONFIG")
    return (Path(base) if base else Path.home() / ".docker") / "config.json"


def _host_of(key: str) -> str:
    """``https://host:port/v1/`` -> ``host:port``: the CLI stores keys with and without scheme."""
    for scheme in ("https://", "http://"):
        if key.startswith(scheme):
            key = key[len(scheme):]
    return key.split("/", 1)[0].lower()


def _decode(entry: Any, where: str) -> tuple[str, str] | None:
    if not isinstance(entry, dict):
        return None
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            user, sep, password = base64.b64decode(auth, validate=False).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise SourceError(f"{where}: malformed auth entry") from exc
        if not sep:
            raise SourceError(f"{where}: auth entry is not base64 'user:password'")
        return user, password
    username, secret = entry.get("username"), entry.get("password")
    if isinstance(username, str) and isinstance(secret, str) and username:
        return username, secret
    return None


def load_credentials(host: str, path: Path | None = None) -> tuple[str, str] | None:
    """``(username, password)`` stored for registry ``host``, or None."""
    path = path or config_path()
    try:
        raw = path.read_bytes()[:MAX_CONFIG_BYTES]
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SourceError(f"cannot read Docker config {path}: {exc}") from exc
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"Docker config {path} is not valid JSON") from exc
    auths = doc.get("auths") if isinstance(doc, dict) else None
    if not isinstance(auths, dict):
        return None
    wanted = {host.lower()}
    if host.lower() in _HUB_KEYS:
        wanted.update(_HUB_KEYS)
    for key, entry in auths.items():
        if isinstance(key, str) and (_host_of(key) in wanted or key in wanted):
            creds = _decode(entry, f"Docker config {path} [{key}]")
            if creds:
                return creds
    return None
