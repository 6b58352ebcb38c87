"""Inventory an image: read every layer once (or from the cache) and build its SBOM."""

from __future__ import annotations

from dataclasses import dataclass, field

from containerguard.collectors.base import all_collectors, collectors_key
from containerguard.layers.cache import LayerCache
from containerguard.layers.walker import LayerWalker
from containerguard.models.artifact import ImageMetadata, Layer
from containerguard.models.layer import LayerInventory
from containerguard.models.sbom import Sbom
from containerguard.sbom.build import build_sbom
from containerguard.sources.base import SourceOptions
from containerguard.sources.ref import open_source

IMAGE_EXCLUDED_TAGS = frozenset({"lockfile"})


@dataclass
class InventoryStats:
    """What an inventory run did, for progress and benchmarks."""

    layers: int = 0
    cached_layers: int = 0
    bytes_read: int = 0


class Progress:
    """Callbacks a caller may implement to show progress (the default shows nothing)."""

    def metadata(self, meta: ImageMetadata) -> None:
        """The image's layers are known."""

    def layer_start(self, index: int, layer: Layer, cached: bool) -> None:
        """A layer is about to be read (or was found in the cache)."""

    def layer_bytes(self, count: int) -> None:
        """``count`` more compressed bytes of the current layer were read."""

    def layer_done(self, index: int, layer: Layer) -> None:
        """A layer is done."""


@dataclass
class InventoryRun:
    """One inventory: options, progress hooks and resulting statistics."""

    options: SourceOptions = field(default_factory=SourceOptions)
    progress: Progress = field(default_factory=Progress)
    use_cache: bool = True
    stats: InventoryStats = field(default_factory=InventoryStats)

    def run(self, ref: str) -> Sbom:
        """Inventory ``ref`` and return its SBOM."""
        source = open_source(ref, self.options)
        # Images are inventoried by what is installed; lockfiles count only for directory scans.
        collectors = all_collectors(frozenset() if source.prefix == "dir" else IMAGE_EXCLUDED_TAGS)
        settings = self.options.settings
        cache = LayerCache(settings.cache_dir, collectors_key(collectors))
        walker = LayerWalker(collectors, settings.limits)
        walker.on_bytes = self._count
        with source.session():
            meta = source.metadata()
            self.progress.metadata(meta)
            inventories: list[LayerInventory] = []
            for index, layer in enumerate(meta.layers):
                cached = cache.get(layer.diff_id) if (self.use_cache and source.cacheable) else None
                self.progress.layer_start(index, layer, cached is not None)
                if cached is None:
                    cached = source.inventory_layer(layer, walker)
                    if source.cacheable:
                        cache.put(cached)
                else:
                    self.stats.cached_layers += 1
                self.stats.layers += 1
                inventories.append(cached)
                self.progress.layer_done(index, layer)
        return build_sbom(meta, inventories)

    def _count(self, n: int) -> None:
        self.stats.bytes_read += n
        self.progress.layer_bytes(n)


def inventory(ref: str, options: SourceOptions | None = None,
              progress: Progress | None = None, use_cache: bool = True) -> Sbom:
    """Inventory ``ref`` (any REF form) and return its SBOM."""
    return InventoryRun(options or SourceOptions(), progress or Progress(), use_cache).run(ref)

