"""Child process that decompresses a layer: compressed bytes on stdin, tar bytes on stdout.

Running decompression in its own process puts it on the second core without contending for the
parent's GIL, while the parent fetches, verifies digests and parses the tar. Output is produced in
bounded pieces, so a decompression bomb cannot balloon this process's memory either.
"""

from __future__ import annotations

import sys
from typing import BinaryIO

import zstandard
from isal import isal_zlib

CHUNK = 1024 * 1024
MAX_OUT = 4 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
EXIT_CORRUPT = 3


def _gunzip(first: bytes, fin: BinaryIO, fout: BinaryIO) -> None:
    inflater = isal_zlib.decompressobj(31)
    fed = False
    pending = first
    while True:
        if not pending:
            pending = fin.read(CHUNK)
            if not pending:
                break
        data, pending = pending, b""
        while data:
            fed = True
            out = inflater.decompress(data, MAX_OUT)
            if out:
                fout.write(out)
            if inflater.eof:
                # Multi-member gzip: what follows one member is the next one.
                data = inflater.unused_data
                inflater = isal_zlib.decompressobj(31)
                fed = False
            else:
                data = inflater.unconsumed_tail
    if fed and not inflater.eof:
        raise EOFError("compressed stream ended before its end-of-stream marker")


def _unzstd(first: bytes, fin: BinaryIO, fout: BinaryIO) -> None:
    class _Joined:
        def __init__(self) -> None:
            self.first = first

        def read(self, n: int = -1) -> bytes:
            if self.first:
                out, self.first = self.first, b""
                return out
            return fin.read(n)

    reader = zstandard.ZstdDecompressor().stream_reader(_Joined(), read_size=CHUNK,  # type: ignore[arg-type]
                                                        read_across_frames=True)
    while chunk := reader.read(MAX_OUT):
        fout.write(chunk)


def main() -> int:
    """Decompress stdin to stdout; exit 3 with one line on stderr when the data is corrupt."""
    fin, fout = sys.stdin.buffer, sys.stdout.buffer
    try:
        first = fin.read(CHUNK)
        if first[:2] == GZIP_MAGIC:
            _gunzip(first, fin, fout)
        elif first[:4] == ZSTD_MAGIC:
            _unzstd(first, fin, fout)
        else:
            fout.write(first)
            while chunk := fin.read(CHUNK):
                fout.write(chunk)
        fout.flush()
    except BrokenPipeError:
        return 0  # the parent stopped reading (it met an error of its own)
    except (isal_zlib.error, zstandard.ZstdError, EOFError, OSError, ValueError) as exc:  # type: ignore[misc]
        sys.stderr.write(f"{exc}\n")
        return EXIT_CORRUPT
    return 0


if __name__ == "__main__":
    sys.exit(main())
