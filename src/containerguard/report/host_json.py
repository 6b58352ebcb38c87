"""``scan host -f json``: ``{"host": {...inventory...}, "results": [...]}``, one result per control and resource."""

from __future__ import annotations

from containerguard.jsontext import dumps_indented
from containerguard.models.check import HostAudit
from containerguard.registry import register
from containerguard.report.host_base import HostFormat, inventory_dict, result_dict


@register("host-format", "json")
class HostJson(HostFormat):
    """The audit as JSON."""

    name = "json"

    def write(self, audit: HostAudit) -> str:
        """Indented JSON."""
        doc = {"host": inventory_dict(audit), "results": [result_dict(r) for r in audit.results]}
        return dumps_indented(doc, ensure_ascii=False)
