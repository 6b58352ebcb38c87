"""Sniff and undo layer compression (gzip, zstd, none) as a stream, with bomb limits."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import BinaryIO

import zstandard
from isal import igzip

from containerguard.config import Limits
from containerguard.errors import LayerError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_RATIO_FLOOR = 64 * 1024 * 1024


class CountingReader(io.RawIOBase):
    """Counts bytes read from an underlying stream."""

    def __init__(self, raw: BinaryIO, on_bytes: Callable[[int], None] | None = None) -> None:
        self._raw = raw
        self._on_bytes = on_bytes
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(b))
        n = len(data)
        b[:n] = data
        self.count += n
        if self._on_bytes is not None and n:
            self._on_bytes(n)
        return n


class LimitedReader(io.RawIOBase):
    """Stops with :class:`LayerError` when a decompressed stream exceeds the limits."""

    def __init__(self, inner: BinaryIO, compressed: CountingReader | None, limits: Limits,
                 layer: str) -> None:
        self._inner = inner
        self._compressed = compressed
        self._limits = limits
        self._layer = layer
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(b))
        n = len(data)
        b[:n] = data
        self.count += n
        if self.count > self._limits.max_layer_bytes:
            raise LayerError(f"layer {self._layer} is over the size limit "
                             f"({self._limits.max_layer_bytes} bytes uncompressed): refusing it")
        if self._compressed is not None and self.count > _RATIO_FLOOR:
            ratio = self.count / max(self._compressed.count, 1)
            if ratio > self._limits.max_ratio:
                raise LayerError(f"layer {self._layer} looks like a decompression bomb "
                                 f"(ratio {ratio:.0f}:1 over {self._limits.max_ratio}:1)")
        return n


def open_layer_stream(raw: BinaryIO, limits: Limits, layer: str,
                      on_bytes: Callable[[int], None] | None = None) -> BinaryIO:
    """Wrap a (possibly compressed) layer blob stream into an uncompressed, limited tar stream."""
    counted = CountingReader(raw, on_bytes)
    buffered = io.BufferedReader(counted, buffer_size=1024 * 1024)
    head = buffered.peek(4)[:4]
    inner: BinaryIO
    compressed: CountingReader | None = counted
    if head[:2] == GZIP_MAGIC:
        inner = igzip.IGzipFile(fileobj=buffered, mode="rb")  # type: ignore[no-untyped-call,assignment]
    elif head == ZSTD_MAGIC:
        inner = zstandard.ZstdDecompressor().stream_reader(buffered, read_size=1024 * 1024)
    else:
        inner = buffered
        compressed = None
    return io.BufferedReader(LimitedReader(inner, compressed, limits, layer), buffer_size=1024 * 1024)
