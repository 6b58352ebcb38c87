"""``scan k8s`` orchestration: read objects (manifests or a live cluster), run the Kubernetes checks,
and summarise results per control of a standard. No I/O of its own beyond calling the sources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from containerguard.checks.k8s.base import Inventory, K8sCheck, K8sCheckConfig
from containerguard.errors import ConfigError
from containerguard.models.k8s import FAIL, PASS, K8sAudit, K8sCheckResult, K8sCheckSpec, K8sCollected, K8sSkipped
from containerguard.registry import load_plugins, plugins

STANDARDS = ("pss-baseline", "pss-restricted", "cis-k8s", "defender")
"""Values of ``--standard``."""


def k8s_checks() -> list[K8sCheck]:
    """Every registered Kubernetes check, ordered by id."""
    load_plugins("containerguard.checks.k8s")
    return [cls() for _, cls in sorted(plugins("k8s-check").items())]


def check_standard(standard: str) -> None:
    """:class:`ConfigError` unless ``standard`` is empty or one of :data:`STANDARDS`."""
    if standard and standard not in STANDARDS:
        raise ConfigError(f"unknown standard {standard!r} (known: {', '.join(STANDARDS)})")


def collect(paths: Sequence[str], *, kubeconfig: str = "", context: str = "",
            stdin: BinaryIO | None = None) -> K8sCollected:
    """Objects from ``paths`` (manifests), or from the live cluster when there are none."""
    if paths:
        from containerguard.sources.k8s_manifests import read_paths

        return read_paths(paths, stdin)
    # Imported here: the kubernetes client is only needed (and only slow to import) for live clusters.
    from containerguard.sources.k8s_api import collect_cluster

    return collect_cluster(kubeconfig=kubeconfig, context=context)


def audit(collected: K8sCollected, config: K8sCheckConfig | None = None, standard: str = "",
          checks: Sequence[K8sCheck] | None = None) -> K8sAudit:
    """Run the checks of ``standard`` (all when empty) on ``collected``.

    A check that fails on a malformed object records a :class:`K8sSkipped` for that object and goes
    on with the others."""
    check_standard(standard)
    config = config or K8sCheckConfig()
    selected = [c for c in (checks if checks is not None else k8s_checks())
                if not standard or standard in c.spec.standards]
    inventory = Inventory(collected.objects)
    results: list[K8sCheckResult] = []
    skipped = list(collected.skipped)
    notes: list[str] = []
    for check in selected:
        reason = check.not_run_reason(config)
        if reason:
            notes.append(f"{check.spec.id} not run: {reason}")
            continue
        spec = check.spec
        standards = spec.standards
        for obj in check.targets(inventory):
            try:
                violations = check.assess(obj, inventory, config)
            except (TypeError, ValueError, AttributeError, KeyError) as exc:
                # Defensive: checks read untrusted manifests; one odd object must not stop the scan.
                skipped.append(K8sSkipped(obj.source, f"{spec.id} could not assess {obj.ref}: {exc!r}", obj.line))
                continue
            results.append(K8sCheckResult(
                check_id=spec.id, title=spec.title, severity=spec.severity, standards=standards,
                status=FAIL if violations else PASS, resource=obj.ref, message="; ".join(violations),
                file=obj.source if not obj.source.startswith("cluster:") else "", line=obj.line,
                kind=obj.kind, namespace=obj.namespace, name=obj.name))
    return K8sAudit(specs=tuple(c.spec for c in selected), results=tuple(results), skipped=tuple(skipped),
                    objects=len(collected.objects), standard=standard, notes=tuple(notes))


@dataclass(frozen=True)
class ControlSummary:
    """One control of a standard: the checks implementing it and the resources that passed or failed."""

    standard: str
    control: str
    checks: tuple[str, ...]
    passed: tuple[str, ...]
    """Resources every implementing check passed."""
    failed: tuple[str, ...]
    """Resources at least one implementing check failed."""


def control_summaries(result: K8sAudit) -> list[ControlSummary]:
    """Per control (of the run's standard, or of every standard), pass/fail resources."""
    specs: dict[str, K8sCheckSpec] = {s.id: s for s in result.specs}
    by_control: dict[tuple[str, str], list[str]] = {}
    for spec in result.specs:
        for ref in spec.controls:
            if not result.standard or ref.standard == result.standard:
                by_control.setdefault((ref.standard, ref.control), []).append(spec.id)
    outcome: dict[str, dict[str, bool]] = {}
    for r in result.results:
        per = outcome.setdefault(r.check_id, {})
        per[r.resource] = per.get(r.resource, False) or r.status == FAIL
    out = []
    for (standard, control), check_ids in sorted(by_control.items(), key=lambda kv: (kv[0][0], _control_key(kv[0][1]))):
        failed_by: dict[str, bool] = {}
        for cid in check_ids:
            if cid not in specs:
                continue
            for resource, failed in outcome.get(cid, {}).items():
                failed_by[resource] = failed_by.get(resource, False) or failed
        out.append(ControlSummary(
            standard, control, tuple(check_ids),
            passed=tuple(sorted(r for r, f in failed_by.items() if not f)),
            failed=tuple(sorted(r for r, f in failed_by.items() if f))))
    return out


def _control_key(control: str) -> tuple[tuple[int, ...], str]:
    # CIS sections sort numerically (5.2.10 after 5.2.9); names sort as text.
    parts = control.split(".")
    if all(p.isdigit() for p in parts):
        return tuple(int(p) for p in parts), ""
    return (), control
