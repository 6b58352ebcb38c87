"""CIS Kubernetes Benchmark 1.8 section 1.4: the scheduler's flags, read from its static pod.

Tests as kube-bench's ``cfg/cis-1.8/master.yaml`` (see :mod:`._control_plane`)."""

from __future__ import annotations

from containerguard.checks.k8s._control_plane import SCHEDULER, ControlPlaneCheck, absent_or, control_spec, flag
from containerguard.registry import register

MANIFEST = "/etc/kubernetes/manifests/kube-scheduler.yaml"
EDIT = f"Edit the scheduler's static pod manifest ({MANIFEST} on kubeadm control-plane nodes) and "


class _Scheduler(ControlPlaneCheck):
    component = SCHEDULER


@register("k8s-check")
class SchedulerProfiling(_Scheduler):
    """CIS 1.4.1."""

    test = flag("--profiling", "eq", "false")
    default = "profiling is on by default"
    spec = control_spec(
        "CG-K8S-SCHED-001", "1.4.1", "Ensure that the --profiling argument is set to false", "LOW",
        EDIT + "set --profiling=false.",
        "The profiling endpoints reveal internals and cost resources; production does not need them.")


@register("k8s-check")
class SchedulerBindAddress(_Scheduler):
    """CIS 1.4.2."""

    test = absent_or("--bind-address", "eq", "127.0.0.1")
    spec = control_spec(
        "CG-K8S-SCHED-002", "1.4.2", "Ensure that the --bind-address argument is set to 127.0.0.1", "MEDIUM",
        EDIT + "set --bind-address=127.0.0.1.",
        "The scheduler's health and metrics endpoints need not be reachable from the network "
        "(as kube-bench, an unset flag passes).")
