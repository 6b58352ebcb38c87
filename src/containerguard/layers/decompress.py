"""Sniff and undo layer compression (gzip, zstd, none) as a stream, with bomb limits."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import BinaryIO

import zstandard
from isal import igzip

from containerguard.config import Limits
from containerguard.errors import LayerError
from containerguard.layers.inflate_process import InflateProcess

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_RATIO_FLOOR = 64 * 1024 * 1024
PROCESS_MIN_BYTES = int(os.environ.get("CONTAINERGUARD_INFLATE_MIN_BYTES", 4 * 1024 * 1024))
"""Compressed layers at least this big are decompressed in a child process (on the other core)."""
USE_PROCESS = os.environ.get("CONTAINERGUARD_INFLATE_PROCESS", "1") != "0"


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
        self.account(n)
        return n

    def account(self, n: int) -> None:
        """Count ``n`` more decompressed bytes; raise when over the limits."""
        self.count += n
        if self.count > self._limits.max_layer_bytes:
            raise LayerError(f"layer {self._layer} is over the size limit "
                             f"({self._limits.max_layer_bytes} bytes uncompressed): refusing it")
        if self._compressed is not None and self.count > _RATIO_FLOOR:
            ratio = self.count / max(self._compressed.count, 1)
            if ratio > self._limits.max_ratio:
                raise LayerError(f"layer {self._layer} looks like a decompression bomb "
                                 f"(ratio {ratio:.0f}:1 over {self._limits.max_ratio}:1)")


class LimitedStream:
    """Counts what is read from a decompressed stream and enforces the layer limits on it."""

    def __init__(self, inner: InflateProcess, compressed: CountingReader, limits: Limits, layer: str) -> None:
        self._inner = inner
        self._check = LimitedReader(io.BytesIO(), compressed, limits, layer)
        self.parallel = True

    def readable(self) -> bool:
        """Always true."""
        return True

    def read(self, size: int = -1) -> bytes:
        """Read and count."""
        data = self._inner.read(size)
        self._check.account(len(data))
        return data

    def close(self) -> None:
        """Stop the child process."""
        self._inner.close()

    def __enter__(self) -> LimitedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_layer_stream(raw: BinaryIO, limits: Limits, layer: str,
                      on_bytes: Callable[[int], None] | None = None, size: int = 0) -> BinaryIO:
    """Wrap a (possibly compressed) layer blob stream into an uncompressed, limited tar stream.

    Compressed layers over :data:`PROCESS_MIN_BYTES` (or of unknown size) are decompressed in a
    child process, in parallel with the caller; the result then has ``parallel = True``.
    """
    counted = CountingReader(raw, on_bytes)
    buffered = io.BufferedReader(counted, buffer_size=1024 * 1024)
    head = buffered.peek(4)[:4]
    compressed_kind = head[:2] == GZIP_MAGIC or head == ZSTD_MAGIC
    if compressed_kind and USE_PROCESS and (size == 0 or size >= PROCESS_MIN_BYTES):
        return LimitedStream(InflateProcess(buffered, layer), counted, limits, layer)  # type: ignore[return-value]
    inner: BinaryIO
    compressed: CountingReader | None = counted
    if head[:2] == GZIP_MAGIC:
        inner = igzip.IGzipFile(fileobj=buffered, mode="rb")  # type: ignore[no-untyped-call,assignment]
    elif head == ZSTD_MAGIC:
        inner = zstandard.ZstdDecompressor().stream_reader(buffered, read_size=1024 * 1024, read_across_frames=True)
    else:
        inner = buffered
        compressed = None
    return io.BufferedReader(LimitedReader(inner, compressed, limits, layer), buffer_size=1024 * 1024)
