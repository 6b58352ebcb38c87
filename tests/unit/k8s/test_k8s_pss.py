"""The PSS checks reproduce the pod-security admission verdicts recorded on the fixture pods.

Each fixture pod (tests/fixtures/k8s/pss/*.yaml, written from the upstream control table) carries the
expected Baseline and Restricted verdict and the checks that must fail; the checks of
``--standard pss-baseline`` / ``pss-restricted`` must deny exactly those pods."""

from __future__ import annotations

from pathlib import Path

import pytest

from containerguard.models.k8s import FAIL, K8sObject
from containerguard.pipeline.k8s_audit import audit, k8s_checks
from containerguard.sources.k8s_manifests import read_paths

FIXTURES = Path(__file__).parents[2] / "fixtures/k8s/pss"
COLLECTED = read_paths([str(FIXTURES)])
PREFIX = "test.containerguard.io/"


def _expect(obj: K8sObject, key: str) -> str:
    return str(obj.metadata.get("annotations", {}).get(PREFIX + key, ""))


CASES = [pytest.param(obj, id=obj.name) for obj in COLLECTED.objects]


def test_fixtures_read_cleanly() -> None:
    assert COLLECTED.skipped == ()
    assert len(COLLECTED.objects) >= 50


@pytest.mark.parametrize("level", ["baseline", "restricted"])
@pytest.mark.parametrize("obj", CASES)
def test_verdict_matches_admission(obj: K8sObject, level: str) -> None:
    result = audit(type(COLLECTED)((obj,)), standard=f"pss-{level}")
    failing = sorted({r.check_id for r in result.results if r.status == FAIL})
    verdict = "deny" if failing else "allow"
    assert verdict == _expect(obj, level), failing


@pytest.mark.parametrize("obj", CASES)
def test_named_checks_fail(obj: K8sObject) -> None:
    expected = {c for c in _expect(obj, "fails").split(",") if c}
    result = audit(type(COLLECTED)((obj,)))
    failing = {r.check_id for r in result.results if r.status == FAIL}
    assert expected <= failing


def test_every_pss_control_has_a_failing_fixture() -> None:
    named = {c for obj in COLLECTED.objects for c in _expect(obj, "fails").split(",") if c}
    pss = {c.spec.id for c in k8s_checks() if c.spec.id.startswith("CG-K8S-PSS-")}
    assert pss == named


def test_restricted_includes_every_baseline_control_not_overridden() -> None:
    # Restricted = Baseline minus the controls it replaces with stricter ones (upstream OverrideCheckIDs).
    specs = {c.spec.id: c.spec for c in k8s_checks()}
    baseline_only = {i for i, s in specs.items()
                     if "pss-baseline" in s.standards and "pss-restricted" not in s.standards}
    assert baseline_only == {"CG-K8S-PSS-004", "CG-K8S-PSS-005", "CG-K8S-PSS-010", "CG-K8S-PSS-011"}
