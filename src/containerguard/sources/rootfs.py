"""``dir:PATH`` — a root filesystem directory, read in place as one layer (never cached)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from containerguard.errors import SourceError
from containerguard.layers.entries import dir_entries
from containerguard.models.artifact import ImageMetadata, Layer
from containerguard.registry import register
from containerguard.sources.base import ImageSource, SourceOptions

if TYPE_CHECKING:
    from containerguard.layers.walker import LayerWalker
    from containerguard.models.layer import LayerInventory


@register("source", "dir")
class RootfsSource(ImageSource):
    """A directory holding an unpacked root filesystem; symlinks are never followed."""

    prefix = "dir"
    cacheable = False

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def from_ref(cls, rest: str, options: SourceOptions) -> RootfsSource:
        """``rest`` is the directory path."""
        root = Path(rest).expanduser()
        if not root.is_dir():
            raise SourceError(f"dir:{rest}: not a directory")
        return cls(root)

    def metadata(self) -> ImageMetadata:
        """One synthetic layer named after the directory."""
        ident = "dir:" + hashlib.sha256(str(self.root.resolve()).encode()).hexdigest()[:16]
        return ImageMetadata(name=f"dir:{self.root}", source="dir",
                             layers=(Layer(digest=ident, diff_id=ident, media_type="inode/directory"),))

    def open_blob(self, layer: Layer) -> BinaryIO:
        """A directory has no blob."""
        raise SourceError("dir: sources have no layer blobs")

    def inventory_layer(self, layer: Layer, walker: LayerWalker) -> LayerInventory:
        """Walk the directory tree in place."""
        return walker.walk_entries(dir_entries(self.root), layer.diff_id)
