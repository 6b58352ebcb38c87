"""Registry authentication: ``WWW-Authenticate`` challenges and the Docker token flow."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


@dataclass(frozen=True)
class Challenge:
    """A parsed ``WWW-Authenticate`` header."""

    scheme: str
    """Lower-cased: ``bearer`` or ``basic`` (others are unsupported)."""
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str:
        """The token endpoint (Bearer) or protection space (Basic)."""
        return self.params.get("realm", "")


def parse_challenge(header: str) -> Challenge:
    """Parse ``Bearer realm="…",service="…",scope="…"`` or ``Basic realm="…"``."""
    scheme, _, rest = header.strip().partition(" ")
    params = {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3)).replace('\\"', '"')
              for m in _PARAM.finditer(rest)}
    return Challenge(scheme.lower(), params)


def basic_header(username: str, password: str) -> str:
    """An ``Authorization`` value for HTTP Basic."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def token_params(challenge: Challenge, default_scope: str) -> dict[str, str]:
    """Query parameters for the token endpoint (the scope defaults to pulling our repository)."""
    params = {"scope": challenge.params.get("scope") or default_scope}
    if challenge.params.get("service"):
        params["service"] = challenge.params["service"]
    return params
