"""Read-only access to the files of an image layout: a directory, or a tar read in place.

Archive member names are never used to write anything; they are still checked, and a name that
climbs out of the archive (``../``, an absolute path) makes the whole archive a :class:`SourceError`,
since no tool we read from writes such names.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import BinaryIO

from containerguard.errors import SourceError

MAX_MEMBERS = 200_000
"""Most members an archive may hold; far above any real image archive."""
_MAX_LINK_HOPS = 16


def safe_name(name: str, where: str) -> str:
    """``name`` normalised to a relative POSIX path; names that climb out are a SourceError."""
    if not name or "\x00" in name or name.startswith("/") or "\\" in name:
        raise SourceError(f"{where}: hostile or empty path {name!r}")
    norm = posixpath.normpath(name)
    if norm == ".." or norm.startswith("../") or norm.startswith("/"):
        raise SourceError(f"{where}: hostile path {name!r}")
    return norm


class FileTree(ABC):
    """The files of a layout or archive, by relative path."""

    label: str
    """How errors name this tree (its path)."""

    @abstractmethod
    def exists(self, name: str) -> bool:
        """Whether a regular file ``name`` exists."""

    @abstractmethod
    def size(self, name: str) -> int:
        """Size in bytes of ``name``."""

    @abstractmethod
    def open(self, name: str) -> BinaryIO:
        """A fresh stream of ``name`` (safe to hold several at once)."""

    def read(self, name: str, limit: int) -> bytes:
        """All of ``name`` if it is at most ``limit`` bytes."""
        size = self.size(name)
        if size > limit:
            raise SourceError(f"{self.label}: {name} is {size} bytes, over the {limit}-byte limit")
        with self.open(name) as stream:
            return stream.read(limit + 1)[:limit]

    def locate(self, name: str) -> tuple[str, int, int] | None:
        """(file path, offset, length) where ``name``'s bytes lie as-is on disk, or None (compressed
        archive…); lets a child process read a blob without this process streaming it."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the tree holds."""


class DirTree(FileTree):
    """Files under a directory; paths that resolve outside it are refused."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.label = str(root)

    def _path(self, name: str) -> Path:
        path = (self.root / safe_name(name, self.label)).resolve()
        if not path.is_relative_to(self.root):
            raise SourceError(f"{self.label}: {name!r} resolves outside the layout")
        return path

    def exists(self, name: str) -> bool:
        """Whether a regular file ``name`` exists under the root."""
        return self._path(name).is_file()

    def size(self, name: str) -> int:
        """Size in bytes of ``name``."""
        path = self._path(name)
        if not path.is_file():
            raise SourceError(f"{self.label}: missing {name}")
        return path.stat().st_size

    def locate(self, name: str) -> tuple[str, int, int] | None:
        """The resolved file itself."""
        path = self._path(name)
        return (str(path), 0, path.stat().st_size) if path.is_file() else None

    def open(self, name: str) -> BinaryIO:
        """A fresh file handle on ``name``."""
        path = self._path(name)
        if not path.is_file():
            raise SourceError(f"{self.label}: missing {name}")
        return path.open("rb")


class _MemberStream(io.RawIOBase):
    """A tar member's bytes; closing it closes the private TarFile it came from."""

    def __init__(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        self._tar = tar
        inner = tar.extractfile(member)
        if inner is None:
            tar.close()
            raise SourceError(f"archive member {member.name} is not a regular file")
        self._inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(b))
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._inner.close()
            self._tar.close()
        finally:
            super().close()


class TarTree(FileTree):
    """Files inside a tar (plain or compressed) read in place by random access; never extracted."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)
        self._members: dict[str, tarfile.TarInfo] = {}
        with path.open("rb") as fh:
            magic = fh.read(4)
        # Member offsets are file offsets only when the archive itself is not compressed.
        self._plain = not (magic[:2] == b"\x1f\x8b" or magic[:3] == b"BZh" or magic[:4] == b"\x28\xb5\x2f\xfd"
                           or magic[:4] == b"\xfd7zX")
        try:
            with tarfile.open(path, "r:*") as tar:
                for count, member in enumerate(tar):
                    if count >= MAX_MEMBERS:
                        raise SourceError(f"{path}: more than {MAX_MEMBERS} archive members")
                    name = safe_name(member.name, f"{path}: archive member")
                    if name != ".":
                        self._members[name] = member
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise SourceError(f"{path}: not a readable tar archive: {exc}") from exc

    def _resolve(self, name: str) -> tarfile.TarInfo:
        name = safe_name(name, self.label)
        for _ in range(_MAX_LINK_HOPS):
            member = self._members.get(name)
            if member is None:
                raise SourceError(f"{self.label}: missing {name}")
            if member.isfile():
                return member
            if member.issym():
                # docker save links duplicate layers as ../<id>/layer.tar: relative to the link's folder.
                if member.linkname.startswith("/"):
                    raise SourceError(f"{self.label}: {name} links to absolute path {member.linkname!r}")
                name = safe_name(posixpath.join(posixpath.dirname(name), member.linkname), self.label)
            elif member.islnk():
                name = safe_name(member.linkname, self.label)
            else:
                raise SourceError(f"{self.label}: {name} is not a regular file")
        raise SourceError(f"{self.label}: too many links resolving {name}")

    def exists(self, name: str) -> bool:
        """Whether ``name`` is (or links to) a regular file in the archive."""
        try:
            self._resolve(name)
        except SourceError:
            return False
        return True

    def size(self, name: str) -> int:
        """Size in bytes of ``name``."""
        return self._resolve(name).size

    def locate(self, name: str) -> tuple[str, int, int] | None:
        """The member's data range in an uncompressed archive (None for compressed ones)."""
        if not self._plain:
            return None
        member = self._resolve(name)
        return (str(self.path), member.offset_data, member.size)

    def open(self, name: str) -> BinaryIO:
        """A stream of ``name``; each has its own file handle so several can be read at once."""
        member = self._resolve(name)
        try:
            tar = tarfile.open(self.path, "r:*")  # noqa: SIM115 - the returned stream closes it
        except (tarfile.TarError, OSError) as exc:
            raise SourceError(f"{self.label}: cannot reopen archive: {exc}") from exc
        return io.BufferedReader(_MemberStream(tar, member), buffer_size=1024 * 1024)


def open_tree(path: Path) -> FileTree:
    """A directory as a :class:`DirTree`, a file as a :class:`TarTree`."""
    if path.is_dir():
        return DirTree(path)
    if path.is_file():
        return TarTree(path)
    raise SourceError(f"{path}: no such file or directory")
