"""The layer cache: per-layer inventories keyed by diff_id + collector versions."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from containerguard.models.layer import LayerInventory
from containerguard.models.serde import layer_from_dict, layer_to_dict

WALKER_VERSION = 1


class LayerCache:
    """A folder of JSON files, one per (layer, collector set); written atomically."""

    def __init__(self, root: Path, collectors_key: str) -> None:
        self.root = root
        self.salt = f"walker@{WALKER_VERSION};{collectors_key}"

    def _path(self, diff_id: str) -> Path:
        key = hashlib.sha256(f"{diff_id};{self.salt}".encode()).hexdigest()
        return self.root / key[:2] / f"{key}.json"

    def get(self, diff_id: str) -> LayerInventory | None:
        """The cached inventory of a layer, or None (a damaged entry counts as a miss)."""
        if not diff_id.startswith("sha256:"):
            return None
        path = self._path(diff_id)
        try:
            data = json.loads(path.read_text())
            return layer_from_dict(data)
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
            return None

    def put(self, inventory: LayerInventory) -> None:
        """Store a layer inventory (only for content-addressed layers)."""
        if not inventory.diff_id.startswith("sha256:"):
            return
        path = self._path(inventory.diff_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(layer_to_dict(inventory), fh, separators=(",", ":"))
        os.replace(tmp, path)
