"""Walk a layer once, applying safety limits, and hand each collector the files it asked for."""

from __future__ import annotations

import dataclasses
import json
import posixpath
import threading
import zlib
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO

from containerguard.collectors.base import Collector, FileInfo
from containerguard.config import Limits
from containerguard.errors import CollectError, LayerError
from containerguard.layers.decompress import PROCESS_MIN_BYTES, USE_PROCESS, open_layer_stream
from containerguard.layers.entries import Entry, stream_entries
from containerguard.layers.inflate_process import InflateProcess
from containerguard.layers.prefetch import PrefetchReader
from containerguard.layers.tarstream import TarStream
from containerguard.models.layer import FileResult, LayerInventory
from containerguard.models.sbom import Collected, Skipped
from containerguard.models.serde import layer_from_dict
from containerguard.registry import plugins

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
WALK_WORKER = "containerguard.layers.walk_worker"
TAR_BUFSIZE = 65536
"""tarfile's stream buffer: its 10 KiB default costs a Python call per 20 blocks skipped."""
MAX_READ_BYTES = 256 * 1024 * 1024
"""Largest file read into memory for a collector; bigger ones are skipped (and reported)."""
KEEP_FOR_LINKS_BYTES = 16 * 1024 * 1024
"""How much of the content read in a layer is kept for hard links to it (most recent first): keeping
all of it would hold every binary of a layer in memory at once."""


class LayerWalker:
    """Reads layers with a fixed set of collectors and limits."""

    def __init__(self, collectors: list[Collector], limits: Limits) -> None:
        self.collectors = collectors
        self.limits = limits
        self.on_bytes: Callable[[int], None] | None = None
        """Called with each chunk size of compressed bytes read (progress)."""
        self.cancel: threading.Event | None = None
        """When set (another layer of the scan failed), a walk stops at its next entry."""

    def can_delegate(self, size: int) -> bool:
        """Whether a blob of ``size`` bytes is worth fetching and decompressing in a child process."""
        return USE_PROCESS and size >= PROCESS_MIN_BYTES

    def walk_blob(self, blob: BinaryIO, diff_id: str, size: int = 0) -> LayerInventory:
        """Walk a layer blob (gzip, zstd or plain tar) as one stream; ``size`` is the blob size if known."""
        opened = open_layer_stream(blob, self.limits, diff_id, self.on_bytes, size)
        # Decompression in a child process already runs in parallel; otherwise read ahead in a thread.
        stream: Any = opened if getattr(opened, "parallel", False) else PrefetchReader(opened)
        return self._walk_stream(stream, diff_id)

    def walk_located(self, locator: dict[str, object], diff_id: str) -> LayerInventory:
        """Walk a blob that a child process fetches and verifies by itself (see ``blob_locator``).

        With registered collectors the child walks the layer and runs them too, and hands back the
        inventory (``walk_worker``); otherwise it only decompresses, and this process walks.
        """
        located = {**locator, "max_bytes": self.limits.max_layer_bytes, "max_ratio": self.limits.max_ratio}
        if not self._registered():
            return self._walk_stream(InflateProcess(None, diff_id, located, self.on_bytes), diff_id)
        job = {**located, "diff_id": diff_id, "collectors": [c.name for c in self.collectors],
               "limits": dataclasses.asdict(self.limits)}
        with InflateProcess(None, diff_id, job, self.on_bytes, worker=WALK_WORKER) as child:
            result = child.read_all(self.cancel)
        try:
            return layer_from_dict(json.loads(result))
        except (ValueError, KeyError, TypeError) as exc:
            raise LayerError(f"layer {diff_id}: unreadable result from the layer process ({exc})") from exc

    def _registered(self) -> bool:
        """Whether a child process can rebuild this walker's collectors from the plugin registry."""
        registered = plugins("collector")
        return all(registered.get(c.name) is type(c) for c in self.collectors)

    def _walk_stream(self, stream: Any, diff_id: str) -> LayerInventory:
        with stream:
            return self.walk_tar(stream, diff_id)

    def walk_tar(self, stream: Any, diff_id: str) -> LayerInventory:
        """Walk an uncompressed tar stream to its end (the end is read too, so a digest over the
        stream gets checked)."""
        try:
            tar = TarStream(stream, diff_id)
            inventory = self.walk_entries(stream_entries(tar, diff_id), diff_id)
            # Drain what follows the tar end marker so the blob digest can be verified.
            tar.drain()
        except (EOFError, zlib.error, OSError, ValueError) as exc:
            raise LayerError(f"layer {diff_id} is truncated or corrupt: {exc}") from exc
        except Exception as exc:
            if exc.__class__.__module__.startswith("zstd"):
                raise LayerError(f"layer {diff_id} is corrupt: {exc}") from exc
            raise
        return inventory

    def walk_entries(self, entries: Iterable[Entry], diff_id: str) -> LayerInventory:
        """Walk entries (from a tar or a directory) and run the collectors."""
        files: list[FileResult] = []
        whiteouts: list[str] = []
        opaque: list[str] = []
        contents = _LinkTargets(KEEP_FOR_LINKS_BYTES)
        count = 0
        total = 0
        cancel = self.cancel
        for entry in entries:
            if cancel is not None and cancel.is_set():
                raise LayerError(f"layer {diff_id}: scan cancelled")
            count += 1
            if count > self.limits.max_entries:
                raise LayerError(f"layer {diff_id} has over {self.limits.max_entries} entries: refusing it")
            if not entry.path:
                continue
            base = posixpath.basename(entry.path)
            if base.startswith(WHITEOUT_PREFIX):
                parent = posixpath.dirname(entry.path)
                if base == OPAQUE_MARKER:
                    opaque.append(parent)
                else:
                    whiteouts.append(posixpath.join(parent, base[len(WHITEOUT_PREFIX):]))
                continue
            if entry.kind not in ("file", "hardlink"):
                continue
            if entry.size > self.limits.max_file_bytes:
                raise LayerError(f"layer {diff_id}: file /{entry.path} is {entry.size} bytes, over the "
                                 f"limit of {self.limits.max_file_bytes}: refusing the layer")
            total += entry.size
            info = FileInfo(entry.path, entry.size, entry.mode, diff_id)
            wanted = [c for c in self.collectors if c.required(info)]
            if not wanted:
                continue
            content = self._read(entry, info, contents)
            if isinstance(content, Skipped):
                files.extend(FileResult(entry.path, c.name, Collected(skipped=(content,))) for c in wanted)
                continue
            contents.keep(entry.path, content)
            if entry.kind == "hardlink":
                info = FileInfo(entry.path, len(content), entry.mode, diff_id)
            for collector in wanted:
                files.append(FileResult(entry.path, collector.name, self._collect(collector, info, content)))
        return LayerInventory(diff_id, tuple(files), tuple(whiteouts), tuple(opaque), count, total)

    def _read(self, entry: Entry, info: FileInfo, seen: _LinkTargets) -> bytes | Skipped:
        if entry.kind == "hardlink":
            found = seen.get(entry.linkname)
            if found is not None:
                return found
            reason = "not read" if entry.linkname not in seen.dropped else \
                f"not kept (over {seen.budget // (1024 * 1024)} MiB of files read after it in this layer)"
            return Skipped("/" + entry.path, f"hard link to /{entry.linkname}, {reason}", info.layer_digest)
        if entry.size > MAX_READ_BYTES:
            return Skipped("/" + entry.path, f"{entry.size} bytes: too large to inventory", info.layer_digest)
        handle = entry.opener()
        if handle is None:
            return Skipped("/" + entry.path, "unreadable", info.layer_digest)
        with handle:
            data = handle.read(entry.size + 1)
        if len(data) != entry.size:
            raise LayerError(f"layer {diff_name(info)}: file /{entry.path} is truncated")
        return data

    @staticmethod
    def _collect(collector: Collector, info: FileInfo, content: bytes) -> Collected:
        try:
            return collector.collect(info, content)
        except CollectError as exc:
            return collector.skipped(info, f"{collector.name}: {exc}")
        except (ValueError, KeyError, IndexError, UnicodeDecodeError, TypeError) as exc:
            # A collector bug on hostile input must not stop the scan; it is reported as data.
            return collector.skipped(info, f"{collector.name}: unparseable ({exc.__class__.__name__}: {exc})")


class _LinkTargets:
    """Content of files read so far in a layer, for hard links to them, within a byte budget."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.dropped: set[str] = set()
        self._kept: dict[str, bytes] = {}
        self._size = 0

    def keep(self, path: str, content: bytes) -> None:
        """Remember ``content``; the oldest contents go when over the budget."""
        old = self._kept.pop(path, None)
        if old is not None:
            self._size -= len(old)
        self.dropped.discard(path)
        self._kept[path] = content
        self._size += len(content)
        while self._size > self.budget:
            gone = next(iter(self._kept))
            self._size -= len(self._kept.pop(gone))
            self.dropped.add(gone)

    def get(self, path: str) -> bytes | None:
        """The kept content of ``path``, if any."""
        return self._kept.get(path)


def diff_name(info: FileInfo) -> str:
    """The layer name for messages."""
    return info.layer_digest or "?"
