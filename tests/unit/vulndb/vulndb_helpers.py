"""Shared helpers for the vulnerability-database tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FEEDS = (Path(__file__).parents[3] / "../shared/feeds").resolve()
FIXTURES = Path(__file__).parents[2] / "fixtures" / "vulndb"


def osv(record_id: str, modified: str = "2024-01-01T00:00:00Z", *, fixed: str = "1.0",
        ecosystem: str = "PyPI", name: str = "demo-pkg", **extra: Any) -> dict[str, Any]:
    """A small valid OSV record."""
    doc: dict[str, Any] = {
        "schema_version": "1.6.0", "id": record_id, "modified": modified,
        "affected": [{"package": {"ecosystem": ecosystem, "name": name},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}],
    }
    doc.update(extra)
    return doc


def write_json(path: Path, doc: Any) -> Path:
    """Write ``doc`` as JSON to ``path`` (creating folders)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path
