"""Policy: what of the detected findings the user still has to act on, and the image's health.

Detection never suppresses; this stage does, in order, and each step sees only what the earlier
ones left:

1. ``--severity``: keep only the listed levels;
2. ``--ignore-unfixed``: keep only findings with a fixed version (fix state ``fixed``);
3. the ignore file (:mod:`.ignorefile`): entries not yet expired;
4. OpenVEX statements (:mod:`.vex`): ``not_affected`` and ``fixed`` suppress.

Suppressed findings move to ``ScanResult.suppressed`` with ``suppressed_by`` set (see
:mod:`.suppression`), so reports can show them. Health: ``Healthy`` when no finding remains,
``Unhealthy`` otherwise, ``NotApplicable`` when the image has no packages at all (nothing could
be assessed: a scratch image, or an unknown OS with no language packages).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from containerguard.errors import ConfigError
from containerguard.models.advisory import SEVERITY_LEVELS
from containerguard.models.finding import Finding
from containerguard.models.report import ScanNote, ScanResult
from containerguard.pipeline.suppression import FILTER, IGNOREFILE, VEX, Suppression

DEFAULT_NAMES = (".containerguardignore", ".containerguardignore.yaml", ".containerguardignore.yml")
"""Ignore files looked up in the current directory, in this order, when no ``--ignorefile`` is given."""

if TYPE_CHECKING:  # the ignore-file and VEX machinery loads only when a policy has rules or statements
    from containerguard.pipeline.ignorefile import IgnoreRule
    from containerguard.pipeline.vex import VexStatement

HEALTHY = "Healthy"
UNHEALTHY = "Unhealthy"
NOT_APPLICABLE = "NotApplicable"


def _today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class Policy:
    """What the user asked to keep and to suppress."""

    severities: frozenset[str] = frozenset(SEVERITY_LEVELS)
    ignore_unfixed: bool = False
    ignore_rules: tuple[IgnoreRule, ...] = ()
    vex: tuple[VexStatement, ...] = ()
    today: date = field(default_factory=_today)
    """The day ignore-file expiry is judged against (UTC)."""


def parse_severities(text: str) -> frozenset[str]:
    """``CRITICAL,HIGH`` → the set of levels; :class:`ConfigError` naming an unknown one."""
    levels = frozenset(part.strip().upper() for part in text.split(",") if part.strip())
    unknown = sorted(levels - set(SEVERITY_LEVELS))
    if unknown or not levels:
        raise ConfigError(f"--severity: unknown level(s) {', '.join(unknown) or '(none given)'} "
                          f"(known: {','.join(SEVERITY_LEVELS)})")
    return levels


def find_ignorefile(directory: Path) -> Path | None:
    """The default ignore file in ``directory``, if there is one."""
    for name in DEFAULT_NAMES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def apply_policy(result: ScanResult, policy: Policy) -> ScanResult:
    """The result with policy applied: findings split into kept and suppressed, health set.

    Expired ignore entries that would have matched a finding are reported as notes.
    """
    image = ""
    if policy.vex:  # VEX statements name products by purl
        from containerguard.sbom.formats._shared import image_purl

        image = image_purl(result.sbom.artifact)
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    expired: dict[str, IgnoreRule] = {}
    for finding in result.findings:
        why = _suppression(finding, policy, image, expired)
        if why is None:
            kept.append(finding)
        else:
            suppressed.append(replace(finding, suppressed_by=str(why)))
    notes = tuple(ScanNote(f"ignore entry {r.id} ({r.source})", f"expired on {r.expires}, no longer suppresses")
                  for r in expired.values())
    return replace(result, findings=tuple(kept), suppressed=result.suppressed + tuple(suppressed),
                   notes=result.notes + notes, health=health(result, kept))


def _suppression(finding: Finding, policy: Policy, image: str, expired: dict[str, IgnoreRule]) -> Suppression | None:
    if finding.severity.level not in policy.severities:
        return Suppression(FILTER, "severity")
    if policy.ignore_unfixed and (finding.fix_state != "fixed" or not finding.fixed_version):
        return Suppression(FILTER, "ignore-unfixed")
    for rule in policy.ignore_rules:
        if rule.matches(finding):
            if rule.expired(policy.today):
                expired.setdefault(rule.source, rule)
                continue
            return Suppression(IGNOREFILE, source=rule.source, statement=rule.statement)
    if not policy.vex:
        return None
    from containerguard.pipeline.vex import SUPPRESSING, decide

    statement = decide(policy.vex, finding, image)
    if statement is not None and statement.status in SUPPRESSING:
        return Suppression(VEX, statement.status, statement.source, statement.justification,
                           statement.impact_statement)
    return None


def health(result: ScanResult, remaining: list[Finding] | tuple[Finding, ...]) -> str:
    """``Healthy``, ``Unhealthy`` or ``NotApplicable`` (see the module docstring)."""
    if remaining:
        return UNHEALTHY
    if not result.sbom.packages:
        return NOT_APPLICABLE
    return HEALTHY


def severity_counts(findings: tuple[Finding, ...] | list[Finding]) -> dict[str, int]:
    """How many findings of each level, every level present, most severe first."""
    counts = dict.fromkeys(SEVERITY_LEVELS, 0)
    for f in findings:
        level = f.severity.level if f.severity.level in counts else "UNKNOWN"
        counts[level] += 1
    return counts
