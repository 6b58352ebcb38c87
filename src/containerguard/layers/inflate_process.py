"""Parent side of the decompression child process (see :mod:`containerguard.layers.inflate_worker`)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import threading
from typing import IO, BinaryIO

from containerguard.errors import LayerError

_F_SETPIPE_SZ = 1031
_PIPE_BYTES = 1024 * 1024
_CHUNK = 1024 * 1024


class InflateProcess:
    """A read-only stream of decompressed bytes produced by a child process.

    A feeder thread copies ``compressed`` (whose reads may verify a digest or fetch over the network)
    into the child's stdin; :meth:`read` takes the child's output. Errors of the feeder (digest
    mismatch, network) and of the child (corrupt data) surface at the end of the stream.
    """

    parallel = True

    def __init__(self, compressed: BinaryIO, layer: str) -> None:
        self._layer = layer
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "containerguard.layers.inflate_worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._stdin: IO[bytes] = self._proc.stdin
        self._stdout_fd = self._proc.stdout.fileno()
        with contextlib.suppress(OSError):
            fcntl.fcntl(self._stdout_fd, _F_SETPIPE_SZ, _PIPE_BYTES)
        self._feed_error: BaseException | None = None
        self._eof = False
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

    def _finish(self) -> None:
        self._feeder.join()
        if self._feed_error is not None:
            self.close()
            raise self._feed_error
        code = self._proc.wait()
        err = self._proc.stderr.read().decode(errors="replace").strip() if self._proc.stderr else ""
        if code != 0:
            raise LayerError(f"layer {self._layer} is truncated or corrupt: {err or f'exit code {code}'}")

    def close(self) -> None:
        """Stop the child and the feeder (also on early exit: the child gets a broken pipe)."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream is not None:
                stream.close()
        self._feeder.join(timeout=10)

    def __enter__(self) -> InflateProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
