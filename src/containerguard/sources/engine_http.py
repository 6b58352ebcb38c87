"""A keep-alive JSON GET client for a local Docker Engine's unix socket: the host collector's fast read path.

The ``docker`` SDK (requests + urllib3) spends about 0.8 ms of Python per request on a unix socket;
``http.client`` on one kept-alive connection spends about 0.1 ms. A host assessment makes one request per
container, image, image history and network, so with the SDK the client's own overhead was most of it.

Only the read-only calls the collector makes are here, each with the SDK method's name, path, query and
return shape, and the SDK's errors: :class:`docker.errors.APIError` (``status_code`` set) for an error
status, :class:`docker.errors.NotFound` for 404, so callers handle both clients alike. A socket that fails
or answers something that is not HTTP raises :class:`EngineError`; a body that is not JSON ``ValueError``;
a body over the size cap :class:`~containerguard.errors.SourceError`. tcp, TLS and ssh engines keep the SDK.
Not thread-safe: one client per thread.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from containerguard.errors import SourceError
from containerguard.lazy import lazy_module

if TYPE_CHECKING:
    import docker.errors
else:  # the SDK's error classes are needed only when the engine answers an error
    docker = lazy_module("docker")

MAX_RESPONSE = 64 * 1024 * 1024
"""No engine answer we read is near this; a hostile socket must not make us buffer gigabytes."""
MIN_API_VERSION = (1, 24)
"""The oldest Engine API the docker SDK accepts."""
READ_PIECE = 1024 * 1024
HEADERS = {"User-Agent": "containerguard", "Accept": "application/json"}
IMAGE_NOT_FOUND = ("no such image", "not found: does not exist or no pull access", "repository does not exist",
                   "was found but does not match the specified platform")
"""404 explanations the SDK raises as :class:`docker.errors.ImageNotFound` (a ``NotFound``)."""
RECONNECT = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, ConnectionAbortedError)
"""What a kept-alive connection the daemon closed while idle raises on its next use."""


class EngineError(Exception):
    """The socket failed (nothing listening, reset, timeout) or answered something that is not HTTP.

    Not a subclass of the SDK's ``DockerException``, so that this module loads without the SDK (every
    source module is imported to resolve an image REF); callers catch it beside ``DockerException``."""


class _Response:
    """The part of a ``requests.Response`` that :class:`docker.errors.APIError` reads."""

    def __init__(self, status_code: int, url: str, reason: str) -> None:
        self.status_code = status_code
        self.url = url
        self.reason = reason


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class EngineHTTP:
    """Engine API GETs over ``unix://PATH`` on one kept-alive HTTP/1.1 connection.

    The constructor learns the engine's API version (as ``docker.APIClient(version=None)`` does, from
    ``/_ping``'s ``Api-Version`` header as the Docker CLI does) and prefixes every later path with it, so it
    fails at once on a foreign socket.
    """

    def __init__(self, url: str, timeout: float = 60, max_response: int = MAX_RESPONSE) -> None:
        if not url.startswith("unix://"):
            raise ValueError(f"not a unix socket URL: {url}")
        self.url = url
        self.max_response = max_response
        self._conn = _UnixConnection(url[len("unix://"):], timeout)
        self.api_version = ""
        try:
            self.api_version = self._negotiate()
        except BaseException:
            self.close()
            raise

    def _negotiate(self) -> str:
        # The Docker CLI's way: /_ping carries Api-Version and costs the daemon nothing, while /version
        # makes it ask containerd and runc (~6 ms); the collector reads /version once anyway.
        response, body = self._exchange("/_ping")
        if not 200 <= response.status < 300:
            raise _api_error(response.status, response.reason, body, "/_ping")
        api: Any = response.getheader("Api-Version")
        if api is None:  # an engine too old to send it: its /version says
            version = self.version(api_version=False)
            api = version.get("ApiVersion") if isinstance(version, dict) else None
        # The version goes into every path: accept only what a Docker Engine sends.
        match = re.fullmatch(r"(\d{1,3})\.(\d{1,3})", api) if isinstance(api, str) else None
        if match is None:
            raise EngineError(f"no valid API version in the answers to /_ping and /version (got {str(api)[:40]!r})")
        if (int(match[1]), int(match[2])) < MIN_API_VERSION:
            raise EngineError(f"Engine API {api} is older than the oldest supported, "
                              f"{'.'.join(map(str, MIN_API_VERSION))}")
        return match[0]

    def __enter__(self) -> EngineHTTP:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the kept-alive connection (a later call opens a new one)."""
        self._conn.close()

    # --- the SDK's read calls, same paths, queries and return shapes --------------------------------

    def version(self, api_version: bool = True) -> Any:
        """``GET /version`` (unversioned path when ``api_version`` is false, as the SDK)."""
        return self._get("/version", versioned=api_version)

    def info(self) -> Any:
        """``GET /info``."""
        return self._get("/info")

    def containers(self, all: bool = False) -> Any:
        """``GET /containers/json``: running containers, or every one with ``all``."""
        return self._get("/containers/json", {"limit": -1, "all": 1 if all else 0, "size": 0, "trunc_cmd": 0})

    def images(self, all: bool = False) -> Any:
        """``GET /images/json``: tagged images, or intermediate ones too with ``all``."""
        return self._get("/images/json", {"only_ids": 0, "all": 1 if all else 0})

    def inspect_container(self, container: str) -> Any:
        """``GET /containers/ID/json``."""
        return self._get(self._path("/containers/{0}/json", container))

    def top(self, container: str, ps_args: str | None = None) -> Any:
        """``GET /containers/ID/top``: ``{"Titles": [...], "Processes": [[...], ...]}``."""
        return self._get(self._path("/containers/{0}/top", container), {"ps_args": ps_args} if ps_args else None)

    def inspect_image(self, image: str) -> Any:
        """``GET /images/ID/json``."""
        return self._get(self._path("/images/{0}/json", image))

    def history(self, image: str) -> Any:
        """``GET /images/ID/history``."""
        return self._get(self._path("/images/{0}/history", image))

    def networks(self) -> Any:
        """``GET /networks`` (with the empty filter the SDK sends)."""
        return self._get("/networks", {"filters": "{}"})

    def inspect_network(self, net_id: str) -> Any:
        """``GET /networks/ID``: with the attached containers, which the list omits."""
        return self._get(self._path("/networks/{0}", net_id))

    def inspect_swarm(self) -> Any:
        """``GET /swarm`` (a manager only)."""
        return self._get("/swarm")

    def nodes(self) -> Any:
        """``GET /nodes`` (a manager only)."""
        return self._get("/nodes")

    def exec_inspect(self, exec_id: str) -> Any:
        """``GET /exec/ID/json``."""
        return self._get(self._path("/exec/{0}/json", exec_id))

    # --- transport ---------------------------------------------------------------------------------

    @staticmethod
    def _path(template: str, *args: str) -> str:
        # Quoted as the SDK quotes (ids come from the engine, names may not be plain).
        return template.format(*(quote(a, safe="/:") for a in args))

    def _get(self, path: str, params: dict[str, Any] | None = None, versioned: bool = True) -> Any:
        target = f"/v{self.api_version}{path}" if versioned else path
        if params:
            target += "?" + urlencode(params)
        response, body = self._exchange(target)
        if not 200 <= response.status < 300:
            raise _api_error(response.status, response.reason, body, target)
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ValueError(f"the answer to GET {target} is not JSON: {exc}") from exc

    def _exchange(self, target: str) -> tuple[http.client.HTTPResponse, bytes]:
        """One GET on the kept-alive connection: the response (status, headers) and its whole body."""
        for attempt in (1, 2):
            reused = self._conn.sock is not None
            try:
                self._conn.request("GET", target, headers=HEADERS)
                response = self._conn.getresponse()
            except RECONNECT as exc:
                self._conn.close()
                if reused and attempt == 1:
                    continue  # the daemon closed the idle connection: a GET is safe to send again
                raise EngineError(f"GET {target}: the connection closed without an answer ({_what(exc)})") from exc
            except http.client.HTTPException as exc:
                self._conn.close()
                raise EngineError(f"GET {target}: the answer is not HTTP ({_what(exc)})") from exc
            except OSError as exc:
                self._conn.close()
                raise EngineError(f"GET {target}: {_what(exc)}") from exc
            try:
                return response, self._body(response, target)
            except (http.client.HTTPException, OSError, ValueError) as exc:
                # A cut or malformed body (http.client raises ValueError on a bad chunk size line).
                self._conn.close()
                raise EngineError(f"GET {target}: the answer broke off ({_what(exc)})") from exc
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _body(self, response: http.client.HTTPResponse, target: str) -> bytes:
        if response.length is not None:
            if response.length > self.max_response:
                self._too_large(target)
            return response.read()
        # Chunked or close-delimited: read in bounded pieces and stop past the cap.
        pieces: list[bytes] = []
        size = 0
        while piece := response.read(READ_PIECE):
            size += len(piece)
            if size > self.max_response:
                self._too_large(target)
            pieces.append(piece)
        return b"".join(pieces)

    def _too_large(self, target: str) -> None:
        self._conn.close()  # the rest of the body stays unread: the connection is unusable
        raise SourceError(f"{self.url} answered GET {target} with more than {_size(self.max_response)}: not read")

def _size(n: int) -> str:
    mib = 1024 * 1024
    return f"{n // mib} MiB" if n >= mib and n % mib == 0 else f"{n} bytes"


def _what(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def _api_error(status: int, reason: str, body: bytes, target: str) -> docker.errors.APIError:
    """The SDK's error for an error status: message from the JSON ``message``, else the body text."""
    try:
        explanation = str(json.loads(body)["message"])
    except (ValueError, KeyError, TypeError):
        explanation = body[:1000].decode("utf-8", "replace").strip()
    cls: type[docker.errors.APIError] = docker.errors.APIError
    if status == 404:
        lowered = explanation.lower()
        cls = (docker.errors.ImageNotFound if any(f in lowered for f in IMAGE_NOT_FOUND)
               else docker.errors.NotFound)
    response = _Response(status, f"http+docker://localhost{target}", reason)
    return cls(f"{status} {reason}", response=response, explanation=explanation)
