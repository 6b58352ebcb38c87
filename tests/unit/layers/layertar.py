"""Build small layer tarballs in memory for walker tests."""

from __future__ import annotations

import gzip
import io
import tarfile

import zstandard


def make_tar(entries: list[tuple[str, bytes | str | None]], mode: int = 0o644) -> bytes:
    """entries: (name, content) for files; content None -> directory; str starting with '->' symlink,
    '=>' hardlink."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, content in entries:
            info = tarfile.TarInfo(name)
            if content is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tf.addfile(info)
            elif isinstance(content, str) and content.startswith("->"):
                info.type = tarfile.SYMTYPE
                info.linkname = content[2:]
                tf.addfile(info)
            elif isinstance(content, str) and content.startswith("=>"):
                info.type = tarfile.LNKTYPE
                info.linkname = content[2:]
                tf.addfile(info)
            else:
                data = content.encode() if isinstance(content, str) else content
                info.size = len(data)
                info.mode = mode
                tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def gz(data: bytes) -> bytes:
    """gzip-compress."""
    return gzip.compress(data, compresslevel=1)


def zst(data: bytes) -> bytes:
    """zstd-compress."""
    return zstandard.ZstdCompressor().compress(data)
