"""Digest-verifying stream wrapper: blobs are checked against the digest that names them."""

from __future__ import annotations

import hashlib
import io
from typing import BinaryIO

from containerguard.errors import DigestMismatch, SourceError

_ALGOS = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}


def hasher_for(digest: str) -> hashlib._Hash:
    """A fresh hash object for ``algo:hex``; unknown algorithms are a SourceError."""
    algo, _, hexpart = digest.partition(":")
    if algo not in _ALGOS or not hexpart:
        raise SourceError(f"unsupported digest {digest!r}")
    return _ALGOS[algo]()


class VerifyingReader(io.RawIOBase):
    """Hashes what is read; at EOF compares with ``digest`` (and ``size`` when known)."""

    def __init__(self, raw: BinaryIO, digest: str, size: int = -1, what: str = "blob") -> None:
        self._raw = raw
        self._digest = digest
        self._hash = hasher_for(digest)
        self._size = size
        self._read = 0
        self._what = what
        self.verified = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(b))
        n = len(data)
        if n == 0:
            self._check()
            return 0
        b[:n] = data
        self._hash.update(data)
        self._read += n
        if self._size >= 0 and self._read > self._size:
            raise DigestMismatch(f"{self._what} {self._digest} is longer than its declared {self._size} bytes")
        return n

    def _check(self) -> None:
        if self.verified:
            return
        got = f"{self._digest.split(':')[0]}:{self._hash.hexdigest()}"
        if got != self._digest:
            raise DigestMismatch(f"{self._what} digest mismatch: expected {self._digest}, got {got}")
        self.verified = True

    def close(self) -> None:
        """Close the underlying stream too."""
        try:
            self._raw.close()
        finally:
            super().close()


def verified(raw: BinaryIO, digest: str, size: int = -1, what: str = "blob") -> BinaryIO:
    """Wrap ``raw`` so that reading it to the end verifies ``digest``."""
    return io.BufferedReader(VerifyingReader(raw, digest, size, what), buffer_size=1024 * 1024)
