"""A uniform view of the files of one layer, from a tar stream or a root filesystem directory."""

from __future__ import annotations

import io
import os
import posixpath
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from containerguard.errors import LayerError
from containerguard.layers.tarstream import TarStream


@dataclass
class Entry:
    """One entry of a layer."""

    path: str
    """Normalised, relative, never escaping the root."""
    kind: str
    """file, dir, symlink, hardlink or other."""
    size: int
    mode: int
    linkname: str
    opener: Callable[[], BinaryIO | None]


def normalise(raw: str, layer: str = "") -> str:
    """Normalise a layer path; raise :class:`LayerError` when it escapes the image root."""
    p = raw.replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    p = p.lstrip("/")
    if not p or p == ".":
        return ""
    if ".." in p and _escapes(p):
        raise LayerError(f"hostile layer {layer or '?'}: entry {raw!r} escapes the image root")
    if "//" not in p and "/." not in p and p[0] != "." and p[-1] != "/":
        return p  # already normal: no empty, "." or ".." parts (the usual case, spared normpath)
    norm = posixpath.normpath(p)
    return "" if norm == "." else norm


def _escapes(p: str) -> bool:
    depth = 0
    for part in p.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def stream_entries(ts: TarStream, layer: str) -> Iterator[Entry]:
    """Entries of a :class:`TarStream`; each opener is valid only until the next entry."""
    for member in ts:
        path = normalise(member.name, layer)
        linkname = normalise(member.linkname, layer) if member.kind == "hardlink" else member.linkname
        yield Entry(path, member.kind, member.size, member.mode, linkname, _stream_opener(ts))


def _stream_opener(ts: TarStream) -> Callable[[], BinaryIO | None]:
    def opener() -> BinaryIO | None:
        return io.BytesIO(ts.read_data())
    return opener


def dir_entries(root: Path) -> Iterator[Entry]:
    """Entries of a root filesystem directory. Symlinks are reported, never followed."""
    root = root.resolve()
    stack = [root]
    while stack:
        current = stack.pop()
        try:
            items = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError as exc:
            raise LayerError(f"cannot read {current}: {exc.strerror}") from exc
        for item in items:
            st = item.stat(follow_symlinks=False)
            rel = Path(item.path).relative_to(root).as_posix()
            if stat.S_ISLNK(st.st_mode):
                yield Entry(rel, "symlink", 0, st.st_mode, os.readlink(item.path), lambda: None)
            elif stat.S_ISDIR(st.st_mode):
                stack.append(Path(item.path))
                yield Entry(rel, "dir", 0, st.st_mode, "", lambda: None)
            elif stat.S_ISREG(st.st_mode):
                yield Entry(rel, "file", st.st_size, st.st_mode, "",
                            (lambda p=item.path: _open_nofollow(p)))  # type: ignore[misc]
            else:
                yield Entry(rel, "other", 0, st.st_mode, "", lambda: None)


def _open_nofollow(path: str) -> BinaryIO:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    return os.fdopen(fd, "rb")
