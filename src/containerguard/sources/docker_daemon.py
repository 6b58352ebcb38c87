"""``docker:NAME`` — an image in the local Docker Engine, exported with ``docker save``.

The export streams into a temporary file under ``$CONTAINERGUARD_HOME/tmp`` (removed on close)
and is then read like ``docker-archive:``. ``docker://REF`` (skopeo's spelling for a registry
reference) goes to the registry source instead.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from containerguard.errors import SourceError
from containerguard.lazy import lazy_module
from containerguard.models.artifact import ImageMetadata, Layer
from containerguard.registry import register
from containerguard.sources.base import ImageSource, SourceOptions
from containerguard.sources.docker_archive import DockerArchiveSource
from containerguard.sources.filetree import TarTree
from containerguard.sources.registry import RegistrySource

if TYPE_CHECKING:
    import docker
    import requests
else:  # imported when a docker: REF is read, not at start-up
    docker = lazy_module("docker")
    requests = lazy_module("requests")

_CHUNK = 1024 * 1024


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def engine_client(options: SourceOptions) -> Any:
    """A Docker SDK client for ``options.docker_host``, else the environment (``DOCKER_HOST``…)."""
    try:
        if options.docker_host:
            return docker.DockerClient(base_url=options.docker_host)
        return docker.from_env()
    except docker.errors.DockerException as exc:
        where = options.docker_host or "DOCKER_HOST / the default socket"
        raise SourceError(f"cannot reach the Docker Engine at {where}: {_one_line(exc)}") from exc


@register("source", "docker")
class DockerDaemonSource(ImageSource):
    """An image held by a Docker Engine."""

    prefix = "docker"

    def __init__(self, name: str, options: SourceOptions) -> None:
        self.name = name
        self.options = options
        self._client: Any = None
        self._tmp: Path | None = None
        self._archive: DockerArchiveSource | None = None
        self._metadata: ImageMetadata | None = None

    @classmethod
    def from_ref(cls, rest: str, options: SourceOptions) -> ImageSource:
        """``rest`` is the image name or id; ``//REF`` is a registry reference."""
        if rest.startswith("//"):
            return RegistrySource.from_ref(rest[2:], options)
        return cls(rest, options)

    def _export(self) -> DockerArchiveSource:
        if self._archive is not None:
            return self._archive
        self._client = engine_client(self.options)
        tmp_dir = self.options.settings.home / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=tmp_dir, prefix="docker-save-", suffix=".tar",
                                         delete=False) as out:
            self._tmp = Path(out.name)
            try:
                for chunk in self._client.api.get_image(self.name, chunk_size=_CHUNK):
                    out.write(chunk)
            except docker.errors.ImageNotFound as exc:
                raise SourceError(f"image {self.name} not found in the Docker Engine") from exc
            except docker.errors.APIError as exc:
                # Engines answer a missing image with 404 "reference does not exist", not ImageNotFound.
                if exc.status_code == 404:
                    raise SourceError(f"image {self.name} not found in the Docker Engine") from exc
                raise SourceError(f"Docker Engine could not export {self.name}: {_one_line(exc)}") from exc
            except (docker.errors.DockerException, requests.RequestException) as exc:
                raise SourceError(f"cannot reach the Docker Engine to export {self.name}: "
                                  f"{_one_line(exc)}") from exc
        self._archive = DockerArchiveSource(TarTree(self._tmp), f"docker:{self.name}", "", self.options,
                                            source="docker")
        return self._archive

    def _repo_digests(self) -> tuple[str, ...]:
        """RepoDigests are known to the engine only; the archive does not carry them."""
        try:
            attrs = self._client.api.inspect_image(self.name)
        except (docker.errors.DockerException, requests.RequestException):
            return ()
        digests = attrs.get("RepoDigests") if isinstance(attrs, dict) else None
        return tuple(d for d in digests if isinstance(d, str)) if isinstance(digests, list) else ()

    def metadata(self) -> ImageMetadata:
        """Export the image, then read it as a docker-save archive."""
        if self._metadata is None:
            meta = self._export().metadata()
            self._metadata = dataclasses.replace(meta, repo_digests=self._repo_digests())
        return self._metadata

    def open_blob(self, layer: Layer) -> BinaryIO:
        """A layer of the exported archive, verified as it is read."""
        return self._export().open_blob(layer)

    def close(self) -> None:
        """Remove the exported archive and close the engine client."""
        try:
            if self._archive is not None:
                self._archive.close()
            if self._client is not None:
                self._client.close()
        finally:
            if self._tmp is not None:
                self._tmp.unlink(missing_ok=True)
