"""Layer path normalisation: the fast path for already-normal paths agrees with normpath."""

from __future__ import annotations

import itertools
import posixpath

import pytest

from containerguard.errors import LayerError
from containerguard.layers.entries import _escapes, normalise


def reference(raw: str) -> str:
    """Normalisation done the long way, for every path."""
    p = raw.replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    p = p.lstrip("/")
    if not p or p == ".":
        return ""
    if _escapes(p):
        raise LayerError("escapes")
    norm = posixpath.normpath(p)
    return "" if norm == "." else norm


PARTS = ["usr", ".", "..", "", ".wh.x", "a.b", "..c", "x\\y", "...", "lib/"]


CASES = sorted({"/".join(c) for n in range(1, 4) for c in itertools.product(PARTS, repeat=n)}
               | {"./", "/", ".", "./etc/os-release", "//etc//x/", "etc/./x", "a/b/.."})


def test_normalise_agrees_with_normpath() -> None:
    for raw in CASES:
        try:
            want = reference(raw)
        except LayerError:
            with pytest.raises(LayerError, match="escapes the image root"):
                normalise(raw)
            continue
        assert normalise(raw) == want, raw
