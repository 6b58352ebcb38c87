"""Build the benchmark image as an OCI layout (cached): about 1 GB uncompressed of real files.

Layers: the debootstrap'd Debian bookworm minbase rootfs, a bulk layer of this machine's own
libraries and shared data (real ELF, Python and text files), and the project's venv site-packages
(real dist-info metadata). A second tag adds one small layer on top, to measure shared-layer rescans.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

from isal import igzip

BULK_DIRS = ["/usr/lib/go-1.19", "/usr/lib/jvm", "/usr/bin", "/usr/lib/python3", "/usr/lib/x86_64-linux-gnu",
             "/usr/share", "/usr/lib/gcc", "/usr/libexec"]
BULK_LIMIT = 800 * 1024 * 1024


class _HashWriter(io.RawIOBase):
    def __init__(self, fh: io.BufferedWriter) -> None:
        self.fh, self.hash, self.size = fh, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.hash.update(b)
        self.size += len(b)
        self.fh.write(b)
        return len(b)


def _layer(blobs: Path, fill: callable) -> tuple[str, str, int]:  # type: ignore[valid-type]
    """Write one gzip layer; returns (blob digest, diff_id, size)."""
    tmp = blobs / "tmp-layer"
    with open(tmp, "wb") as raw:
        outer = _HashWriter(raw)
        with igzip.IGzipFile(fileobj=outer, mode="wb", compresslevel=1) as gz:  # type: ignore[arg-type]
            inner = _HashWriter(gz)  # type: ignore[arg-type]
            with tarfile.open(fileobj=inner, mode="w|", format=tarfile.PAX_FORMAT) as tf:  # type: ignore[arg-type]
                fill(tf)
    digest = outer.hash.hexdigest()
    tmp.rename(blobs / digest)
    return f"sha256:{digest}", f"sha256:{inner.hash.hexdigest()}", outer.size


def _copy_tar(src: Path) -> callable:  # type: ignore[valid-type]
    def fill(tf: tarfile.TarFile) -> None:
        with tarfile.open(src) as source:
            for member in source:
                tf.addfile(member, source.extractfile(member) if member.isfile() else None)
    return fill


def _bulk(tf: tarfile.TarFile) -> None:
    total = 0
    for top in BULK_DIRS:
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if path.is_symlink() or not path.is_file():
                    continue
                size = path.stat().st_size
                if total + size > BULK_LIMIT:
                    return
                total += size
                tf.add(str(path), arcname="bulk" + str(path), recursive=False)


def _dir(src: Path, prefix: str) -> callable:  # type: ignore[valid-type]
    def fill(tf: tarfile.TarFile) -> None:
        tf.add(str(src), arcname=prefix)
    return fill


def _write_json(blobs: Path, doc: dict) -> tuple[str, int]:  # type: ignore[type-arg]
    data = json.dumps(doc).encode()
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return f"sha256:{digest}", len(data)


def build(out: Path, bookworm_tar: Path, site_packages: Path) -> Path:
    """Build (once) the layout at ``out`` with tags ``base`` and ``app``."""
    if (out / "index.json").exists():
        return out
    blobs = out / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    layers = [_layer(blobs, _copy_tar(bookworm_tar)), _layer(blobs, _bulk),
              _layer(blobs, _dir(site_packages, "usr/local/lib/python3.11/site-packages"))]
    extra = _layer(blobs, _dir(Path(__file__).parent, "app/bench"))
    manifests = []
    for tag, lays in (("base", layers), ("app", [*layers, extra])):
        config = {"architecture": "amd64", "os": "linux", "config": {},
                  "rootfs": {"type": "layers", "diff_ids": [d for _, d, _ in lays]},
                  "history": [{"created_by": f"bench layer {i}"} for i in range(len(lays))]}
        cdigest, csize = _write_json(blobs, config)
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdigest,
                               "size": csize},
                    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d,
                                "size": s} for d, _, s in lays]}
        mdigest, msize = _write_json(blobs, manifest)
        manifests.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": mdigest,
                          "size": msize, "annotations": {"org.opencontainers.image.ref.name": tag}})
    (out / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (out / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": manifests}))
    return out
