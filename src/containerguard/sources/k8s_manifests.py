"""Kubernetes objects from manifest files: multi-document YAML, JSON, ``List`` kinds, kubectl dumps.

Each YAML document is parsed on its own so that one broken document is recorded as a
:class:`K8sSkipped` (with its line) while the rest of the file is still read. A line that starts
with ``---`` or ``...`` always separates documents in YAML (such a line cannot occur inside a
scalar), so splitting the text on those lines is faithful to the spec and lets every document keep
its absolute line numbers. Objects keep the line of their first key; items of a ``List`` (``kubectl
get -o yaml|json``) keep the line of their own entry.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from containerguard.errors import SourceError
from containerguard.lazy import lazy_module
from containerguard.models.k8s import K8sCollected, K8sObject, K8sSkipped

if TYPE_CHECKING:
    import yaml
else:  # imported when manifests are read: every source module is loaded to resolve an image REF
    yaml = lazy_module("yaml")

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Largest manifest file read; bigger ones are skipped (a manifest set is text, not a data dump)."""
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
"""Files picked up when a folder is given (a file named explicitly is read whatever its name)."""

_SEPARATOR = re.compile(r"^(---|\.\.\.)(\s|$)")


@cache
def _loader_class() -> Any:
    """Safe loading (libyaml when available) that keeps timestamps as the strings they were.

    Kubernetes decodes YAML into JSON types, so ``creationTimestamp: 2024-01-01T00:00:00Z`` is a
    string there; PyYAML would make it a ``datetime`` and break JSON reports."""
    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc]
        pass

    Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))
    return Loader


def read_paths(paths: Sequence[str], stdin: BinaryIO | None = None) -> K8sCollected:
    """Every object in ``paths``: files, folders (recursively: ``*.yaml``, ``*.yml``, ``*.json``)
    and ``-`` for standard input. A path that does not exist is a :class:`SourceError`; anything
    wrong inside a file becomes a :class:`K8sSkipped` and the rest is still read."""
    objects: list[K8sObject] = []
    skipped: list[K8sSkipped] = []
    for source, data in _inputs(paths, stdin, skipped):
        found, bad = parse_bytes(data, source)
        objects.extend(found)
        skipped.extend(bad)
    return K8sCollected(tuple(objects), tuple(skipped))


def _inputs(paths: Sequence[str], stdin: BinaryIO | None,
            skipped: list[K8sSkipped]) -> Iterator[tuple[str, bytes]]:
    for raw in paths:
        if raw == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            yield "-", stream.read(MAX_FILE_BYTES + 1)
            continue
        path = Path(raw)
        if path.is_dir():
            for file in _walk(path):
                data = _read(file, skipped)
                if data is not None:
                    yield str(file), data
        elif path.exists():
            data = _read(path, skipped)
            if data is not None:
                yield raw, data
        else:
            raise SourceError(f"{raw}: no such file or directory")


def _walk(root: Path) -> Iterator[Path]:
    # Symlinked folders are not followed (no loops); files are sorted so reports are stable.
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith(MANIFEST_SUFFIXES):
                yield Path(folder) / name


def _read(path: Path, skipped: list[K8sSkipped]) -> bytes | None:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            skipped.append(K8sSkipped(str(path), f"larger than {MAX_FILE_BYTES} bytes"))
            return None
        return path.read_bytes()
    except OSError as exc:
        skipped.append(K8sSkipped(str(path), f"cannot read: {exc.strerror or exc}"))
        return None


def _decode(data: bytes) -> str:
    # PowerShell's `kubectl get -o json > file` writes UTF-16 with a BOM; everything else is UTF-8.
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def parse_bytes(data: bytes, source: str) -> tuple[list[K8sObject], list[K8sSkipped]]:
    """The objects in one file's bytes, and the documents that could not be used."""
    if len(data) > MAX_FILE_BYTES:
        return [], [K8sSkipped(source, f"larger than {MAX_FILE_BYTES} bytes")]
    try:
        text = _decode(data)
    except UnicodeDecodeError as exc:
        return [], [K8sSkipped(source, f"not UTF-8 or UTF-16 text ({exc.reason} at byte {exc.start})")]
    return parse_text(text, source)


def parse_text(text: str, source: str) -> tuple[list[K8sObject], list[K8sSkipped]]:
    """The objects in one manifest text (YAML stream or JSON), and the documents that could not be used."""
    objects: list[K8sObject] = []
    skipped: list[K8sSkipped] = []
    for offset, chunk in _documents(text):
        _parse_document(chunk, offset, source, objects, skipped)
    return objects, skipped


def _documents(text: str) -> Iterator[tuple[int, str]]:
    """(0-based line offset, text) of each YAML document; separator lines stay with their document."""
    lines = text.splitlines(keepends=True)
    start = 0
    for i, line in enumerate(lines):
        if line.startswith(("---", "...")) and _SEPARATOR.match(line):
            if line.startswith("---"):
                if i > start:
                    yield start, "".join(lines[start:i])
                start = i
            else:
                yield start, "".join(lines[start:i + 1])
                start = i + 1
    if start < len(lines):
        yield start, "".join(lines[start:])


def _parse_document(chunk: str, offset: int, source: str, objects: list[K8sObject],
                    skipped: list[K8sSkipped]) -> None:
    if not chunk.strip():
        return
    loader = _loader_class()(chunk)
    try:
        node = loader.get_single_node()
        if node is None:
            return
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        data, node = _json_fallback(chunk)
        if data is None:
            mark = exc.problem_mark or exc.context_mark
            line = offset + mark.line + 1 if mark is not None else offset + 1
            problem = exc.problem or exc.context or "syntax error"
            skipped.append(K8sSkipped(source, f"invalid YAML: {problem} (line {line})", _first_line(chunk, offset)))
            return
    except (yaml.YAMLError, RecursionError) as exc:
        skipped.append(K8sSkipped(source, f"invalid YAML: {exc}", _first_line(chunk, offset)))
        return
    finally:
        loader.dispose()
    line = offset + node.start_mark.line + 1 if node is not None else _first_line(chunk, offset)
    _collect(data, node, source, line, offset, objects, skipped)


def _json_fallback(chunk: str) -> tuple[Any, None]:
    # A few valid JSON texts are not YAML 1.1 (e.g. the "\/" escape); lines are then per document.
    if not chunk.lstrip().startswith(("{", "[")):
        return None, None
    try:
        return json.loads(chunk), None
    except ValueError:
        return None, None


def _first_line(chunk: str, offset: int) -> int:
    for i, line in enumerate(chunk.splitlines()):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and not _SEPARATOR.match(line):
            return offset + i + 1
    return offset + 1


def _collect(data: Any, node: yaml.Node | None, source: str, line: int, offset: int,
             objects: list[K8sObject], skipped: list[K8sSkipped], list_kind: tuple[str, str] | None = None) -> None:
    if data is None:
        return
    if not isinstance(data, dict):
        skipped.append(K8sSkipped(source, f"document is a {type(data).__name__}, not a Kubernetes object", line))
        return
    kind, api_version = data.get("kind"), data.get("apiVersion")
    if list_kind is not None and not kind:
        # Items of a typed list straight from the API (DeploymentList…) carry no kind/apiVersion.
        kind, api_version = list_kind
        data = {"apiVersion": api_version, "kind": kind, **data}
    items = data.get("items")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
        item_kind = (kind[:-4], str(api_version or "")) if kind != "List" else None
        item_lines = list(_item_lines(node, offset))
        for i, item in enumerate(items):
            item_line = item_lines[i] if i < len(item_lines) else line
            _collect(item, None, source, item_line, offset, objects, skipped, item_kind)
        return
    if not isinstance(kind, str) or not kind or not isinstance(api_version, str) or not api_version:
        skipped.append(K8sSkipped(source, "no apiVersion/kind: not a Kubernetes object", line))
        return
    meta = data.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    name = meta.get("name") or (f"{meta['generateName']}*" if meta.get("generateName") else "")
    objects.append(K8sObject(kind=kind, api_version=api_version, namespace=str(meta.get("namespace") or ""),
                             name=str(name or "(unnamed)"), raw=data, source=source, line=line))


def _item_lines(node: yaml.Node | None, offset: int) -> Iterable[int]:
    if not isinstance(node, yaml.MappingNode):
        return ()
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "items" and isinstance(value, yaml.SequenceNode):
            return [offset + child.start_mark.line + 1 for child in value.value]
    return ()


def objects_from_mapping(data: Mapping[str, Any], source: str) -> tuple[list[K8sObject], list[K8sSkipped]]:
    """Objects from already-decoded JSON (an API list response or one object); no line numbers."""
    objects: list[K8sObject] = []
    skipped: list[K8sSkipped] = []
    _collect(dict(data), None, source, 0, 0, objects, skipped)
    return objects, skipped
