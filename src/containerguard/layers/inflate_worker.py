"""Child process that decompresses a layer: compressed bytes on stdin, tar bytes on stdout.

Running decompression in its own process puts it on the second core without contending for the
parent's GIL, while the parent parses the tar. Output is produced in bounded pieces, so a
decompression bomb cannot balloon this process's memory either.

With ``--fetch`` the child also fetches the blob itself: stdin then holds one JSON line, a *blob
locator* (``{"url", "headers", "verify"}`` or ``{"path", "offset", "length"}``, plus ``digest``,
``size``, ``max_bytes`` and ``max_ratio``), and the child hashes what it reads against the digest.
Progress goes to stderr as ``progress N`` lines; the last other line is the error, if any.
"""

from __future__ import annotations

import queue
import sys
import threading
from typing import Any, BinaryIO, Protocol

import zstandard
from isal import isal_zlib

CHUNK = 1024 * 1024
MAX_OUT = 4 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
EXIT_CORRUPT = 3
EXIT_DIGEST = 4
EXIT_SOURCE = 5
EXIT_LIMIT = 6
EXIT_LAYER = 7
"""The layer walk in the child (``walk_worker``) refused the layer; stderr holds the message."""
_RATIO_FLOOR = 64 * 1024 * 1024
_PROGRESS_EVERY = 4 * 1024 * 1024


class Readable(Protocol):
    """Anything with ``read(n)``."""

    def read(self, size: int = -1, /) -> bytes: ...


class SourceFailed(Exception):
    """The blob could not be fetched."""


class DigestFailed(Exception):
    """The blob did not hash to its digest."""


class LimitFailed(Exception):
    """The layer is over a size limit or looks like a decompression bomb."""


class BlobReader:
    """Reads a blob from a file range or a URL, hashing and counting what it reads."""

    def __init__(self, locator: dict[str, object]) -> None:
        import hashlib

        self.digest = str(locator["digest"])
        algo = self.digest.split(":", 1)[0]
        if algo not in ("sha256", "sha512"):
            raise SourceFailed(f"unsupported digest {self.digest}")
        self.hash = hashlib.new(algo)
        self.size = int(str(locator.get("size", -1)))
        self.count = 0
        self._reported = 0
        self._buf = b""
        self._hash_queue: queue.Queue[bytes | None] = queue.Queue(maxsize=16)
        self._hasher = threading.Thread(target=self._hash_worker, daemon=True)
        self._hasher.start()
        self._chunks = self._open(locator)

    def _open(self, locator: dict[str, object]):  # type: ignore[no-untyped-def]
        if "path" in locator:
            return self._file_chunks(str(locator["path"]), int(str(locator.get("offset", 0))),
                                     int(str(locator.get("length", -1))))
        return self._http_chunks(str(locator["url"]), dict(locator.get("headers", {})),  # type: ignore[call-overload]
                                 bool(locator.get("verify", True)))

    @staticmethod
    def _file_chunks(path: str, offset: int, length: int):  # type: ignore[no-untyped-def]
        try:
            with open(path, "rb") as fh:
                fh.seek(offset)
                left = length
                while left != 0:
                    chunk = fh.read(CHUNK if left < 0 else min(CHUNK, left))
                    if not chunk:
                        break
                    left -= len(chunk)
                    yield chunk
        except OSError as exc:
            raise SourceFailed(f"cannot read {path}: {exc.strerror}") from exc

    @staticmethod
    def _http_chunks(url: str, headers: dict[str, str], verify: bool):  # type: ignore[no-untyped-def]
        import httpx

        try:
            with httpx.Client(verify=verify, follow_redirects=True, timeout=60) as client, \
                    client.stream("GET", url, headers=headers) as response:
                if response.status_code != 200:
                    raise SourceFailed(f"registry answered {response.status_code} for the blob")
                yield from response.iter_bytes(CHUNK)
        except httpx.HTTPError as exc:
            raise SourceFailed(f"download broke off: {exc}") from exc

    def _hash_worker(self) -> None:
        # hashlib releases the GIL on large updates: hashing here overlaps fetching and inflating.
        while (chunk := self._hash_queue.get()) is not None:
            self.hash.update(chunk)

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (a chunk when negative); b"" at the end, after checking the digest."""
        if not self._buf:
            chunk = next(self._chunks, b"")
            if not chunk:
                self._finish()
                return b""
            self._hash_queue.put(chunk)
            self.count += len(chunk)
            if 0 <= self.size < self.count:
                raise DigestFailed(f"blob {self.digest} is longer than its declared {self.size} bytes")
            if self.count - self._reported >= _PROGRESS_EVERY:
                sys.stderr.write(f"progress {self.count - self._reported}\n")
                sys.stderr.flush()
                self._reported = self.count
            self._buf = chunk
        if n < 0 or n >= len(self._buf):
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def _finish(self) -> None:
        self._hash_queue.put(None)
        self._hasher.join()
        if self.count > self._reported:
            sys.stderr.write(f"progress {self.count - self._reported}\n")
            self._reported = self.count
        got = f"{self.digest.split(':')[0]}:{self.hash.hexdigest()}"
        if got != self.digest:
            raise DigestFailed(f"layer digest mismatch: expected {self.digest}, got {got}")


class CorruptFailed(Exception):
    """The compressed data is corrupt or truncated."""


class InflatingReader:
    """The decompressed bytes of a blob (gzip, multi-member gzip, zstd or uncompressed), read in
    pieces of at most :data:`MAX_OUT` bytes, with the layer limits enforced as it goes.

    ``max_bytes`` caps the decompressed size and ``max_ratio`` the decompressed/compressed ratio
    (past 64 MiB); 0 disables either. Corrupt data raises :class:`CorruptFailed`.
    """

    def __init__(self, blob: Readable, max_bytes: int = 0, max_ratio: int = 0) -> None:
        self._blob = blob
        self.max_bytes, self.max_ratio = max_bytes, max_ratio
        self.compressed = 0
        self.count = 0
        self._data = self._read_blob()
        self._inflater = isal_zlib.decompressobj(31)
        self._fed = False
        self._zstd: Any = None
        if self._data[:2] == GZIP_MAGIC:
            self._next = self._gunzip
        elif self._data[:4] == ZSTD_MAGIC:
            self._zstd = zstandard.ZstdDecompressor().stream_reader(
                _CompressedSide(self), read_size=CHUNK, read_across_frames=True)  # type: ignore[arg-type]
            self._next = self._unzstd
        else:
            self._next = self._plain

    def _read_blob(self) -> bytes:
        data = self._blob.read(CHUNK)
        self.compressed += len(data)
        return data

    def read(self, size: int = -1) -> bytes:
        """The next piece of decompressed data (``size`` is a hint only); b"" at the end."""
        try:
            out = self._next()
        except (isal_zlib.error, zstandard.ZstdError, EOFError) as exc:  # type: ignore[misc]
            raise CorruptFailed(str(exc)) from exc
        self.count += len(out)
        if self.max_bytes and self.count > self.max_bytes:
            raise LimitFailed(f"over the size limit ({self.max_bytes} bytes uncompressed): refusing it")
        if self.max_ratio and self.count > _RATIO_FLOOR:
            ratio = self.count / max(self.compressed, 1)
            if ratio > self.max_ratio:
                raise LimitFailed(f"looks like a decompression bomb (ratio {ratio:.0f}:1 over {self.max_ratio}:1)")
        return out

    def _plain(self) -> bytes:
        return self.take_compressed()

    def take_compressed(self) -> bytes:
        """The next compressed chunk: the one read to sniff the format, then the blob's."""
        if self._data:
            out, self._data = self._data, b""
            return out
        return self._read_blob()

    def _gunzip(self) -> bytes:
        while True:
            if not self._data:
                self._data = self._read_blob()
                if not self._data:
                    if self._fed and not self._inflater.eof:
                        raise EOFError("compressed stream ended before its end-of-stream marker")
                    return b""
            self._fed = True
            out = self._inflater.decompress(self._data, MAX_OUT)
            if self._inflater.eof:
                # Multi-member gzip: what follows one member is the next one.
                self._data = self._inflater.unused_data
                self._inflater = isal_zlib.decompressobj(31)
                self._fed = False
            else:
                self._data = self._inflater.unconsumed_tail
            if out:
                return out

    def _unzstd(self) -> bytes:
        return bytes(self._zstd.read(MAX_OUT))


class _CompressedSide:
    """What the zstd stream reader reads from."""

    def __init__(self, owner: InflatingReader) -> None:
        self._owner = owner

    def read(self, size: int = -1) -> bytes:
        return self._owner.take_compressed()


def _report(exc: BaseException) -> None:
    sys.stderr.write(f"{exc}\n")
    sys.stderr.flush()


def corrupt_exit(reader: Readable, exc: BaseException) -> int:
    """Exit code for corrupt data: a damaged blob most often, so when the digest says so, say that."""
    if isinstance(reader, BlobReader):
        try:
            while reader.read(CHUNK):
                pass
        except DigestFailed as digest_exc:
            _report(digest_exc)
            return EXIT_DIGEST
        except SourceFailed:
            pass
    _report(exc)
    return EXIT_CORRUPT


def main() -> int:
    """Decompress stdin (or the blob named on stdin with ``--fetch``) to stdout; exit non-zero with one
    line on stderr on corrupt data (3), a digest mismatch (4), a fetch failure (5) or a limit (6)."""
    import json

    fin: BinaryIO = sys.stdin.buffer
    fout = sys.stdout.buffer
    max_bytes = max_ratio = 0
    try:
        if "--fetch" in sys.argv:
            locator = json.loads(sys.stdin.buffer.readline())
            fin = BlobReader(locator)  # type: ignore[assignment]
            max_bytes, max_ratio = int(locator.get("max_bytes", 0)), int(locator.get("max_ratio", 0))
    except (SourceFailed, ValueError, KeyError) as exc:
        _report(exc)
        return EXIT_SOURCE
    try:
        stream = InflatingReader(fin, max_bytes, max_ratio)
        while chunk := stream.read():
            fout.write(chunk)
        fout.flush()
    except BrokenPipeError:
        return 0  # the parent stopped reading (it met an error of its own)
    except SourceFailed as exc:
        _report(exc)
        return EXIT_SOURCE
    except DigestFailed as exc:
        _report(exc)
        return EXIT_DIGEST
    except LimitFailed as exc:
        _report(exc)
        return EXIT_LIMIT
    except (CorruptFailed, OSError, ValueError) as exc:
        return corrupt_exit(fin, exc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
