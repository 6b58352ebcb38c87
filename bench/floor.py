"""The floor: pull every layer of an image from a registry over http and decompress it, nothing else.

Usage: python bench/floor.py HOST:PORT/REPO:TAG
"""

from __future__ import annotations

import sys

import httpx
from isal import isal_zlib

ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"


def main(ref: str) -> int:
    host, _, rest = ref.partition("/")
    repo, _, tag = rest.partition(":")
    total = 0
    with httpx.Client(base_url=f"http://{host}/v2/", timeout=120) as client:
        manifest = client.get(f"{repo}/manifests/{tag}", headers={"Accept": ACCEPT}).json()
        client.get(f"{repo}/blobs/{manifest['config']['digest']}").raise_for_status()
        for layer in manifest["layers"]:
            with client.stream("GET", f"{repo}/blobs/{layer['digest']}", follow_redirects=True) as resp:
                resp.raise_for_status()
                inflate = isal_zlib.decompressobj(31)
                for chunk in resp.iter_raw(1 << 20):
                    total += len(inflate.decompress(chunk))
    print(total)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
