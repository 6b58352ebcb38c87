"""Parent side of the decompression child process (see :mod:`containerguard.layers.inflate_worker`)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import IO, BinaryIO

from containerguard.errors import DigestMismatch, LayerError, SourceError
from containerguard.layers import inflate_worker as worker

_F_SETPIPE_SZ = 1031
_PIPE_BYTES = 1024 * 1024
_CHUNK = 1024 * 1024
_INFLATE_WORKER = "containerguard.layers.inflate_worker"
_POLL_SECONDS = 0.2


class InflateProcess:
    """A read-only stream of decompressed bytes produced by a child process (or, with another
    ``worker`` module such as ``walk_worker``, whatever that child writes).

    Either a feeder thread copies ``compressed`` (whose reads may verify a digest or fetch over the
    network) into the child's stdin, or, given a ``locator``, the child fetches and verifies the
    blob itself and this process only parses. Errors of the feeder (digest mismatch, network) and
    of the child (corrupt data, fetch failure, limits) surface at the end of the stream.
    """

    parallel = True

    def __init__(self, compressed: BinaryIO | None, layer: str, locator: dict[str, object] | None = None,
                 on_bytes: Callable[[int], None] | None = None, worker: str = _INFLATE_WORKER) -> None:
        self._layer = layer
        self._on_bytes = on_bytes
        args = [sys.executable, "-m", worker] + (["--fetch"] if locator and worker == _INFLATE_WORKER else [])
        self._proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, bufsize=0)
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._stdin: IO[bytes] = self._proc.stdin
        self._stdout_fd = self._proc.stdout.fileno()
        with contextlib.suppress(OSError):
            fcntl.fcntl(self._stdout_fd, _F_SETPIPE_SZ, _PIPE_BYTES)
        self._feed_error: BaseException | None = None
        self._messages: list[str] = []
        self._eof = False
        self._stderr = threading.Thread(target=self._read_stderr, name="layer-stderr", daemon=True)
        self._stderr.start()
        if locator is not None:
            with contextlib.suppress(OSError):
                self._stdin.write(json.dumps(locator).encode() + b"\n")
                self._stdin.close()
            self._feeder: threading.Thread | None = None
        else:
            assert compressed is not None
            self._feeder = threading.Thread(target=self._feed, args=(compressed,), name="layer-feed", daemon=True)
            self._feeder.start()

    def _feed(self, compressed: BinaryIO) -> None:
        try:
            while chunk := compressed.read(_CHUNK):
                self._stdin.write(chunk)
        except BrokenPipeError:
            pass
        except BaseException as exc:
            self._feed_error = exc
        finally:
            with contextlib.suppress(OSError):
                self._stdin.close()

    def _read_stderr(self) -> None:
        assert self._proc.stderr is not None
        for raw in self._proc.stderr:
            line = raw.decode(errors="replace").strip()
            if line.startswith("progress "):
                if self._on_bytes is not None:
                    with contextlib.suppress(ValueError):
                        self._on_bytes(int(line.split()[1]))
            elif line:
                self._messages.append(line)

    def readable(self) -> bool:
        """Always true."""
        return True

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes of the decompressed layer; b"" at its end (after checking for errors)."""
        if self._eof:
            return b""
        if size < 0:
            parts = []
            while chunk := self.read(_CHUNK):
                parts.append(chunk)
            return b"".join(parts)
        data = os.read(self._stdout_fd, size)
        if data:
            return data
        self._eof = True
        self._finish()
        return b""

    def read_all(self, cancel: threading.Event | None = None) -> bytes:
        """Everything the child writes, after checking for its errors; stops the child early (with
        :class:`LayerError`) once ``cancel`` is set."""
        parts: list[bytes] = []
        while True:
            if cancel is not None:
                ready, _, _ = select.select([self._stdout_fd], [], [], _POLL_SECONDS)
                if cancel.is_set():
                    self.close()
                    raise LayerError(f"layer {self._layer}: scan cancelled")
                if not ready:
                    continue
            chunk = self.read(_CHUNK)
            if not chunk:
                return b"".join(parts)
            parts.append(chunk)

    def _finish(self) -> None:
        if self._feeder is not None:
            self._feeder.join()
        if self._feed_error is not None:
            self.close()
            raise self._feed_error
        code = self._proc.wait()
        self._stderr.join(timeout=10)
        message = self._messages[-1] if self._messages else f"exit code {code}"
        if code == worker.EXIT_DIGEST:
            raise DigestMismatch(message)
        if code == worker.EXIT_SOURCE:
            raise SourceError(f"layer {self._layer}: {message}")
        if code == worker.EXIT_LIMIT:
            raise LayerError(f"layer {self._layer} {message}")
        if code == worker.EXIT_LAYER:
            raise LayerError(message)
        if code != 0:
            raise LayerError(f"layer {self._layer} is truncated or corrupt: {message}")

    def close(self) -> None:
        """Stop the child and the threads (also on early exit: the child gets a broken pipe)."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        if self._feeder is not None:
            self._feeder.join(timeout=10)
        self._stderr.join(timeout=10)

    def __enter__(self) -> InflateProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
