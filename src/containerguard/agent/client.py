"""The agent's side of the server API: who am I (the host bound to the token), push a snapshot."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from containerguard.errors import ConfigError, ContainerGuardError

from .spool import Spool

log = logging.getLogger("containerguard.agent")


class ServerUnreachable(ContainerGuardError):
    """The server did not answer, or answered with a server error: keep the snapshot, retry later."""


class SnapshotRejected(ContainerGuardError):
    """The server refused this snapshot as malformed: retrying it would never succeed."""


class ServerClient:
    """Bearer-token calls to one server; the host id is learnt from the token on first use."""

    def __init__(self, server: str, token: str, timeout: float = 30.0, transport: httpx.BaseTransport | None = None
                 ) -> None:
        if not server.startswith(("http://", "https://")):
            raise ConfigError(f"--server must be an http(s):// URL, got {server!r}")
        if not token.strip():
            raise ConfigError("--token is empty")
        self.server = server.rstrip("/")
        self._client = httpx.Client(base_url=self.server, timeout=timeout, transport=transport,
                                    headers={"Authorization": f"Bearer {token.strip()}"})
        self._host_id: int | None = None

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServerUnreachable(f"cannot reach {self.server}: {exc}") from exc
        if response.status_code in (401, 403):
            raise ConfigError(f"the server refused the agent token ({response.status_code}: {_detail(response)})")
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise ServerUnreachable(f"{self.server} answered {response.status_code}: {_detail(response)}")
        return response

    def host_id(self) -> int:
        """The id of the host this token is bound to."""
        if self._host_id is None:
            response = self._call("GET", "/api/v1/hosts/me")
            if response.status_code != 200:
                raise ConfigError(f"the server knows no host for this token ({response.status_code}: "
                                  f"{_detail(response)}); register the host with POST /api/v1/hosts")
            self._host_id = int(response.json()["id"])
        return self._host_id

    def push(self, payload: bytes) -> dict[str, Any]:
        """Send one snapshot (JSON bytes); the server's assessment summary."""
        response = self._call("POST", f"/api/v1/hosts/{self.host_id()}/snapshots", content=payload,
                              headers={"Content-Type": "application/json"})
        if response.status_code >= 400:
            raise SnapshotRejected(f"the server rejected the snapshot ({response.status_code}: {_detail(response)})")
        body: dict[str, Any] = response.json()
        return body


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return str(detail if detail is not None else response.text[:200])


@dataclass
class FlushResult:
    """What one flush of the spool did."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    remaining: int = 0
    error: str = ""
    """Why the flush stopped early (server unreachable); empty when the spool was emptied."""


def flush(spool: Spool, client: ServerClient) -> FlushResult:
    """Push the queued snapshots oldest first, removing each once the server has stored it. Stops at
    the first unreachable answer (order is kept); a rejected snapshot is dropped with a log line;
    a refused token raises :class:`ConfigError` with the queue intact."""
    result = FlushResult()
    for item in spool.items():
        try:
            result.sent.append(client.push(spool.read(item)))
        except ServerUnreachable as exc:
            result.error = str(exc)
            break
        except SnapshotRejected as exc:
            log.error("dropping spooled snapshot %s: %s", item.name, exc)
            result.rejected += 1
        except FileNotFoundError:
            continue  # dropped by the bound while we were sending
        spool.remove(item)
    result.remaining = len(spool)
    return result
