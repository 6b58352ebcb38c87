"""Installed Python distributions: ``*.dist-info/METADATA`` and ``*.egg-info`` (``PKG-INFO``).

Both are the core-metadata format (RFC 822 headers). The name is normalised the way the pypi purl
type asks (lower case, ``_`` -> ``-``); licences come from ``License-Expression``, else a short
``License`` field, else the ``License ::`` trove classifiers.
"""

from __future__ import annotations

from email.parser import HeaderParser
from email.policy import compat32

from packageurl import PackageURL

from containerguard.collectors.base import Collector, FileInfo
from containerguard.errors import CollectError
from containerguard.models.sbom import Collected, Package
from containerguard.registry import register

_MAX_BYTES = 4 * 1024 * 1024
"""Core metadata is a few KB plus the long description; anything bigger is not metadata."""
_UNKNOWN = {"", "unknown", "none", "n/a"}


def normalise_name(name: str) -> str:
    """The pypi purl spelling of a distribution name: lower case, underscores as dashes."""
    return name.strip().lower().replace("_", "-")


def licenses_of(headers: dict[str, list[str]]) -> tuple[str, ...]:
    """Licences from core metadata, most precise source first."""
    expression = [v.strip() for v in headers.get("license-expression", []) if v.strip()]
    if expression:
        return (expression[0],)
    for value in headers.get("license", []):
        text = value.strip()
        # Some projects paste the whole licence text here; only a one-line name is useful.
        if text.lower() not in _UNKNOWN and "\n" not in text and len(text) <= 100:
            return (text,)
    found: list[str] = []
    for classifier in headers.get("classifier", []):
        parts = [p.strip() for p in classifier.split("::")]
        if (len(parts) >= 2 and parts[0] == "License" and parts[-1] not in ("OSI Approved", "")
                and parts[-1] not in found):
            found.append(parts[-1])
    return tuple(found)


@register("collector")
class PythonCollector(Collector):
    """Python distributions installed in site-packages or dist-packages."""

    name = "python"
    version = 1
    ecosystems = ("pypi",)

    def required(self, info: FileInfo) -> bool:
        """``*.dist-info/METADATA``, ``*.egg-info/PKG-INFO`` or a single-file ``*.egg-info``."""
        path = info.path
        if path.endswith("/METADATA"):
            return path[: -len("/METADATA")].endswith(".dist-info")
        if path.endswith("/PKG-INFO"):
            parent = path[: -len("/PKG-INFO")]
            return parent.endswith(".egg-info") or parent.endswith("/EGG-INFO")
        return path.endswith(".egg-info") and info.size <= _MAX_BYTES

    def collect(self, info: FileInfo, content: bytes) -> Collected:
        """Parse one core-metadata file into one package."""
        if len(content) > _MAX_BYTES:
            return self.skipped(info, f"python: metadata file is {len(content)} bytes, too large")
        text = content.decode("utf-8", errors="replace")
        # The body (long description) follows the first blank line; only headers matter.
        message = HeaderParser(policy=compat32).parsestr(text, headersonly=True)
        headers: dict[str, list[str]] = {}
        for key, value in message.items():
            headers.setdefault(key.lower(), []).append(str(value))
        name = (headers.get("name") or [""])[0].strip()
        version = (headers.get("version") or [""])[0].strip()
        if not name or not version:
            raise CollectError("no Name or Version header: not core metadata")
        pkg_name = normalise_name(name)
        return self.packages([Package(
            type="pypi", name=pkg_name, version=version, licenses=licenses_of(headers),
            locations=self.location(info),
            purl=PackageURL(type="pypi", name=pkg_name, version=version).to_string())])
