"""Package URL comparison as OpenVEX and ignore files use it: a pattern matches a purl when every
part the pattern names is equal; parts it leaves out (version, qualifiers, subpath) match anything."""

from __future__ import annotations

import re

from packageurl import PackageURL

_PEP503 = re.compile(r"[-_.]+")


def parse_purl(text: str) -> PackageURL | None:
    """The parsed purl, or None when ``text`` is not a valid purl."""
    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None


def _name(purl: PackageURL) -> str:
    # The purl spec normalises pypi names (PEP 503); other types compare as written.
    if purl.type == "pypi":
        return _PEP503.sub("-", purl.name).lower()
    return str(purl.name)


def purl_matches(pattern: str, candidate: str) -> bool:
    """Whether ``candidate`` is the package ``pattern`` names (see the module docstring).

    Qualifiers: each one in the pattern must be present with the same value in the candidate, so
    ``pkg:deb/debian/openssl`` matches ``pkg:deb/debian/openssl@3.0.11-1?arch=amd64&distro=debian-12``.
    """
    if not pattern or not candidate:
        return False
    if pattern == candidate:
        return True
    p, c = parse_purl(pattern), parse_purl(candidate)
    if p is None or c is None:
        return False
    if p.type.lower() != c.type.lower() or (p.namespace or "") != (c.namespace or "") or _name(p) != _name(c):
        return False
    if p.version and p.version != c.version:
        return False
    if p.subpath and p.subpath != c.subpath:
        return False
    pq = p.qualifiers if isinstance(p.qualifiers, dict) else {}
    cq = c.qualifiers if isinstance(c.qualifiers, dict) else {}
    return all(cq.get(key) == value for key, value in pq.items())
