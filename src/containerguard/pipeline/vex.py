"""OpenVEX documents (https://github.com/openvex/spec, v0.2.0, and v0.0.1's string forms).

A statement applies to a finding when its vulnerability (``name``, ``@id`` or any of ``aliases``)
is the finding's id or one of its aliases, and one of its products is

- the finding's package (product ``@id`` or ``identifiers.purl`` matching the package purl), or
- the image (matching the image purl), with no subcomponents (the whole image) or a subcomponent
  matching the package purl — as Trivy passes image + package to go-vex's ``Matches``.

Purls match as :func:`containerguard.pipeline.purlmatch.purl_matches` says: a version or qualifier
the statement leaves out matches any. Of the statements that apply, the latest (statement
``timestamp``, else the document's; then document and statement order) decides, as the spec says
a later statement supersedes an earlier one: ``not_affected`` and ``fixed`` suppress;
``affected`` and ``under_investigation`` keep the finding.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from containerguard.errors import PolicyError
from containerguard.models.finding import Finding
from containerguard.pipeline.purlmatch import purl_matches

STATUSES = frozenset({"not_affected", "affected", "fixed", "under_investigation"})
SUPPRESSING = frozenset({"not_affected", "fixed"})
JUSTIFICATIONS = frozenset({
    "component_not_present", "vulnerable_code_not_present", "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary", "inline_mitigations_already_exist"})
_EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class VexProduct:
    """One product of a statement: its identifiers (``@id`` and ``identifiers.purl``) and subcomponents."""

    ids: tuple[str, ...]
    subcomponents: tuple[str, ...] = ()

    def names(self, purl: str) -> bool:
        """Whether this product is the thing ``purl`` identifies."""
        return any(purl_matches(i, purl) for i in self.ids)


@dataclass(frozen=True)
class VexStatement:
    """One OpenVEX statement, flattened for matching."""

    vulnerability: tuple[str, ...]
    """Upper-cased ``name``, ``@id`` and ``aliases``."""
    products: tuple[VexProduct, ...]
    status: str
    source: str
    """The document's file name."""
    justification: str = ""
    impact_statement: str = ""
    timestamp: datetime = _EPOCH
    order: tuple[int, int] = (0, 0)
    """(document, statement) position, to break timestamp ties: later wins."""

    def applies(self, finding: Finding, image_purl: str) -> bool:
        """Whether this statement is about ``finding`` (see the module docstring)."""
        ids = {finding.id.upper(), *(a.upper() for a in finding.aliases)}
        if not ids.intersection(self.vulnerability):
            return False
        package = finding.package.purl
        for product in self.products:
            if package and product.names(package):
                return True
            if image_purl and product.names(image_purl) and (
                    not product.subcomponents or any(purl_matches(s, package) for s in product.subcomponents)):
                return True
        return False


def decide(statements: Iterable[VexStatement], finding: Finding, image_purl: str) -> VexStatement | None:
    """The statement that has the last word on ``finding``, or None when none applies."""
    applying = [s for s in statements if s.applies(finding, image_purl)]
    return max(applying, key=lambda s: (s.timestamp, s.order)) if applying else None


def load_vex(paths: Iterable[Path]) -> tuple[VexStatement, ...]:
    """Every statement of every document, in order; :class:`PolicyError` on the first bad one."""
    out: list[VexStatement] = []
    for index, path in enumerate(paths):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(f"cannot read VEX document {path}: {exc}") from exc
        except ValueError as exc:
            raise PolicyError(f"VEX document {path} is not JSON: {exc}") from exc
        out.extend(parse_vex(document, str(path), index))
    return tuple(out)


def parse_vex(document: Any, name: str, index: int = 0) -> tuple[VexStatement, ...]:
    """The statements of one parsed OpenVEX document."""
    if not isinstance(document, dict):
        raise PolicyError(f"{name}: not an OpenVEX document (top level is not an object)")
    context = document.get("@context")
    if not isinstance(context, str) or not context.startswith("https://openvex.dev/ns"):
        raise PolicyError(f"{name}: not an OpenVEX document (@context is not https://openvex.dev/ns…)")
    doc_time = _time(document.get("timestamp"), f"{name}: document", _EPOCH)
    statements = document.get("statements")
    if not isinstance(statements, list):
        raise PolicyError(f"{name}: 'statements' must be a list")
    return tuple(_statement(s, f"{name}: statement {i + 1}", name, doc_time, (index, i))
                 for i, s in enumerate(statements))


def _statement(raw: Any, where: str, name: str, doc_time: datetime, order: tuple[int, int]) -> VexStatement:
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: not an object")
    status = raw.get("status")
    if status not in STATUSES:
        raise PolicyError(f"{where}: status {status!r} is not one of {', '.join(sorted(STATUSES))}")
    justification = raw.get("justification") or ""
    if justification and justification not in JUSTIFICATIONS:
        raise PolicyError(f"{where}: unknown justification {justification!r}")
    impact = raw.get("impact_statement") or ""
    if not isinstance(impact, str):
        raise PolicyError(f"{where}: impact_statement must be a string")
    if status == "not_affected" and not (justification or impact):
        raise PolicyError(f"{where}: a not_affected statement needs a justification or an impact_statement")
    return VexStatement(
        vulnerability=_vulnerability(raw.get("vulnerability"), where),
        products=_products(raw.get("products"), raw.get("subcomponents"), where),
        status=status, source=name, justification=justification, impact_statement=impact,
        timestamp=_time(raw.get("timestamp"), where, doc_time), order=order)


def _vulnerability(raw: Any, where: str) -> tuple[str, ...]:
    if isinstance(raw, str) and raw:  # v0.0.1
        return (raw.upper(),)
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: 'vulnerability' must be an object with a 'name'")
    names = [raw.get("name"), raw.get("@id"), *_list(raw.get("aliases"), "vulnerability.aliases", where)]
    ids = tuple(n.upper() for n in names if isinstance(n, str) and n)
    if not isinstance(raw.get("name"), str) or not ids:
        raise PolicyError(f"{where}: vulnerability.name is required")
    return ids


def _products(raw: Any, statement_subcomponents: Any, where: str) -> tuple[VexProduct, ...]:
    shared = _component_ids(_list(statement_subcomponents, "subcomponents", where), where)  # v0.0.1
    products = []
    for item in _list(raw, "products", where):
        if isinstance(item, str):  # v0.0.1
            products.append(VexProduct((item,), shared))
            continue
        if not isinstance(item, dict):
            raise PolicyError(f"{where}: each product must be an object or a string")
        ids = _ids(item, where)
        subs = _component_ids(_list(item.get("subcomponents"), "subcomponents", where), where)
        products.append(VexProduct(ids, subs + shared))
    if not products:
        raise PolicyError(f"{where}: 'products' must name at least one product")
    return tuple(products)


def _component_ids(items: list[Any], where: str) -> tuple[str, ...]:
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            out.extend(_ids(item, where))
        else:
            raise PolicyError(f"{where}: a subcomponent must be an object or a string")
    return tuple(out)


def _ids(component: dict[str, Any], where: str) -> tuple[str, ...]:
    identifiers = component.get("identifiers") or {}
    if not isinstance(identifiers, dict):
        raise PolicyError(f"{where}: identifiers must be an object")
    ids = tuple(v for v in (component.get("@id"), identifiers.get("purl")) if isinstance(v, str) and v)
    if not ids:
        raise PolicyError(f"{where}: a product or subcomponent needs an @id or identifiers.purl")
    return ids


def _list(value: Any, key: str, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PolicyError(f"{where}: '{key}' must be a list")
    return value


def _time(value: Any, where: str, default: datetime) -> datetime:
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise PolicyError(f"{where}: timestamp must be an RFC 3339 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PolicyError(f"{where}: bad timestamp {value!r}") from None
    # A timestamp without an offset is taken as UTC, so every statement compares.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
