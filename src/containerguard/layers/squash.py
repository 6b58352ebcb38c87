"""Merge per-layer inventories bottom to top into the squashed view of the image."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from containerguard.models.layer import FileResult, LayerInventory


@dataclass(frozen=True)
class SquashedFile:
    """A file result that survives in the final filesystem, with its layer."""

    layer: str
    result: FileResult


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory + "/") or directory == ""


def squash(layers: Sequence[LayerInventory]) -> list[SquashedFile]:
    """Apply each layer's whiteouts, opaque dirs and new files over the ones below it.

    A file rewritten in an upper layer replaces every result the lower copy produced.
    """
    view: dict[str, list[SquashedFile]] = {}
    for layer in layers:
        for gone in layer.whiteouts:
            for path in [p for p in view if _under(p, gone)]:
                del view[path]
        for directory in layer.opaque_dirs:
            for path in [p for p in view if p != directory and _under(p, directory)]:
                del view[path]
        fresh: dict[str, list[SquashedFile]] = {}
        for result in layer.files:
            fresh.setdefault(result.path, []).append(SquashedFile(layer.diff_id, result))
        view.update(fresh)
    return [item for path in sorted(view) for item in view[path]]
