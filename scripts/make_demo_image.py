#!/usr/bin/env python3
"""Write a small demo container image without a Docker daemon (pure Python: tarfile, json, hashlib).

The image looks like a Debian 12 application image with a few deliberately old packages:

* layer 1 (base): ``etc/os-release`` (Debian 12), ``var/lib/dpkg/status`` with real bookworm entries
  plus an old ``openssl``;
* layer 2 (app): Python dist-info directories (requests 2.19.0, urllib3 1.24.1, PyYAML 5.3) and an
  npm ``node_modules`` tree (lodash 4.17.4, minimist 1.2.0); it also deletes a package installed in
  layer 1 through an OCI whiteout, so a correct scanner must not report it.

Usage::

    scripts/make_demo_image.py OUT [--format oci|docker-archive] [--tag demo:latest]

``oci`` writes an OCI image layout directory (scan it as ``oci:OUT``), ``docker-archive`` a
``docker save``-style tar (``docker-archive:OUT``). The output is byte-for-byte reproducible.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import shutil
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

# A fixed timestamp keeps the blobs (and so the digests) identical between runs.
EPOCH = 1_700_000_000
CREATED = "2023-11-14T22:13:20Z"

OS_RELEASE = """\
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
"""


def _dpkg_entry(name: str, version: str, arch: str, source: str = "", depends: str = "") -> str:
    lines = [
        f"Package: {name}",
        "Status: install ok installed",
        "Priority: optional",
        "Section: libs",
        "Installed-Size: 100",
        "Maintainer: Debian Maintainers <debian@example.org>",
        f"Architecture: {arch}",
        "Multi-Arch: same" if arch != "all" else "Multi-Arch: foreign",
    ]
    if source:
        lines.append(f"Source: {source}")
    lines.append(f"Version: {version}")
    if depends:
        lines.append(f"Depends: {depends}")
    lines.append(f"Description: {name} (demo entry)")
    return "\n".join(lines) + "\n"


# Versions are real bookworm versions; openssl/libssl3 are an early 12.0 build with known CVEs.
DPKG_STATUS = "\n".join(
    [
        _dpkg_entry("base-files", "12.4+deb12u1", "amd64"),
        _dpkg_entry("libc6", "2.36-9+deb12u1", "amd64", source="glibc"),
        _dpkg_entry("libssl3", "3.0.9-1", "amd64", source="openssl", depends="libc6 (>= 2.34)"),
        _dpkg_entry("openssl", "3.0.9-1", "amd64", depends="libc6 (>= 2.34), libssl3 (>= 3.0.9)"),
        _dpkg_entry("zlib1g", "1:1.2.13.dfsg-1", "amd64", source="zlib"),
        _dpkg_entry("tzdata", "2023c-5", "all"),
    ]
)


def _dist_info(name: str, version: str, requires: tuple[str, ...] = ()) -> dict[str, str]:
    """Files of a pip-installed package's ``.dist-info`` directory (the parts scanners read)."""
    folder = f"usr/local/lib/python3.11/site-packages/{name.replace('-', '_')}-{version}.dist-info"
    metadata = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        f"Summary: {name} (demo metadata)",
        "License: Apache 2.0" if name == "requests" else "License: MIT",
    ]
    metadata += [f"Requires-Dist: {req}" for req in requires]
    return {
        f"{folder}/METADATA": "\n".join(metadata) + "\n\n",
        f"{folder}/INSTALLER": "pip\n",
        f"{folder}/RECORD": f"{folder}/METADATA,,\n",
    }


def _npm_package(name: str, version: str, license_: str = "MIT") -> dict[str, str]:
    body = {"name": name, "version": version, "license": license_, "main": "index.js"}
    return {f"app/node_modules/{name}/package.json": json.dumps(body, indent=2) + "\n"}


def base_layer_files() -> dict[str, str]:
    """Layer 1: the operating system part."""
    files = {
        "etc/os-release": OS_RELEASE,
        "var/lib/dpkg/status": DPKG_STATUS,
        "etc/debian_version": "12.0\n",
    }
    # Installed in the base layer and deleted by the app layer's whiteout.
    files.update(_dist_info("Jinja2", "2.10"))
    return files


def app_layer_files() -> dict[str, str]:
    """Layer 2: the application's language packages."""
    files: dict[str, str] = {}
    files.update(_dist_info("requests", "2.19.0", ("urllib3 (<1.24,>=1.21.1)", "idna (<2.8,>=2.5)")))
    files.update(_dist_info("urllib3", "1.24.1"))
    files.update(_dist_info("PyYAML", "5.3"))
    files.update(_npm_package("lodash", "4.17.4"))
    files.update(_npm_package("minimist", "1.2.0"))
    files["app/package.json"] = json.dumps(
        {"name": "demo-app", "version": "1.0.0", "dependencies": {"lodash": "4.17.4", "minimist": "1.2.0"}},
        indent=2,
    ) + "\n"
    # OCI whiteout: the file ".wh.NAME" deletes NAME from the lower layers.
    files["usr/local/lib/python3.11/site-packages/.wh.Jinja2-2.10.dist-info"] = ""
    return files


def layer_tar(files: dict[str, str]) -> bytes:
    """An uncompressed layer tar: parent directories first, sorted, fixed owners and times."""
    dirs: set[str] = set()
    for path in files:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in sorted(dirs):
            info = tarfile.TarInfo(d + "/")
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            info.mtime = EPOCH
            tar.addfile(info)
        for path in sorted(files):
            data = files[path].encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = EPOCH
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sha256(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Blob:
    """A content-addressed blob and its media type."""

    media_type: str
    data: bytes

    @property
    def digest(self) -> str:
        """The blob's digest."""
        return sha256(self.data)

    def descriptor(self) -> dict[str, object]:
        """The OCI descriptor pointing at this blob."""
        return {"mediaType": self.media_type, "digest": self.digest, "size": len(self.data)}


def build(tag: str) -> tuple[list[bytes], Blob, list[Blob], Blob]:
    """Uncompressed layer tars, the config blob, the gzip layer blobs and the OCI manifest blob."""
    tars = [layer_tar(base_layer_files()), layer_tar(app_layer_files())]
    gz_layers = [
        # mtime=0 in the gzip header keeps the compressed blob reproducible too.
        Blob("application/vnd.oci.image.layer.v1.tar+gzip", gzip.compress(t, compresslevel=6, mtime=0))
        for t in tars
    ]
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": CREATED,
        "config": {
            "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"],
            "Cmd": ["/bin/sh"],
            "WorkingDir": "/app",
            "Labels": {"org.opencontainers.image.title": "containerguard-demo", "demo.tag": tag},
        },
        "rootfs": {"type": "layers", "diff_ids": [sha256(t) for t in tars]},
        "history": [
            {"created": CREATED, "created_by": "demo: base (os-release, dpkg status)"},
            {"created": CREATED, "created_by": "demo: app (python and npm packages, one whiteout)"},
        ],
    }
    config_blob = Blob("application/vnd.oci.image.config.v1+json", json.dumps(config, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_blob.descriptor(),
        "layers": [b.descriptor() for b in gz_layers],
    }
    manifest_blob = Blob("application/vnd.oci.image.manifest.v1+json", json.dumps(manifest, sort_keys=True).encode())
    return tars, config_blob, gz_layers, manifest_blob


def write_oci(out: Path, tag: str) -> None:
    """Write an OCI image layout directory."""
    _, config_blob, layers, manifest_blob = build(tag)
    if out.exists():
        shutil.rmtree(out)
    blobs = out / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    for blob in [config_blob, *layers, manifest_blob]:
        (blobs / blob.digest.removeprefix("sha256:")).write_bytes(blob.data)
    (out / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    ref_name = tag.rsplit(":", 1)[-1] if ":" in tag else "latest"
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {**manifest_blob.descriptor(), "annotations": {"org.opencontainers.image.ref.name": ref_name}}
        ],
    }
    (out / "index.json").write_text(json.dumps(index, indent=2))


def write_docker_archive(out: Path, tag: str) -> None:
    """Write a ``docker save``-style tar (uncompressed layers, manifest.json, repositories)."""
    tars, config_blob, _, _ = build(tag)
    members: dict[str, bytes] = {}
    config_name = config_blob.digest.removeprefix("sha256:") + ".json"
    members[config_name] = config_blob.data
    layer_paths = []
    for t in tars:
        path = f"{hashlib.sha256(t).hexdigest()}/layer.tar"
        members[path] = t
        layer_paths.append(path)
    repo, _, version = tag.rpartition(":") if ":" in tag else (tag, "", "latest")
    members["manifest.json"] = json.dumps(
        [{"Config": config_name, "RepoTags": [tag], "Layers": layer_paths}]
    ).encode()
    members["repositories"] = json.dumps({repo: {version: layer_paths[-1].split("/")[0]}}).encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = EPOCH
            tar.addfile(info, io.BytesIO(data))


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("out", type=Path, help="output directory (oci) or tar file (docker-archive)")
    parser.add_argument("--format", choices=("oci", "docker-archive"), default="oci")
    parser.add_argument("--tag", default="containerguard-demo:latest")
    args = parser.parse_args(argv)
    if args.format == "oci":
        write_oci(args.out, args.tag)
    else:
        write_docker_archive(args.out, args.tag)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
