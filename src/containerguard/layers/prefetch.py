"""Read a stream ahead in a background thread.

Fetching, digest hashing and decompression release the GIL, so running them in a producer thread
lets them overlap with tar parsing and the collectors on the other core. The queue is bounded, so
memory stays at a few chunks whatever the layer size.
"""

from __future__ import annotations

import queue
import threading
from typing import BinaryIO

CHUNK = 1024 * 1024
DEPTH = 8
_EOF = b""


class PrefetchReader:
    """A read-only stream fed by a thread that reads ``source`` in ``CHUNK``-sized pieces.

    Errors raised while producing are re-raised in the reader, at the point they were met.
    """

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=DEPTH)
        self._stop = threading.Event()
        self._buf = memoryview(b"")
        self._done = False
        self._thread = threading.Thread(target=self._produce, name="layer-prefetch", daemon=True)
        self._thread.start()

    def _put(self, item: bytes | BaseException) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            while not self._stop.is_set():
                chunk = self._source.read(CHUNK)
                if not self._put(chunk) or not chunk:
                    return
        except BaseException as exc:
            self._put(exc)

    def readable(self) -> bool:
        """Always true."""
        return True

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all that is left when negative); b"" at the end."""
        if size < 0:
            parts = []
            while chunk := self.read(CHUNK):
                parts.append(chunk)
            return b"".join(parts)
        if not self._buf:
            if self._done:
                return _EOF
            item = self._queue.get()
            if isinstance(item, BaseException):
                self._done = True
                raise item
            if not item:
                self._done = True
                return _EOF
            self._buf = memoryview(item)
        out = self._buf[:size]
        self._buf = self._buf[size:]
        return out.tobytes()

    def close(self) -> None:
        """Stop the producer and wait for it."""
        self._stop.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> PrefetchReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
