"""Layer walker: compression, whiteouts, hostile entries and limits."""

from __future__ import annotations

import io
from typing import ClassVar

import pytest
from layertar import gz, make_tar, zst

from containerguard.collectors.base import Collector, FileInfo
from containerguard.config import Limits
from containerguard.errors import LayerError
from containerguard.layers.squash import squash
from containerguard.layers.walker import LayerWalker
from containerguard.models.sbom import Collected, Package


class EchoCollector(Collector):
    """Reports one package per file under opt/pkgs/, named after the file, version = content."""

    name: ClassVar[str] = "echo"

    def required(self, info: FileInfo) -> bool:
        return info.path.startswith("opt/pkgs/")

    def collect(self, info: FileInfo, content: bytes) -> Collected:
        name = info.path.rsplit("/", 1)[-1]
        return self.packages([Package("generic", name, content.decode(), locations=self.location(info))])


def walker(**limits: int) -> LayerWalker:
    return LayerWalker([EchoCollector()], Limits(**limits))


def names(inv_files: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return sorted((p.name, p.version) for f in inv_files for p in f.result.collected.packages)


LAYER = [("opt", None), ("opt/pkgs", None), ("./opt/pkgs/a", "1.0"), ("/opt/pkgs/b", "2.0"), ("etc/x", "nope")]


@pytest.mark.parametrize("codec", [lambda b: b, gz, zst], ids=["tar", "gzip", "zstd"])
def test_reads_every_compression(codec) -> None:  # type: ignore[no-untyped-def]
    inv = walker().walk_blob(io.BytesIO(codec(make_tar(LAYER))), "sha256:l1")
    assert sorted((f.path, f.collector) for f in inv.files) == [("opt/pkgs/a", "echo"), ("opt/pkgs/b", "echo")]
    pkg = inv.files[0].collected.packages[0]
    assert pkg.locations[0].layer_digest == "sha256:l1"
    assert pkg.locations[0].path == "/opt/pkgs/a"


def test_whiteouts_and_opaque_dirs_hide_lower_files() -> None:
    w = walker()
    lower = w.walk_blob(io.BytesIO(make_tar([*LAYER, ("opt/other/c", "3.0"), ("opt/pkgs/sub/d", "4")])), "sha256:l1")
    upper = w.walk_blob(io.BytesIO(make_tar([("opt/pkgs/.wh.a", b""), ("opt/pkgs/sub/.wh..wh..opq", b""),
                                             ("opt/pkgs/sub/e", "5")])), "sha256:l2")
    assert upper.whiteouts == ("opt/pkgs/a",)
    assert upper.opaque_dirs == ("opt/pkgs/sub",)
    view = squash([lower, upper])
    assert names(view) == [("b", "2.0"), ("e", "5")]
    assert {f.layer for f in view} == {"sha256:l1", "sha256:l2"}


def test_whiteout_of_a_directory_removes_everything_below() -> None:
    w = walker()
    lower = w.walk_blob(io.BytesIO(make_tar([("opt/pkgs/x/y", "1"), ("opt/pkgs/z", "2")])), "sha256:l1")
    upper = w.walk_blob(io.BytesIO(make_tar([("opt/pkgs/.wh.x", b"")])), "sha256:l2")
    assert names(squash([lower, upper])) == [("z", "2")]


def test_upper_layer_rewrite_replaces_lower_result() -> None:
    w = walker()
    lower = w.walk_blob(io.BytesIO(make_tar([("opt/pkgs/a", "1.0")])), "sha256:l1")
    upper = w.walk_blob(io.BytesIO(make_tar([("opt/pkgs/a", "1.1")])), "sha256:l2")
    view = squash([lower, upper])
    assert names(view) == [("a", "1.1")]
    assert view[0].layer == "sha256:l2"


@pytest.mark.parametrize("name", ["../etc/passwd", "opt/../../x", "./../../root/.ssh/authorized_keys"])
def test_entries_escaping_the_root_are_refused(name: str) -> None:
    with pytest.raises(LayerError, match="escapes the image root"):
        walker().walk_blob(io.BytesIO(make_tar([(name, "x")])), "sha256:bad")


def test_hardlink_escaping_the_root_is_refused() -> None:
    with pytest.raises(LayerError, match="escapes"):
        walker().walk_blob(io.BytesIO(make_tar([("opt/pkgs/a", "=>../../etc/shadow")])), "sha256:bad")


def test_symlinks_are_never_followed() -> None:
    # A link out of the image, then a file "through" it: only tar entries are read, nothing resolved.
    data = make_tar([("opt/pkgs", "->/etc"), ("opt/pkgs/passwd", "1")])
    inv = walker().walk_blob(io.BytesIO(data), "sha256:l")
    assert [f.path for f in inv.files] == ["opt/pkgs/passwd"]


def test_hardlink_to_a_read_file_reuses_its_content() -> None:
    inv = walker().walk_blob(io.BytesIO(make_tar([("opt/pkgs/a", "1.0"), ("opt/pkgs/b", "=>opt/pkgs/a")])),
                             "sha256:l")
    assert names([type("F", (), {"result": f}) for f in inv.files]) == [("a", "1.0"), ("b", "1.0")]


def test_file_over_the_limit_stops_the_scan() -> None:
    with pytest.raises(LayerError, match="over the"):
        walker(max_file_bytes=10).walk_blob(io.BytesIO(make_tar([("big", b"x" * 100)])), "sha256:l")


def test_layer_over_the_limit_stops_the_scan() -> None:
    data = make_tar([(f"f{i}", b"x" * 5000) for i in range(10)])
    with pytest.raises(LayerError, match="size limit"):
        walker(max_layer_bytes=20000).walk_blob(io.BytesIO(gz(data)), "sha256:l")


def test_decompression_bomb_ratio_stops_the_scan() -> None:
    bomb = gz(make_tar([("zeros", b"\0" * (80 * 1024 * 1024))]))
    with pytest.raises(LayerError, match="decompression bomb"):
        walker(max_ratio=100).walk_blob(io.BytesIO(bomb), "sha256:bomb")


def test_too_many_entries_stops_the_scan() -> None:
    with pytest.raises(LayerError, match="entries"):
        walker(max_entries=3).walk_blob(io.BytesIO(make_tar([(f"f{i}", "") for i in range(5)])), "sha256:l")


@pytest.mark.parametrize("cut", [700, 1500, -30])
def test_truncated_layers_give_a_clear_error(cut: int) -> None:
    data = gz(make_tar([*LAYER, ("opt/pkgs/c", bytes(range(256)) * 16 + __import__("os").urandom(4000))]))
    with pytest.raises(LayerError, match="truncated or corrupt"):
        walker().walk_blob(io.BytesIO(data[:cut]), "sha256:cut")


def test_garbage_layer_gives_a_clear_error() -> None:
    with pytest.raises(LayerError):
        walker().walk_blob(io.BytesIO(b"\x1f\x8bthis is not gzip at all" * 10), "sha256:junk")


def test_collector_crash_on_hostile_bytes_becomes_skipped() -> None:
    class Fragile(EchoCollector):
        name: ClassVar[str] = "fragile"

        def collect(self, info: FileInfo, content: bytes) -> Collected:
            raise ValueError("bad bytes")

    inv = LayerWalker([Fragile()], Limits()).walk_blob(io.BytesIO(make_tar([("opt/pkgs/a", "1")])), "sha256:l")
    assert inv.files[0].collected.skipped[0].reason.startswith("fragile: unparseable")


def test_hardlink_to_content_past_the_keep_budget_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("containerguard.layers.walker.KEEP_FOR_LINKS_BYTES", 10)
    layer = make_tar([("opt/pkgs/a", "1.0"), ("opt/pkgs/b", "2.0.0.0"), ("opt/pkgs/c", "3.0"),
                      ("opt/pkgs/la", "=>opt/pkgs/a"), ("opt/pkgs/lc", "=>opt/pkgs/c")])
    inv = walker().walk_blob(io.BytesIO(layer), "sha256:l")
    found = {(p.name, p.version) for f in inv.files for p in f.collected.packages}
    assert found == {("a", "1.0"), ("b", "2.0.0.0"), ("c", "3.0"), ("lc", "3.0")}  # c is recent enough
    (skip,) = [s for f in inv.files for s in f.collected.skipped]
    assert skip.path == "/opt/pkgs/la" and "not kept" in skip.reason
