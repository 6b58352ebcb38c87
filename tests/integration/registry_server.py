"""Real registries for tests: Debian's ``docker-registry`` (distribution 2.x) on a free port.

Three flavours: anonymous, htpasswd (Basic) and token auth (Bearer, with a tiny RS256 token server
run here). Images are pushed with ``skopeo copy`` from OCI layouts, so no dockerd is needed.

    with start_registry(tmp_path, auth="token", users={"alice": "pw"}) as reg:
        push(layout_ref, f"{reg.host}/repo:tag", creds="alice:pw")
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bcrypt
import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

REGISTRY_BIN = shutil.which("docker-registry")
SKOPEO_BIN = shutil.which("skopeo")
HAVE_TOOLS = REGISTRY_BIN is not None and SKOPEO_BIN is not None
SERVICE = "cg-test-registry"
ISSUER = "cg-test-issuer"


def free_port() -> int:
    """A TCP port free right now on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenIssuer:
    """Signs registry JWTs (RS256) with a self-signed certificate carried in the ``x5c`` header."""

    def __init__(self, directory: Path) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = dt.datetime.now(dt.UTC)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.bundle = directory / "token-root.pem"
        self.bundle.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def token(self, subject: str, access: list[dict[str, Any]]) -> str:
        """A signed JWT granting ``access``."""
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256",
                  "x5c": [base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()]}
        claims = {"iss": ISSUER, "sub": subject, "aud": SERVICE, "exp": now + 600, "nbf": now - 10,
                  "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"


@dataclass
class TokenServer:
    """An HTTP token endpoint: Basic credentials checked against ``users``; anonymous callers get
    pull access only when ``anonymous_pull``."""

    issuer: TokenIssuer
    users: dict[str, str]
    anonymous_pull: bool = False
    token_field: str = "token"
    requests: list[str] = field(default_factory=list)
    port: int = 0
    _server: http.server.ThreadingHTTPServer | None = None

    def start(self) -> TokenServer:
        """Serve in a daemon thread."""
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner.requests.append(self.path)
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                user = ""
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    name, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                    if owner.users.get(name) != password:
                        self.send_response(401)
                        self.end_headers()
                        return
                    user = name
                access = []
                for scope in query.get("scope", []):
                    kind, _, rest = scope.partition(":")
                    repo, _, actions = rest.rpartition(":")
                    wanted = actions.split(",")
                    granted = wanted if user else [a for a in wanted if a == "pull" and owner.anonymous_pull]
                    access.append({"type": kind, "name": repo, "actions": granted})
                body = json.dumps({owner.token_field: owner.issuer.token(user, access),
                                   "expires_in": 600}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def realm(self) -> str:
        """The token URL."""
        return f"http://127.0.0.1:{self.port}/token"

    def stop(self) -> None:
        """Shut the server down."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@dataclass
class Registry:
    """A running registry."""

    host: str
    process: subprocess.Popen[bytes]
    token_server: TokenServer | None = None


@dataclass(frozen=True)
class Notification:
    """A notification endpoint the registry POSTs its event envelopes to."""

    url: str
    authorization: str = ""
    name: str = "cg"


def _notification_lines(endpoints: list[Notification]) -> list[str]:
    lines = ["notifications:", "  endpoints:"]
    for endpoint in endpoints:
        lines += [f"    - name: {endpoint.name}", f"      url: {endpoint.url}", "      timeout: 5s",
                  "      threshold: 5", "      backoff: 1s"]
        if endpoint.authorization:
            lines += ["      headers:", f"        Authorization: [{json.dumps(endpoint.authorization)}]"]
    return lines


def _config(root: Path, port: int, auth: str, users: dict[str, str], token: TokenServer | None,
            notifications: list[Notification] | None = None) -> Path:
    lines = [
        "version: 0.1",
        "log:",
        "  level: error",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {root / 'storage'}",
        "http:",
        f"  addr: 127.0.0.1:{port}",
    ]
    if auth == "htpasswd":
        htpasswd = root / "htpasswd"
        htpasswd.write_text("".join(
            f"{user}:{bcrypt.hashpw(pw.encode(), bcrypt.gensalt(rounds=4)).decode()}\n"
            for user, pw in users.items()))
        lines += ["auth:", "  htpasswd:", "    realm: cg-test", f"    path: {htpasswd}"]
    elif auth == "token" and token is not None:
        lines += ["auth:", "  token:", f"    realm: {token.realm}", f"    service: {SERVICE}",
                  f"    issuer: {ISSUER}", f"    rootcertbundle: {token.issuer.bundle}"]
    if notifications:
        lines += _notification_lines(notifications)
    path = root / "config.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


@contextlib.contextmanager
def start_registry(directory: Path, auth: str = "none", users: dict[str, str] | None = None,
                   anonymous_pull: bool = False, token_field: str = "token", port: int = 0,
                   notifications: list[Notification] | None = None) -> Iterator[Registry]:
    """Run ``docker-registry serve`` on a free port (or ``port``) until the block ends.

    ``auth``: ``none``, ``htpasswd`` or ``token`` (a token server is started too). ``notifications``:
    endpoints the registry notifies of pushes and pulls. Starting again on the same ``directory``
    serves the same storage."""
    assert REGISTRY_BIN is not None
    directory.mkdir(parents=True, exist_ok=True)
    users = users or {}
    token = None
    if auth == "token":
        token = TokenServer(TokenIssuer(directory), users, anonymous_pull, token_field).start()
    port = port or free_port()
    config = _config(directory, port, auth, users, token, notifications)
    log = (directory / "registry.log").open("wb")
    process = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "OTEL_TRACES_EXPORTER": "none"})
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("docker-registry did not start: "
                                       + (directory / "registry.log").read_text()[-2000:]) from None
                time.sleep(0.1)
        yield Registry(f"127.0.0.1:{port}", process, token)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        if token is not None:
            token.stop()


def push(src: str, dest: str, *, creds: str = "", all_images: bool = False) -> None:
    """``skopeo copy src docker://dest`` over plain http."""
    assert SKOPEO_BIN is not None
    cmd = [SKOPEO_BIN, "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false"]
    if creds:
        cmd += ["--dest-creds", creds]
    if all_images:
        cmd.append("--all")
    cmd += [src, f"docker://{dest}"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"skopeo copy failed: {result.stderr.strip()}")
