"""The ``cyclonedx`` report format: CycloneDX 1.6 with ``vulnerabilities`` (built in
:mod:`containerguard.report._cyclonedx_vulns`, imported on first use so that other formats do not pay
for loading the CycloneDX model)."""

from __future__ import annotations

from containerguard.models.report import ScanResult
from containerguard.registry import register
from containerguard.report.base import VulnFormat


@register("vuln-format", "cyclonedx")
class CycloneDxVulns(VulnFormat):
    """CycloneDX 1.6 JSON: the SBOM and its vulnerabilities."""

    name = "cyclonedx"

    def write(self, result: ScanResult) -> str:
        """Indented JSON."""
        from containerguard.report._cyclonedx_vulns import render

        return render(result)
