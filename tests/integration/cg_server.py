"""Run the real ``containerguard server`` process for end-to-end tests, and talk to its API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


def cli(env: dict[str, str], *args: str) -> str:
    """Run ``containerguard ARGS`` with ``env``; its stdout (fails the test on a non-zero exit)."""
    result = subprocess.run([sys.executable, "-m", "containerguard", *args], capture_output=True, text=True,
                            env=env, timeout=300, check=False)
    assert result.returncode == 0, f"containerguard {' '.join(args)}: {result.stderr}"
    return result.stdout


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 60.0, interval: float = 0.25) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


@dataclass
class ServerProcess:
    """``python -m containerguard server`` on a port, with its environment and log."""

    env: dict[str, str]
    port: int
    log: Path
    token: str = ""
    process: subprocess.Popen[bytes] | None = None
    extra_args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        """Start and wait until ``/api/v1/health`` answers."""
        out = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "containerguard", "server", "--port", str(self.port), *self.extra_args],
            stdout=out, stderr=subprocess.STDOUT, env=self.env)
        out.close()

        def healthy() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                return httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for("the server to answer", healthy, timeout=60)
        return self

    def kill(self) -> None:
        """``kill -9``: no shutdown handlers run."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """A clean stop (SIGTERM), then SIGKILL if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def api(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        """An API call with the admin token (or ``token``)."""
        headers = dict(kwargs.pop("headers", {}))
        bearer = self.token if token is None else token
        if bearer:
            headers.setdefault("Authorization", f"Bearer {bearer}")
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)

    def get(self, path: str, **params: Any) -> Any:
        """GET a JSON document (asserting 200)."""
        response = self.api("GET", path, params=params)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()


def server_env(home: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a test server: private home, fast polling and retries."""
    env = {**os.environ, "CONTAINERGUARD_HOME": str(home), "CONTAINERGUARD_DB_POLL": "0.5",
           "CONTAINERGUARD_RETRY_SECONDS": "0.5", "CONTAINERGUARD_RETRY_MAX": "2",
           "CONTAINERGUARD_CRAWL_INTERVAL": "0", **extra}
    if database_url:
        env["CONTAINERGUARD_DATABASE_URL"] = database_url
    else:
        env.pop("CONTAINERGUARD_DATABASE_URL", None)
    return env
