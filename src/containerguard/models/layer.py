"""Per-layer inventory: what each collector found in each file of one layer, and its deletions."""

from __future__ import annotations

from dataclasses import dataclass

from containerguard.models.sbom import Collected


@dataclass(frozen=True)
class FileResult:
    """What one collector found in one file of a layer."""

    path: str
    """Normalised path, no leading slash."""
    collector: str
    collected: Collected


@dataclass(frozen=True)
class LayerInventory:
    """Everything the walker learnt from one layer; cacheable by diff_id + collector versions."""

    diff_id: str
    files: tuple[FileResult, ...]
    whiteouts: tuple[str, ...] = ()
    """Paths this layer deletes from the layers below."""
    opaque_dirs: tuple[str, ...] = ()
    """Directories whose lower-layer contents this layer hides."""
    entries: int = 0
    bytes: int = 0
