"""Alpine secdb JSON (https://secdb.alpinelinux.org/v3.x/{main,community}.json).

Shape: ``{distroversion: "v3.18", reponame: "main", packages: [{pkg: {name, secfixes:
{"1.2.3-r0": ["CVE-…", "CVE-… XSA-123", …]}}}]}``. A fix version of ``"0"`` means the release was
never affected. One advisory per identifier and file (source ``alpine-secdb``, scope
``v3.18/main``), one :class:`Affected` per package, ecosystem ``Alpine:v3.18``, range
``introduced 0`` → ``fixed <version>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from containerguard.models.advisory import Advisory, Affected, AffectedRange, RangeEvent
from containerguard.registry import register

from .base import Feed, Malformed

# secfixes entries are hand-written: "CVE-2018-3639  XSA-263", "CVE_2019-2426", "CVE 2019-1234",
# "CVE-2017-8073.patch", "CVE-2019-15167 (VRRP)". The CVE pattern forgives the separators people
# typed; other tokens must look like an advisory id (XSA-263, TALOS-2017-0394, wnpa-sec-2017-18).
_CVE = re.compile(r"CVE[-_ ](\d{4})-(\d{4,})(?!\d)")
_OTHER_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*-\d+$")


def entry_ids(entry: str) -> list[str]:
    """The advisory ids named by one secfixes entry, CVEs first (empty when it names none)."""
    ids = [f"CVE-{year}-{num}" for year, num in _CVE.findall(entry)]
    for token in _CVE.sub(" ", entry).split():
        token = token.removesuffix(".patch")
        if _OTHER_ID.match(token) and not token.upper().startswith("CVE"):
            ids.append(token)
    return list(dict.fromkeys(ids))


@register("feed")
class AlpineSecdbFeed(Feed):
    """Alpine's secdb: fixed versions per package and release."""

    name: ClassVar[str] = "alpine-secdb"
    priority: ClassVar[int] = 10

    @classmethod
    def accepts(cls, document: Any) -> bool:
        """An object with ``distroversion`` and ``packages``."""
        return isinstance(document, dict) and "distroversion" in document and "packages" in document

    def scope(self, document: Any) -> str:
        """``v3.18/main``: secdb ships one file per release and repository."""
        return f"{document.get('distroversion', '')}/{document.get('reponame', '')}"

    def parse(self, document: Any, origin: str) -> Iterator[Advisory | Malformed]:
        """One advisory per id named in the file."""
        release = document.get("distroversion")
        # An empty secdb file says "packages:" with no value, which reads back as "" or null.
        packages = document.get("packages") or []
        if not isinstance(release, str) or not release or not isinstance(packages, list):
            yield Malformed(f"{origin}: distroversion or packages missing")
            return
        ecosystem = f"Alpine:{release}"
        # id -> package -> fixed versions, in file order
        found: dict[str, dict[str, list[str]]] = {}
        aliases: dict[str, set[str]] = {}
        for item in packages:
            pkg = item.get("pkg") if isinstance(item, dict) else None
            name = pkg.get("name") if isinstance(pkg, dict) else None
            if not isinstance(pkg, dict) or not isinstance(name, str) or not name:
                yield Malformed(f"{origin}: package entry without a name")
                continue
            secfixes = pkg.get("secfixes") or {}
            if not isinstance(secfixes, dict):
                yield Malformed(f"{origin}: {name}: secfixes is not a map")
                continue
            for version, entries in secfixes.items():
                if not isinstance(entries, list):
                    yield Malformed(f"{origin}: {name} {version}: fix list is {entries!r}")
                    continue
                for entry in entries:
                    ids = entry_ids(entry) if isinstance(entry, str) else []
                    if not ids:
                        yield Malformed(f"{origin}: {name} {version}: no advisory id in {entry!r}")
                        continue
                    if str(version) == "0":
                        continue  # never affected in this release
                    # Several CVEs in one entry are distinct flaws fixed together ("CVE-2017-5753
                    # CVE-2017-5715 XSA-254"): one advisory each, the vendor ids as their aliases.
                    cves = [i for i in ids if i.startswith("CVE-")] or ids[:1]
                    for primary in cves:
                        found.setdefault(primary, {}).setdefault(name, []).append(str(version))
                        aliases.setdefault(primary, set()).update(i for i in ids if i not in cves)
        for advisory_id, by_package in found.items():
            affected = tuple(
                Affected(ecosystem=ecosystem, package=name, fix_state="fixed", ranges=tuple(
                    AffectedRange("ECOSYSTEM", (RangeEvent("introduced", "0"), RangeEvent("fixed", v)))
                    for v in dict.fromkeys(versions)))
                for name, versions in by_package.items())
            yield Advisory(id=advisory_id, source=self.name, modified="",
                           aliases=tuple(sorted(aliases[advisory_id])),
                           references=(f"https://security.alpinelinux.org/vuln/{advisory_id}",),
                           affected=affected)
