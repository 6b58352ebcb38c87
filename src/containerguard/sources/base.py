"""The image source interface and the options every source understands."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO, ClassVar

from containerguard.config import Settings, load_settings
from containerguard.models.artifact import ImageMetadata, Layer, Platform

if TYPE_CHECKING:
    from containerguard.layers.walker import LayerWalker
    from containerguard.models.layer import LayerInventory


@dataclass(frozen=True)
class SourceOptions:
    """Options shared by every source."""

    platform: Platform | None = None
    """Which platform of a multi-platform image; None means linux/amd64 (or the only one)."""
    insecure: bool = False
    """Allow plain http and unverified TLS for registries."""
    username: str = ""
    password: str = ""
    authorization: str = ""
    """A ready ``Authorization`` header for the registry (e.g. the one Harbor hands its scanner), sent
    from the first request; a challenge the registry still answers with is handled as usual."""
    docker_host: str = ""
    settings: Settings = field(default_factory=load_settings)


class ImageSource(ABC):
    """Something that yields an image's metadata and its layer blobs."""

    prefix: ClassVar[str]
    """The REF prefix this source answers to (``oci``, ``docker-archive``…; ``registry`` for bare refs)."""
    cacheable: ClassVar[bool] = True
    """Whether layer inventories may be cached by diff_id."""

    @classmethod
    @abstractmethod
    def from_ref(cls, rest: str, options: SourceOptions) -> ImageSource:
        """Build the source from the part of REF after ``prefix:`` (the whole REF for registries)."""

    @abstractmethod
    def metadata(self) -> ImageMetadata:
        """The image's layers and metadata (fetches manifests/config as needed)."""

    @abstractmethod
    def open_blob(self, layer: Layer) -> BinaryIO:
        """A stream of the layer blob as stored; it checks the digest when read to the end and
        raises :class:`~containerguard.errors.DigestMismatch` on a mismatch."""

    def blob_locator(self, layer: Layer) -> dict[str, object] | None:
        """Where a child process can read the blob by itself (``{"url", "headers", "verify"}`` or
        ``{"path", "offset", "length"}``), or None when only :meth:`open_blob` can."""
        return None

    def inventory_layer(self, layer: Layer, walker: LayerWalker) -> LayerInventory:
        """Walk one layer with ``walker``. Sources that are not blobs (``dir:``) override this."""
        locator = self.blob_locator(layer)
        if locator is not None and walker.can_delegate(layer.size):
            return walker.walk_located({**locator, "digest": layer.digest, "size": layer.size}, layer.diff_id)
        with self.open_blob(layer) as blob:
            return walker.walk_blob(blob, layer.diff_id, layer.size)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections or files."""

    @contextmanager
    def session(self) -> Iterator[ImageSource]:
        """Use the source in a ``with`` block."""
        try:
            yield self
        finally:
            self.close()
