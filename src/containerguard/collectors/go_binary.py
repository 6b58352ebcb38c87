"""Go binaries: the modules compiled in, read from the ``\\xff Go buildinf:`` blob.

The layout follows Go's ``debug/buildinfo``: a 32-byte header (magic, pointer size, flags) is
followed either by the version and module strings inline, varint-length-prefixed (Go 1.18+,
flag bit 2), or by two pointers to Go string headers (older Go), which we resolve through the ELF
program headers with pyelftools. The module text is ``runtime/debug.BuildInfo``'s ``path``/``mod``/
``dep``/``=>`` lines between two 16-byte sentinels.

What is reported:

- every ``dep`` module, with a ``=>`` replacement honoured (the replacement's path and version; a
  local directory replacement keeps the required module path with an empty version, since the
  code came from a directory, not from that release);
- the main module (``mod``); Go before 1.24 always stamps it ``(devel)``, which is kept as-is
  (unlike Trivy, which drops it) so the inventory says what the binary says; matchers treat it as
  an unknown version;
- ``stdlib`` at the toolchain version in module form: ``go1.19.8`` -> ``v1.19.8``, ``go1.20`` ->
  ``v1.20.0``, ``go1.21rc2`` -> ``v1.21.0-rc.2``. This is what Trivy reports and the same ``v``
  form every other Go module version has; OSV's Go ranges (``"fixed": "1.16.1"``) are the same
  semver without the ``v``, which the Go version comparator strips for all modules alike.
"""

from __future__ import annotations

import io
import re
import struct

from packageurl import PackageURL

from containerguard.collectors.base import Collector, FileInfo
from containerguard.errors import CollectError
from containerguard.models.sbom import Collected, Location, Package
from containerguard.registry import register

MAGIC = b"\xff Go buildinf:"
_HEADER = 32
_FLAG_BIG_ENDIAN = 1
_FLAG_INLINE = 2
_MIN_SIZE = 64 * 1024
"""Smaller executables are not Go programs (a stripped hello world is over 1 MB)."""
_MAX_STRING = 16 * 1024 * 1024
_BINARY_MAGICS = (b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
                  b"\xcf\xfa\xed\xfe", b"MZ")
_NOT_BINARY = frozenset((
    ".py", ".pyc", ".sh", ".bash", ".pl", ".pm", ".rb", ".js", ".mjs", ".php", ".lua", ".tcl",
    ".txt", ".md", ".json", ".xml", ".html", ".yaml", ".yml", ".conf", ".cfg", ".ini", ".pem",
    ".crt", ".jar", ".zip", ".gz", ".xz", ".bz2", ".tar", ".png", ".jpg", ".gif", ".svg", ".a",
    ".o", ".h", ".c", ".go", ".java", ".class",
))
_GO_TAG = re.compile(r"^go(\d+)\.(\d+)(?:\.(\d+))?(?:(beta|rc)(\d+))?$")


def plausible_binary_path(path: str) -> bool:
    """False for names that say script or data (``.py``, ``.sh``, ``.json`` …); a cheap pre-filter."""
    base = path.rsplit("/", 1)[-1]
    dot = base.rfind(".")
    return dot <= 0 or base[dot:].lower() not in _NOT_BINARY


def looks_like_binary(content: bytes) -> bool:
    """ELF, Mach-O or PE magic at the start."""
    return content[:4] in _BINARY_MAGICS or content[:2] == b"MZ"


def _uvarint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise CollectError("Go build info: truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _inline_string(data: bytes, pos: int) -> tuple[bytes, int]:
    length, pos = _uvarint(data, pos)
    if length > _MAX_STRING or pos + length > len(data):
        raise CollectError("Go build info: string runs past the end of the file")
    return data[pos:pos + length], pos + length


class _ElfMemory:
    """Reads virtual addresses of an ELF file through its PT_LOAD segments."""

    def __init__(self, content: bytes) -> None:
        # pyelftools is imported on the first Go binary, not at start-up (most scans find none).
        from elftools.common.exceptions import ELFError
        from elftools.elf.elffile import ELFFile

        try:
            elf = ELFFile(io.BytesIO(content))
            self.segments = [(seg["p_vaddr"], seg["p_offset"], seg["p_filesz"])
                             for seg in elf.iter_segments() if seg["p_type"] == "PT_LOAD"]
        except (ELFError, struct.error, ValueError) as exc:
            raise CollectError(f"Go build info: cannot read ELF headers ({exc})") from exc
        self.content = content

    def read(self, addr: int, size: int) -> bytes:
        for vaddr, offset, filesz in self.segments:
            if vaddr <= addr and addr + size <= vaddr + filesz:
                start = offset + addr - vaddr
                chunk = self.content[start:start + size]
                if len(chunk) == size:
                    return chunk
        raise CollectError(f"Go build info: address {addr:#x} is not in the file")


def _pointer_strings(content: bytes, pos: int, ptr_size: int, big: bool) -> tuple[bytes, bytes]:
    """Pre-1.18 layout: two pointers to Go string headers ({data pointer, length})."""
    if not content.startswith(b"\x7fELF"):
        raise CollectError("Go build info: pointer-format build info is only read from ELF files")
    if ptr_size not in (4, 8):
        raise CollectError(f"Go build info: bad pointer size {ptr_size}")
    fmt = (">" if big else "<") + ("Q" if ptr_size == 8 else "I")
    memory = _ElfMemory(content)

    def read_ptr(raw: bytes) -> int:
        return int(struct.unpack(fmt, raw)[0])

    def read_string(header_addr: int) -> bytes:
        header = memory.read(header_addr, 2 * ptr_size)
        data_addr, length = read_ptr(header[:ptr_size]), read_ptr(header[ptr_size:])
        if length == 0:
            return b""
        if length > _MAX_STRING:
            raise CollectError("Go build info: string too long")
        return memory.read(data_addr, length)

    head = content[pos + 16:pos + 16 + 2 * ptr_size]
    if len(head) != 2 * ptr_size:
        raise CollectError("Go build info: truncated header")
    return read_string(read_ptr(head[:ptr_size])), read_string(read_ptr(head[ptr_size:]))


def _decode_at(content: bytes, pos: int) -> tuple[str, str]:
    header = content[pos:pos + _HEADER]
    if len(header) < _HEADER:
        raise CollectError("Go build info: truncated header")
    ptr_size, flags = header[14], header[15]
    if flags & _FLAG_INLINE:
        version, nxt = _inline_string(content, pos + _HEADER)
        modinfo, _ = _inline_string(content, nxt)
    else:
        version, modinfo = _pointer_strings(content, pos, ptr_size, bool(flags & _FLAG_BIG_ENDIAN))
    if not (version.startswith(b"go") or version.startswith(b"devel")):
        raise CollectError(f"Go build info: {version[:40]!r} is not a Go version")
    # The module text is framed by two 16-byte (binary) sentinels; without them it is not trusted.
    framed = len(modinfo) >= 33 and modinfo[-17:-16] == b"\n"
    text = modinfo[16:-16].decode("utf-8", errors="replace") if framed else ""
    return version.decode("utf-8", errors="replace"), text


def read_build_info(content: bytes) -> tuple[str, str] | None:
    """(Go version, module text without sentinels) or None when the file has no Go build info.

    The blob is 16-byte aligned; programs importing ``debug/buildinfo`` also carry the magic as
    a string constant, so every aligned occurrence is tried until one decodes.
    """
    error: CollectError | None = None
    pos = content.find(MAGIC)
    tries = 0
    while pos >= 0 and tries < 16:
        if pos % 16 == 0:
            tries += 1
            try:
                return _decode_at(content, pos)
            except CollectError as exc:
                error = error or exc
        pos = content.find(MAGIC, pos + 1)
    if error is not None:
        raise error
    return None


def stdlib_version(go_version: str) -> str | None:
    """``go1.19.8`` -> ``v1.19.8`` (module semver form); None for devel or unknown toolchains."""
    tag = go_version.strip().split(" ", 1)[0]  # "go1.19.8 X:boringcrypto"
    match = _GO_TAG.match(tag)
    if not match:
        return None
    major, minor, patch, pre, pre_n = match.groups()
    version = f"v{major}.{minor}.{patch or 0}"
    return f"{version}-{pre}.{pre_n}" if pre else version


def parse_modinfo(modinfo: str) -> tuple[tuple[str, str] | None, list[tuple[str, str]]]:
    """(main module, deps) as (path, version); replacements applied."""
    main: tuple[str, str] | None = None
    deps: list[tuple[str, str]] = []
    last_dep = -1
    for line in modinfo.splitlines():
        fields = line.split("\t")
        kind, rest = fields[0], [f for f in fields[1:] if f]
        if kind == "mod" and rest:
            main = (rest[0], rest[1] if len(rest) > 1 else "")
            last_dep = -1
        elif kind == "dep" and rest:
            deps.append((rest[0], rest[1] if len(rest) > 1 else ""))
            last_dep = len(deps) - 1
        elif kind == "=>":
            if not rest or last_dep < 0:
                last_dep = -1  # a replacement belongs to the dep line right above it, once
                continue
            local = rest[0].startswith((".", "/")) or len(rest) < 2 or rest[1] == "(devel)"
            if not local:
                deps[last_dep] = (rest[0], rest[1])
            else:
                # Local directory replacement: the module, but no released version.
                deps[last_dep] = (deps[last_dep][0], "")
            last_dep = -1
    return main, deps


def golang_package(path: str, version: str, locations: tuple[Location, ...]) -> Package:
    """A golang package; namespace is the module path up to its last ``/`` (purl rules)."""
    namespace, _, name = path.rpartition("/")
    purl = PackageURL(type="golang", namespace=namespace or None, name=name, version=version or None)
    return Package(type="golang", name=name, namespace=namespace, version=version,
                   locations=locations, purl=purl.to_string())


@register("collector")
class GoBinaryCollector(Collector):
    """Modules and toolchain of Go executables."""

    name = "gobinary"
    version = 1
    ecosystems = ("golang",)

    def required(self, info: FileInfo) -> bool:
        """Executables large enough to be Go programs, minus obvious scripts and data files."""
        return info.executable and info.size >= _MIN_SIZE and plausible_binary_path(info.path)

    def collect(self, info: FileInfo, content: bytes) -> Collected:
        """The modules of one Go binary; nothing for other files."""
        if not looks_like_binary(content):
            return Collected()
        found = read_build_info(content)
        if found is None:
            return Collected()
        go_version, modinfo = found
        main, deps = parse_modinfo(modinfo)
        locations = self.location(info)
        packages: list[Package] = []
        if main is not None:
            packages.append(golang_package(main[0], main[1], locations))
        seen: set[tuple[str, str]] = set()
        for path, version in deps:
            if path and (path, version) not in seen:
                seen.add((path, version))
                packages.append(golang_package(path, version, locations))
        stdlib = stdlib_version(go_version)
        if stdlib:
            packages.append(golang_package("stdlib", stdlib, locations))
        return self.packages(packages)
