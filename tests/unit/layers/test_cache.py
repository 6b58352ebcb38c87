"""Layer cache: round trip, keys include collector versions, damaged entries are misses."""

from __future__ import annotations

from pathlib import Path

from containerguard.layers.cache import LayerCache
from containerguard.models.layer import FileResult, LayerInventory
from containerguard.models.sbom import Collected, Distro, Location, Package, Skipped

INV = LayerInventory(
    diff_id="sha256:" + "ab" * 32,
    files=(FileResult("var/lib/dpkg/status", "dpkg", Collected(packages=(
        Package("deb", "bash", "5.2.15-2+b2", arch="amd64", source_name="bash", source_version="5.2.15-2",
                locations=(Location("/var/lib/dpkg/status", "sha256:" + "ab" * 32),)),))),
           FileResult("etc/os-release", "os-release", Collected(distro=Distro("debian", "12", codename="bookworm"))),
           FileResult("x.jar", "java", Collected(skipped=(Skipped("/x.jar", "zip bomb", "sha256:x"),)))),
    whiteouts=("usr/lib/python3/foo",), opaque_dirs=("opt/app",), entries=10, bytes=1234)


def test_round_trip(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path, "dpkg@1")
    assert cache.get(INV.diff_id) is None
    cache.put(INV)
    assert cache.get(INV.diff_id) == INV


def test_collector_versions_are_part_of_the_key(tmp_path: Path) -> None:
    LayerCache(tmp_path, "dpkg@1").put(INV)
    assert LayerCache(tmp_path, "dpkg@2").get(INV.diff_id) is None


def test_damaged_entry_is_a_miss_and_is_removed(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path, "k")
    cache.put(INV)
    (entry,) = tmp_path.rglob("*.json")
    entry.write_text("{not json")
    assert cache.get(INV.diff_id) is None
    assert not entry.exists()


def test_non_content_addressed_layers_are_not_cached(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path, "k")
    cache.put(LayerInventory("dir:abc", ()))
    assert cache.get("dir:abc") is None
    assert not list(tmp_path.rglob("*.json"))
