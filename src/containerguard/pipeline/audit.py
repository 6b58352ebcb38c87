"""Docker host audit: a HostSnapshot -> check results, the host recommendation and the inventory.

Orchestration only: the benchmark file says which controls exist and which checks evaluate them;
checks judge; this module selects the containers section 5 assesses (running ones, as the benchmark
says, or all with ``all_containers``), runs the checks and summarises.

Automated/Manual is reported, not used to judge. Each result carries the benchmark's assessment
status (``automated``) unchanged into every output and the API, but whether a result counts is our
check's decision: a check that cannot decide returns WARN (what a person must look at) or INFO (facts
for review), never FAIL, so a FAIL is a decided failure and the host is Unhealthy when any control
fails, Automated or Manual, Level 1 or Level 2 (the level sets only severity: SARIF
``security-severity``, the API sub-assessment's). CIS defines Manual as "a pass/fail result cannot be
automatically achieved" by its own assessor, and 1.6.0 marks 96 of 117 controls Manual, among them
ones the engine answers exactly (5.5 privileged, 5.10 host network, 5.32 docker socket mounted).
kube-bench turns a failing test of a ``scored: false`` check into WARN, so there FAIL means "failed
and Automated"; docker-bench-security, Docker's own implementation of this benchmark, scores the
failures it detects whatever the label (``warn -s``, the Manual open-ports check included) and keeps
the controls it cannot evaluate out of the score with ``note -c``/``info``, which is what our WARN
and INFO do. We follow docker-bench-security: demoting decided failures of Manual controls would
leave a host with a privileged container Healthy and show it as a SARIF warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

import yaml

from containerguard.checks.base import Check, docker_checks
from containerguard.errors import ConfigError
from containerguard.models.check import (
    CheckResult,
    ContainerSummary,
    HostAudit,
    HostInventory,
    HostRecommendation,
    Status,
    SubAssessment,
)
from containerguard.models.snapshot import HostSnapshot

DEFAULT_BENCHMARK = "cis-docker-1.6.0"
RECOMMENDATION = "Vulnerabilities in container security configurations should be remediated"


@dataclass(frozen=True)
class BenchmarkControl:
    """One control of a benchmark file."""

    id: str
    title: str
    level: int
    automated: bool
    checks: tuple[str, ...]


@dataclass(frozen=True)
class Benchmark:
    """A benchmark file: its controls, in order, and its sections."""

    name: str
    title: str
    sections: tuple[tuple[str, str], ...]
    controls: tuple[BenchmarkControl, ...]


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader when PyYAML was built with it (about ten times faster), else the pure-Python one."""


@cache
def load_benchmark(name: str = DEFAULT_BENCHMARK) -> Benchmark:
    """Read ``checks/benchmarks/NAME.yaml`` (once per process: it is package data, and the agent and the
    server audit many snapshots); :class:`ConfigError` if it is missing or malformed."""
    ref = resources.files("containerguard.checks").joinpath("benchmarks", f"{name}.yaml")
    try:
        doc = yaml.load(ref.read_text(encoding="utf-8"), Loader=_LOADER)
    except FileNotFoundError as exc:
        raise ConfigError(f"unknown benchmark {name!r}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"benchmark {name} is not valid YAML: {exc}") from exc
    return parse_benchmark(name, doc)


def parse_benchmark(name: str, doc: Any) -> Benchmark:
    """Validate a loaded benchmark document against the registered checks."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("controls"), list):
        raise ConfigError(f"benchmark {name}: expected a mapping with a controls list")
    known = docker_checks()
    controls = []
    for i, c in enumerate(doc["controls"]):
        try:
            control = BenchmarkControl(id=str(c["id"]), title=str(c["title"]), level=int(c["level"]),
                                       automated=bool(c["automated"]), checks=tuple(map(str, c["checks"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"benchmark {name}: control #{i + 1} is malformed ({exc})") from exc
        missing = [n for n in control.checks if n not in known]
        if missing:
            raise ConfigError(f"benchmark {name}: control {control.id} names unknown checks {', '.join(missing)}")
        controls.append(control)
    sections = tuple((str(k), str(v)) for k, v in (doc.get("sections") or {}).items())
    return Benchmark(name=name, title=str(doc.get("title") or name), sections=sections, controls=tuple(controls))


def select_containers(snapshot: HostSnapshot, all_containers: bool) -> HostSnapshot:
    """The snapshot with only the containers section 5 assesses."""
    if all_containers:
        return snapshot
    running = tuple(c for c in snapshot.containers if (c.get("State") or {}).get("Running"))
    return replace(snapshot, containers=running)


def inventory(snapshot: HostSnapshot) -> HostInventory:
    """Host, engine and workload summary (from every container, whatever was assessed)."""
    info, version = snapshot.info, snapshot.version
    containers = []
    for c in snapshot.containers:
        state = c.get("State") or {}
        containers.append(ContainerSummary(
            name=str(c.get("Name", "")).lstrip("/"), image=str((c.get("Config") or {}).get("Image") or ""),
            image_id=str(c.get("Image") or ""), state=str(state.get("Status") or "unknown")))
    running = sum(1 for c in snapshot.containers if (c.get("State") or {}).get("Running"))
    return HostInventory(
        hostname=str(info.get("Name") or ""), os=str(info.get("OperatingSystem") or ""),
        kernel=str(info.get("KernelVersion") or ""), docker_version=str(version.get("Version") or ""),
        api_version=str(version.get("ApiVersion") or ""), storage_driver=str(info.get("Driver") or ""),
        images=len(snapshot.images), containers_running=running,
        containers_stopped=len(snapshot.containers) - running, containers=tuple(containers))


def counts_against_health(result: CheckResult) -> bool:
    """Whether ``result`` makes the host Unhealthy: a FAIL of any control, Automated or Manual, any level
    (see the module docstring; WARN and INFO are what a check returns when it cannot decide)."""
    return result.status == Status.FAIL


def recommendation(results: tuple[CheckResult, ...]) -> HostRecommendation:
    """Unhealthy when any control fails: one sub-assessment per failed control and resource."""
    subs = tuple(SubAssessment(id=r.id, title=r.title, resource=r.resource, evidence=r.evidence,
                               remediation=r.remediation)
                 for r in results if counts_against_health(r))
    return HostRecommendation(name=RECOMMENDATION, status="Unhealthy" if subs else "Healthy", sub_assessments=subs)


def audit(snapshot: HostSnapshot, all_containers: bool = False, benchmark: Benchmark | None = None) -> HostAudit:
    """Assess ``snapshot`` against ``benchmark`` (default CIS Docker 1.6.0)."""
    bench = benchmark or load_benchmark()
    checks: Mapping[str, Check] = docker_checks()
    assessed = select_containers(snapshot, all_containers)
    results: list[CheckResult] = []
    for control in bench.controls:
        for name in control.checks:
            check = checks[name]
            meta = replace(check.control, id=control.id, title=control.title, level=control.level,
                           automated=control.automated)
            results.extend(check.run(assessed, meta))
    done = tuple(results)
    return HostAudit(benchmark=bench.title, inventory=inventory(snapshot), results=done,
                     recommendation=recommendation(done), sections=bench.sections, all_containers=all_containers)
