"""Plain-dict (JSON) round trips for the inventory models, used by the layer cache and SBOM readers."""

from __future__ import annotations

from typing import Any

from containerguard.models.layer import FileResult, LayerInventory
from containerguard.models.sbom import Collected, Distro, Location, Package, Skipped


def package_to_dict(p: Package) -> dict[str, Any]:
    """A JSON-ready dict of a package, omitting empty fields."""
    out: dict[str, Any] = {"type": p.type, "name": p.name, "version": p.version}
    for key in ("namespace", "arch", "source_name", "source_version", "release", "purl"):
        value = getattr(p, key)
        if value:
            out[key] = value
    if p.epoch is not None:
        out["epoch"] = p.epoch
    if p.licenses:
        out["licenses"] = list(p.licenses)
    if p.locations:
        out["locations"] = [[loc.path, loc.layer_digest] for loc in p.locations]
    if p.dev:
        out["dev"] = True
    return out


def package_from_dict(d: dict[str, Any]) -> Package:
    """Inverse of :func:`package_to_dict`."""
    return Package(
        type=d["type"], name=d["name"], version=d["version"], namespace=d.get("namespace", ""),
        arch=d.get("arch", ""), source_name=d.get("source_name", ""),
        source_version=d.get("source_version", ""), epoch=d.get("epoch"), release=d.get("release", ""),
        licenses=tuple(d.get("licenses", ())),
        locations=tuple(Location(path, layer) for path, layer in d.get("locations", ())),
        purl=d.get("purl", ""), dev=bool(d.get("dev", False)))


def distro_to_dict(d: Distro) -> dict[str, Any]:
    """A JSON-ready dict of a distro."""
    return {"id": d.id, "version_id": d.version_id, "name": d.name, "pretty_name": d.pretty_name,
            "codename": d.codename, "id_like": list(d.id_like), "distroless": d.distroless}


def distro_from_dict(d: dict[str, Any]) -> Distro:
    """Inverse of :func:`distro_to_dict`."""
    return Distro(id=d["id"], version_id=d.get("version_id", ""), name=d.get("name", ""),
                  pretty_name=d.get("pretty_name", ""), codename=d.get("codename", ""),
                  id_like=tuple(d.get("id_like", ())), distroless=bool(d.get("distroless", False)))


def collected_to_dict(c: Collected) -> dict[str, Any]:
    """A JSON-ready dict of one collector result."""
    out: dict[str, Any] = {}
    if c.packages:
        out["packages"] = [package_to_dict(p) for p in c.packages]
    if c.distro:
        out["distro"] = distro_to_dict(c.distro)
    if c.skipped:
        out["skipped"] = [[s.path, s.reason, s.layer_digest] for s in c.skipped]
    return out


def collected_from_dict(d: dict[str, Any]) -> Collected:
    """Inverse of :func:`collected_to_dict`."""
    return Collected(
        packages=tuple(package_from_dict(p) for p in d.get("packages", ())),
        distro=distro_from_dict(d["distro"]) if d.get("distro") else None,
        skipped=tuple(Skipped(*s) for s in d.get("skipped", ())))


def layer_to_dict(layer: LayerInventory) -> dict[str, Any]:
    """A JSON-ready dict of a layer inventory."""
    return {"diff_id": layer.diff_id, "whiteouts": list(layer.whiteouts),
            "opaque_dirs": list(layer.opaque_dirs), "entries": layer.entries, "bytes": layer.bytes,
            "files": [[f.path, f.collector, collected_to_dict(f.collected)] for f in layer.files]}


def layer_from_dict(d: dict[str, Any]) -> LayerInventory:
    """Inverse of :func:`layer_to_dict`."""
    return LayerInventory(
        diff_id=d["diff_id"], whiteouts=tuple(d["whiteouts"]), opaque_dirs=tuple(d["opaque_dirs"]),
        entries=d.get("entries", 0), bytes=d.get("bytes", 0),
        files=tuple(FileResult(p, c, collected_from_dict(r)) for p, c, r in d["files"]))
