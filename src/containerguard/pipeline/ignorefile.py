"""The ignore file, ``.containerguardignore``: vulnerability ids the user accepts, in two forms.

Plain (as Trivy's ``.trivyignore``), one entry a line, ``#`` starts a comment::

    CVE-2023-1234
    CVE-2023-5678 exp:2025-06-30                 # expires: suppresses until that day (exclusive)
    GHSA-xxxx-yyyy-zzzz pkg:pypi/django          # only in packages this purl pattern names
    CVE-2024-0001 package:openssl                # only in packages of this name (or source name)

YAML (as Trivy's ``.trivyignore.yaml``), chosen when the file name ends in ``.yaml``/``.yml`` or
the file's first entry is a ``vulnerabilities:`` key::

    vulnerabilities:
      - id: CVE-2023-2650
        purls: ["pkg:deb/debian/openssl"]   # purl patterns (versions/qualifiers optional)
        paths: ["usr/lib/python3*/**"]      # glob over the package's file paths in the image
        package: openssl                     # package or source package name
        expired_at: 2025-01-01
        statement: not reachable from the entry point

An id matches a finding's id or any of its aliases (case-insensitive). The conditions of one entry
must all hold; each list matches when any item does. An entry is expired from its expiry date on
(UTC): it no longer suppresses and policy reports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from containerguard.errors import PolicyError
from containerguard.lazy import lazy_module
from containerguard.models.finding import Finding
from containerguard.pipeline.purlmatch import parse_purl, purl_matches

if TYPE_CHECKING:
    import yaml
else:  # imported when a YAML ignore file is read, not by every scan
    yaml = lazy_module("yaml")

_TRIVY_SECTIONS = frozenset({"misconfigurations", "secrets", "licenses"})
"""Other sections of Trivy's YAML ignore file: accepted, not about vulnerabilities."""
_ENTRY_KEYS = frozenset({"id", "paths", "purls", "package", "expired_at", "statement"})


@dataclass(frozen=True)
class IgnoreRule:
    """One ignore-file entry."""

    id: str
    source: str
    """``PATH:LINE`` of the entry, shown in ``suppressed_by``."""
    expires: date | None = None
    purls: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    statement: str = ""

    def expired(self, today: date) -> bool:
        """Whether the entry's expiry date has come."""
        return self.expires is not None and today >= self.expires

    def matches(self, finding: Finding) -> bool:
        """Whether the entry names this finding (expiry is the caller's business)."""
        wanted = self.id.upper()
        if finding.id.upper() != wanted and all(a.upper() != wanted for a in finding.aliases):
            return False
        p = finding.package
        if self.purls and not any(purl_matches(pattern, p.purl) for pattern in self.purls):
            return False
        if self.packages and not ({p.name, p.source_name, f"{p.namespace}/{p.name}"} & set(self.packages)):
            return False
        if self.paths:
            where = [loc.path.lstrip("/") for loc in p.locations]
            if not any(fnmatchcase(w, g.lstrip("/")) for w in where for g in self.paths):
                return False
        return True


def load_ignorefile(path: Path) -> tuple[IgnoreRule, ...]:
    """Read and parse an ignore file; :class:`PolicyError` when unreadable or malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read ignore file {path}: {exc}") from exc
    return parse_ignorefile(text, str(path))


def parse_ignorefile(text: str, name: str) -> tuple[IgnoreRule, ...]:
    """Parse either form (see the module docstring); ``name`` is used in sources and errors."""
    if name.endswith((".yaml", ".yml")) or _first_entry(text).startswith("vulnerabilities:"):
        return _parse_yaml(text, name)
    return _parse_plain(text, name)


def _first_entry(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and stripped != "---":
            return stripped
    return ""


# --- plain ------------------------------------------------------------------------------------------

def _parse_plain(text: str, name: str) -> tuple[IgnoreRule, ...]:
    rules = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not content:
            continue
        vuln_id, *options = content.split()
        where = f"{name}:{number}"
        expires: date | None = None
        purls: list[str] = []
        packages: list[str] = []
        for option in options:
            if option.startswith("exp:"):
                expires = _date(option[4:], where)
            elif option.startswith("pkg:"):
                if parse_purl(option) is None:
                    raise PolicyError(f"{where}: {option!r} is not a valid package URL")
                purls.append(option)
            elif option.startswith("package:") and option[8:]:
                packages.append(option[8:])
            else:
                raise PolicyError(f"{where}: unknown option {option!r} (expected exp:YYYY-MM-DD, pkg:PURL or "
                                  "package:NAME)")
        rules.append(IgnoreRule(vuln_id, where, expires, tuple(purls), (), tuple(packages)))
    return tuple(rules)


def _date(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PolicyError(f"{where}: bad expiry date {text!r} (expected YYYY-MM-DD)") from None


# --- YAML -------------------------------------------------------------------------------------------

@cache
def _line_loader() -> type[yaml.SafeLoader]:
    """A safe loader that records the line of every mapping (so suppressions can name it)."""

    class LineLoader(yaml.SafeLoader):
        pass

    def mapping_with_line(loader: LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        mapping = loader.construct_mapping(node, deep=True)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping

    LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping_with_line)
    return LineLoader


def _parse_yaml(text: str, name: str) -> tuple[IgnoreRule, ...]:
    try:
        document = yaml.load(text, Loader=_line_loader())  # a SafeLoader subclass: no object construction
    except yaml.YAMLError as exc:
        raise PolicyError(f"{name}: not valid YAML: {' '.join(str(exc).split())}") from exc
    if document is None:
        return ()
    if not isinstance(document, dict):
        raise PolicyError(f"{name}: expected a mapping with a 'vulnerabilities' list")
    unknown = set(document) - {"vulnerabilities", "__line__"} - _TRIVY_SECTIONS
    if unknown:
        raise PolicyError(f"{name}: unknown section(s) {', '.join(sorted(map(str, unknown)))}")
    entries = document.get("vulnerabilities") or []
    if not isinstance(entries, list):
        raise PolicyError(f"{name}: 'vulnerabilities' must be a list")
    return tuple(_yaml_entry(entry, name) for entry in entries)


def _yaml_entry(entry: Any, name: str) -> IgnoreRule:
    if not isinstance(entry, dict):
        raise PolicyError(f"{name}: each vulnerabilities entry must be a mapping with an 'id'")
    where = f"{name}:{entry.pop('__line__')}"
    unknown = set(entry) - _ENTRY_KEYS
    if unknown:
        raise PolicyError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    vuln_id = entry.get("id")
    if not isinstance(vuln_id, str) or not vuln_id.strip():
        raise PolicyError(f"{where}: 'id' is required and must be a string")
    expires = entry.get("expired_at")
    if isinstance(expires, datetime):  # YAML reads a timestamp; the day is what counts
        expires = expires.date()
    elif isinstance(expires, str):
        expires = _date(expires, where)
    elif expires is not None and not isinstance(expires, date):
        raise PolicyError(f"{where}: bad expired_at {expires!r} (expected YYYY-MM-DD)")
    purls = _strings(entry.get("purls"), "purls", where)
    for purl in purls:
        if parse_purl(purl) is None:
            raise PolicyError(f"{where}: {purl!r} is not a valid package URL")
    package = entry.get("package")
    if package is not None and not isinstance(package, str):
        raise PolicyError(f"{where}: 'package' must be a string")
    statement = entry.get("statement") or ""
    if not isinstance(statement, str):
        raise PolicyError(f"{where}: 'statement' must be a string")
    return IgnoreRule(vuln_id.strip(), where, expires, purls, _strings(entry.get("paths"), "paths", where),
                      (package,) if package else (), statement.strip())


def _strings(value: Any, key: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)
