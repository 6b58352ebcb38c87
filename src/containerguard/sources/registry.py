"""Registry references (``HOST[:PORT]/REPO[:TAG|@DIGEST]``) — an OCI distribution client on httpx.

Manifests are verified against the digest they were pulled by, child manifests and the config
against their descriptors, and layer blobs as they stream (see :mod:`containerguard.sources.verify`).
Authentication: anonymous first; on a 401 the ``WWW-Authenticate`` challenge is answered with a
Bearer token (fetched with Basic credentials when we have some) or with Basic credentials.
Credentials come from the options, else from the Docker CLI config (see
:mod:`containerguard.sources.docker_config`; credential helpers are not run).
"""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Iterator
from typing import BinaryIO

import httpx

from containerguard import __version__
from containerguard.errors import AuthError, ConfigError, SourceError
from containerguard.models.artifact import ImageMetadata, Layer, Platform
from containerguard.registry import register
from containerguard.sources.base import ImageSource, SourceOptions
from containerguard.sources.docker_config import load_credentials
from containerguard.sources.imageref import DOCKER_HUB, ImageRef, parse_ref
from containerguard.sources.manifest import (
    ACCEPT_MANIFESTS,
    MAX_CONFIG_BYTES,
    MAX_MANIFEST_BYTES,
    Descriptor,
    ImageIndex,
    ImageManifest,
    image_metadata,
    list_platforms,
    parse_config,
    parse_manifest,
    resolve_image,
    sha256_digest,
    sniff_media_type,
    verify_bytes,
)
from containerguard.sources.registry_auth import basic_header, parse_challenge, token_params
from containerguard.sources.verify import verified

RETRIES = 2
"""Extra attempts after a transient failure (connection error, timeout, 429/502/503/504)."""
BACKOFF_SECONDS = 0.3
TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
USER_AGENT = f"containerguard/{__version__}"


class _ResponseStream(io.RawIOBase):
    """A streamed HTTP response body as a file; closing it closes the response."""

    def __init__(self, response: httpx.Response, what: str) -> None:
        self._response = response
        self._chunks: Iterator[bytes] = response.iter_bytes(chunk_size=1024 * 1024)
        self._pending = b""
        self._what = what

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
            except httpx.HTTPError as exc:
                raise SourceError(f"download of {self._what} broke off: {exc}") from exc
        n = min(len(b), len(self._pending))
        b[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        try:
            self._response.close()
        finally:
            super().close()


class RegistryClient:
    """The few distribution-API calls a scan needs, for one repository."""

    def __init__(self, ref: ImageRef, options: SourceOptions) -> None:
        self.ref = ref
        self.insecure = options.insecure
        if options.username:
            self.credentials: tuple[str, str] | None = (options.username, options.password)
        else:
            self.credentials = load_credentials(ref.host)
        self._client = httpx.Client(verify=not options.insecure, timeout=TIMEOUT, follow_redirects=True,
                                    headers={"User-Agent": USER_AGENT})
        self._base = ""
        self._auth = options.authorization

    # -- plumbing -------------------------------------------------------------------------------

    def _schemes(self) -> list[str]:
        if self.ref.is_local:
            return ["http", "https"]
        if self.insecure:
            return ["https", "http"]
        return ["https"]

    def _send(self, method: str, url: str, headers: dict[str, str], stream: bool) -> httpx.Response:
        """One request with retries on transient failures; transport errors become SourceError."""
        for attempt in range(RETRIES + 1):
            last = attempt == RETRIES
            try:
                request = self._client.build_request(method, url, headers=headers)
                response = self._client.send(request, stream=stream)
            except httpx.TransportError as exc:
                if last:
                    raise SourceError(f"cannot reach registry {self.ref.host}: {exc or type(exc).__name__}") \
                        from exc
            else:
                if response.status_code not in TRANSIENT_STATUS or last:
                    return response
                response.close()
            time.sleep(BACKOFF_SECONDS * (2 ** attempt))
        raise AssertionError("unreachable")

    def _base_url(self) -> str:
        """Pick the scheme once: the first whose ``/v2/`` answers like a registry."""
        if self._base:
            return self._base
        schemes = self._schemes()
        answered: list[str] = []
        errors: list[str] = []
        for scheme in schemes:
            base = f"{scheme}://{self.ref.api_host}"
            try:
                response = self._client.get(f"{base}/v2/")
            except httpx.TransportError as exc:
                errors.append(f"{scheme}: {exc or type(exc).__name__}")
                continue
            response.close()
            if response.status_code in (200, 401, 403) or "docker-distribution-api-version" in response.headers:
                self._base = base
                return base
            answered.append(base)
        if answered:
            # Something answered but not like a registry: let the real request report its status.
            self._base = answered[0]
            return self._base
        # Nothing answered: retry once through _send so that transient refusals get their retries.
        self._send("GET", f"{schemes[0]}://{self.ref.api_host}/v2/", {}, stream=False).close()
        self._base = f"{schemes[0]}://{self.ref.api_host}"
        return self._base

    def _authenticate(self, response: httpx.Response) -> bool:
        """Answer a 401 challenge; False when we have nothing new to offer."""
        challenge = parse_challenge(response.headers.get("www-authenticate", ""))
        if challenge.scheme == "bearer" and challenge.realm:
            header = f"Bearer {self._token(challenge.realm, token_params(challenge, self._scope()))}"
        elif challenge.scheme == "basic" and self.credentials:
            header = basic_header(*self.credentials)
        else:
            return False
        if header == self._auth:
            return False
        self._auth = header
        return True

    def _scope(self) -> str:
        return f"repository:{self.ref.repository}:pull"

    def _token(self, realm: str, params: dict[str, str]) -> str:
        headers = {"Authorization": basic_header(*self.credentials)} if self.credentials else {}
        url = httpx.URL(realm).copy_merge_params(params)
        response = self._send("GET", str(url), headers, stream=False)
        if response.status_code in (401, 403):
            raise self._auth_error(response.status_code)
        if response.status_code != 200:
            raise SourceError(f"token server {httpx.URL(realm).host} answered {response.status_code} "
                              f"for {self.ref.repository}")
        try:
            body = response.json()
        except ValueError as exc:
            raise SourceError(f"token server {httpx.URL(realm).host} sent no JSON") from exc
        token = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise SourceError(f"token server {httpx.URL(realm).host} sent no token")
        return token

    def _auth_error(self, status: int) -> AuthError:
        if self.credentials:
            return AuthError(f"registry {self.ref.host} refused credentials for {self.ref.repository} ({status})")
        return AuthError(f"registry {self.ref.host} refused anonymous access to {self.ref.repository} "
                         f"({status}); no credentials given or found in the Docker config")

    def request(self, path: str, what: str, accept: str = "", stream: bool = False) -> httpx.Response:
        """GET ``/v2/<repo>/<path>``, authenticating as challenged; errors mapped to SourceError."""
        url = f"{self._base_url()}/v2/{self.ref.repository}/{path}"
        # Two tries: anonymous (or a cached, maybe expired, token), then once more after a challenge.
        for _ in range(2):
            headers = {"Accept": accept} if accept else {}
            if self._auth:
                headers["Authorization"] = self._auth
            response = self._send("GET", url, headers, stream)
            if response.status_code == 401 and self._authenticate(response):
                response.close()
                continue
            break
        status = response.status_code
        if status < 300:
            return response
        response.close()
        if status in (401, 403):
            raise self._auth_error(status)
        if status == 404:
            raise SourceError(f"image not found: {self.ref.canonical} (registry {self.ref.host} "
                              f"has no {what})")
        raise SourceError(f"registry {self.ref.host} answered {status} for {what} of {self.ref.repository}")

    def read(self, path: str, what: str, limit: int, accept: str = "") -> tuple[bytes, str]:
        """A small document (manifest, config), at most ``limit`` bytes, and its Content-Type."""
        response = self.request(path, what, accept, stream=True)
        try:
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > limit:
                    raise SourceError(f"{what} from {self.ref.host} is over {limit} bytes")
        except httpx.HTTPError as exc:
            raise SourceError(f"download of {what} from {self.ref.host} broke off: {exc}") from exc
        finally:
            response.close()
        return bytes(data), response.headers.get("content-type", "")

    # -- API ------------------------------------------------------------------------------------

    def manifest(self, reference: str, expected: str = "") -> tuple[bytes, str, str]:
        """Manifest bytes, media type and digest; verified against ``expected`` when given."""
        data, content_type = self.read(f"manifests/{reference}", f"manifest {reference}",
                                       MAX_MANIFEST_BYTES, ACCEPT_MANIFESTS)
        digest = sha256_digest(data)
        if expected:
            verify_bytes(data, expected, "manifest")
            digest = expected
        return data, sniff_media_type(data, content_type), digest

    def blob_bytes(self, desc: Descriptor, limit: int, what: str) -> bytes:
        """A small blob, verified against its descriptor."""
        data, _ = self.read(f"blobs/{desc.digest}", what, limit)
        return verify_bytes(data, desc.digest, what, desc.size)

    def blob_locator(self, digest: str) -> dict[str, object]:
        """URL and headers with which another process can GET the blob (after :meth:`manifest` has
        authenticated); httpx drops the Authorization header on redirects to another host."""
        headers = {"Authorization": self._auth} if self._auth else {}
        return {"url": f"{self._base_url()}/v2/{self.ref.repository}/blobs/{digest}", "headers": headers,
                "verify": not self.insecure}

    def open_blob(self, digest: str, size: int) -> BinaryIO:
        """A layer blob streamed (redirects followed) and verified as it is read."""
        response = self.request(f"blobs/{digest}", f"blob {digest}", stream=True)
        return verified(_ResponseStream(response, f"blob {digest}"),  # type: ignore[arg-type]
                        digest, size, "layer")

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


@register("source", "registry")
class RegistrySource(ImageSource):
    """An image in an OCI distribution registry."""

    prefix = "registry"

    def __init__(self, text: str, ref: ImageRef, options: SourceOptions) -> None:
        self.text = text
        self.ref = ref
        self.options = options
        self.client = RegistryClient(ref, options)
        self._metadata: ImageMetadata | None = None

    @classmethod
    def from_ref(cls, rest: str, options: SourceOptions) -> RegistrySource:
        """``rest`` is the whole reference."""
        try:
            ref = parse_ref(rest)
        except ConfigError as exc:
            raise SourceError(str(exc)) from exc
        if ref.host == DOCKER_HUB and options.insecure:
            # Docker Hub never needs plain http; keep TLS on for it whatever the flag says.
            options = dataclasses.replace(options, insecure=False)
        return cls(rest, ref, options)

    def _top(self) -> tuple[ImageManifest | ImageIndex, str]:
        data, media_type, digest = self.client.manifest(self.ref.reference, self.ref.digest)
        return parse_manifest(data, media_type), digest

    def _fetch_child(self, desc: Descriptor) -> tuple[bytes, str]:
        data, media_type, _ = self.client.manifest(desc.digest, desc.digest)
        return data, media_type

    def list_platforms(self) -> list[Platform]:
        """The platforms the reference offers (one, from the config, for a single-platform image)."""
        top, _ = self._top()
        if isinstance(top, ImageIndex):
            return list_platforms(top)
        return [self.metadata().platform]

    def metadata(self) -> ImageMetadata:
        """Fetch the manifest (through the index for multi-platform images) and the config."""
        if self._metadata is not None:
            return self._metadata
        top, top_digest = self._top()
        resolved = resolve_image(top, top_digest, self._fetch_child, self.options.platform)
        config = parse_config(self.client.blob_bytes(resolved.manifest.config, MAX_CONFIG_BYTES,
                                                     "image config"))
        self._metadata = image_metadata(
            name=self.text, source="registry", manifest=resolved.manifest, config=config,
            manifest_digest=resolved.digest,
            repo_tags=(f"{self.ref.name}:{self.ref.tag}",) if self.ref.tag else (),
            repo_digests=(f"{self.ref.name}@{resolved.top_digest}",))
        return self._metadata

    def blob_locator(self, layer: Layer) -> dict[str, object] | None:
        """The blob URL with the current credentials, for a child process to fetch."""
        self.metadata()
        return self.client.blob_locator(layer.digest)

    def open_blob(self, layer: Layer) -> BinaryIO:
        """The layer blob as stored, verified against its digest as it streams."""
        return self.client.open_blob(layer.digest, layer.size if layer.size > 0 else -1)

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()
