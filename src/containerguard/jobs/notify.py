"""Notifications out: a log line, and a JSON POST to ``CONTAINERGUARD_NOTIFY_URL`` when configured."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import httpx

log = logging.getLogger("containerguard.notify")


class Notifier:
    """Sends notifications without blocking the caller (one short-lived thread per POST)."""

    def __init__(self, url: str = "", timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout
        self.sent: list[dict[str, Any]] = []
        """Every notification, newest last (kept for tests and the events view; bounded)."""

    def notify(self, payload: dict[str, Any]) -> None:
        """Log ``payload`` and POST it (in the background) when a URL is configured."""
        log.warning("notification: %s", json.dumps(payload, sort_keys=True))
        self.sent = [*self.sent[-99:], payload]
        if self.url:
            threading.Thread(target=self._post, args=(payload,), daemon=True).start()

    def _post(self, payload: dict[str, Any]) -> None:
        try:
            response = httpx.post(self.url, json=payload, timeout=self.timeout)
            if response.status_code >= 300:
                log.error("notification webhook %s answered %s", self.url, response.status_code)
        except httpx.HTTPError as exc:
            log.error("notification webhook %s failed: %s", self.url, exc)
