"""Inventory an image: read every layer once (or from the cache) and build its SBOM."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from containerguard.collectors.base import Collector, all_collectors, collectors_key
from containerguard.config import Limits
from containerguard.layers.cache import LayerCache
from containerguard.layers.walker import LayerWalker
from containerguard.models.artifact import ImageMetadata, Layer
from containerguard.models.layer import LayerInventory
from containerguard.models.sbom import Sbom
from containerguard.sbom.build import build_sbom
from containerguard.sources.base import ImageSource, SourceOptions
from containerguard.sources.ref import open_source

IMAGE_EXCLUDED_TAGS = frozenset({"lockfile"})


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


PARALLEL_LAYERS = int(os.environ.get("CONTAINERGUARD_PARALLEL_LAYERS", "0")) or min(3, _cores())
"""How many layers are read at once. A large layer is read whole by its own child process (fetch,
verify, decompress, walk, collect: ``layers.walk_worker``), so several run on separate cores."""


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


class _OrderedProgress:
    """Relays progress to a :class:`Progress` one layer at a time, in layer order, although several
    layers may be read at once: bytes of a layer that is not the current one yet are held back."""

    def __init__(self, progress: Progress, stats: InventoryStats) -> None:
        self._progress = progress
        self._stats = stats
        self._lock = threading.Lock()
        self._current = -1
        self._pending: dict[int, int] = {}

    def counter(self, index: int) -> Callable[[int], None]:
        """The ``on_bytes`` callback for layer ``index`` (called from any thread)."""
        def count(n: int) -> None:
            with self._lock:
                self._stats.bytes_read += n
                if index == self._current:
                    self._progress.layer_bytes(n)
                else:
                    self._pending[index] = self._pending.get(index, 0) + n
        return count

    def start(self, index: int, layer: Layer, cached: bool) -> None:
        """Layer ``index`` becomes the current one."""
        with self._lock:
            self._current = index
            self._progress.layer_start(index, layer, cached)
            if pending := self._pending.pop(index, 0):
                self._progress.layer_bytes(pending)

    def done(self, index: int, layer: Layer) -> None:
        """The current layer is done."""
        with self._lock:
            self._progress.layer_done(index, layer)


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
        relay = _OrderedProgress(self.progress, self.stats)
        cancel = threading.Event()
        with source.session(), ThreadPoolExecutor(PARALLEL_LAYERS, thread_name_prefix="layer") as pool:
            meta = source.metadata()
            self.progress.metadata(meta)
            walkers = [_walker(collectors, settings.limits, relay.counter(i), cancel) for i in range(len(meta.layers))]
            found: dict[str, LayerInventory] = {}
            if self.use_cache and source.cacheable:
                found = {layer.diff_id: hit for layer in meta.layers if (hit := cache.get(layer.diff_id))}
            # Layers that a child process reads by itself are read concurrently, PARALLEL_LAYERS at a
            # time in layer order; the others are walked in order in this thread.
            ahead: dict[str, Future[LayerInventory]] = {}
            for index, layer in enumerate(meta.layers):
                if layer.diff_id not in found and layer.diff_id not in ahead and \
                        _concurrent(source, layer, walkers[index]):
                    ahead[layer.diff_id] = pool.submit(source.inventory_layer, layer, walkers[index])
            inventories: list[LayerInventory] = []
            try:
                for index, layer in enumerate(meta.layers):
                    known = found.get(layer.diff_id)
                    relay.start(index, layer, known is not None)
                    if known is None:
                        future = ahead.get(layer.diff_id)
                        known = future.result() if future else source.inventory_layer(layer, walkers[index])
                        found[layer.diff_id] = known
                        if source.cacheable:
                            cache.put(known)
                    else:
                        self.stats.cached_layers += 1
                    self.stats.layers += 1
                    inventories.append(known)
                    relay.done(index, layer)
            finally:
                # On an error, layers still being read stop at their next entry; unstarted ones never start.
                cancel.set()
                pool.shutdown(wait=True, cancel_futures=True)
        return build_sbom(meta, inventories)


def _walker(collectors: list[Collector], limits: Limits, on_bytes: Callable[[int], None],
            cancel: threading.Event) -> LayerWalker:
    walker = LayerWalker(collectors, limits)
    walker.on_bytes = on_bytes
    walker.cancel = cancel
    return walker


def _concurrent(source: ImageSource, layer: Layer, walker: LayerWalker) -> bool:
    """Whether the layer will be read by a child process (see ``ImageSource.inventory_layer``): then
    this process only waits for its result, and the layer can be read alongside others."""
    return (type(source).inventory_layer is ImageSource.inventory_layer
            and walker.can_delegate(layer.size) and source.blob_locator(layer) is not None)


def inventory(ref: str, options: SourceOptions | None = None,
              progress: Progress | None = None, use_cache: bool = True) -> Sbom:
    """Inventory ``ref`` (any REF form) and return its SBOM."""
    return InventoryRun(options or SourceOptions(), progress or Progress(), use_cache).run(ref)
