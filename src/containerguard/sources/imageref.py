"""Parse image references ``[HOST[:PORT]/]REPO[:TAG][@DIGEST]`` the way Docker does."""

from __future__ import annotations

import re
from dataclasses import dataclass

from containerguard.errors import ConfigError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$")
_HOST = re.compile(r"^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::[0-9]+)?$")


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference; ``host`` is the display host (``docker.io`` for Docker Hub)."""

    host: str
    repository: str
    tag: str = ""
    digest: str = ""

    @property
    def api_host(self) -> str:
        """The host serving the registry API (Docker Hub's differs from its name)."""
        return DOCKER_HUB_API if self.host == DOCKER_HUB else self.host

    @property
    def reference(self) -> str:
        """What to ask the manifests endpoint for: the digest when pinned, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def name(self) -> str:
        """``host/repository``."""
        return f"{self.host}/{self.repository}"

    @property
    def canonical(self) -> str:
        """``host/repository:tag`` (or ``@digest`` when pinned by digest only)."""
        if self.digest and not self.tag:
            return f"{self.name}@{self.digest}"
        return f"{self.name}:{self.tag or 'latest'}"

    @property
    def is_local(self) -> bool:
        """Whether the registry is on this machine (plain http is then tried first)."""
        bare = self.host[1:self.host.find("]")] if self.host.startswith("[") else self.host.split(":", 1)[0]
        return bare in ("localhost", "127.0.0.1", "::1")


def parse_ref(text: str) -> ImageRef:
    """Parse ``[HOST[:PORT]/]REPO[:TAG][@DIGEST]``; no host means Docker Hub (``library/`` added
    for single-component names), no tag and no digest means ``latest``."""
    raw = text.strip()
    if raw.startswith("docker://"):
        raw = raw[len("docker://"):]
    if not raw:
        raise ConfigError("empty image reference")
    name, _, digest = raw.partition("@")
    if digest and not _DIGEST.match(digest):
        raise ConfigError(f"invalid digest in image reference {text!r}")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = ""
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
        if not _TAG.match(tag):
            raise ConfigError(f"invalid tag {tag!r} in image reference {text!r}")
    first, sep, remainder = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        host, repo = first, remainder
        if not _HOST.match(host):
            raise ConfigError(f"invalid registry host {host!r} in image reference {text!r}")
    else:
        host, repo = DOCKER_HUB, name
    if host in _HUB_ALIASES:
        host = DOCKER_HUB
        if "/" not in repo:
            repo = f"library/{repo}"
    if not repo or not all(_COMPONENT.match(part) for part in repo.split("/")):
        raise ConfigError(f"invalid repository name {repo!r} in image reference {text!r}")
    return ImageRef(host=host, repository=repo, tag=tag if tag or digest else "latest", digest=digest)


def same_image_name(a: str, b: str) -> bool:
    """Whether two references name the same repository and tag after normalisation."""
    try:
        return parse_ref(a).canonical == parse_ref(b).canonical
    except ConfigError:
        return a == b
