"""CIS Kubernetes Benchmark 1.8 section 1.3: the controller manager's flags, read from its static pod.

Tests as kube-bench's ``cfg/cis-1.8/master.yaml`` (see :mod:`._control_plane`)."""

from __future__ import annotations

from containerguard.checks.k8s._control_plane import (
    CONTROLLER_MANAGER,
    ControlPlaneCheck,
    Item,
    Test,
    absent_or,
    control_spec,
    flag,
)
from containerguard.registry import register

MANIFEST = "/etc/kubernetes/manifests/kube-controller-manager.yaml"
EDIT = f"Edit the controller manager's static pod manifest ({MANIFEST} on kubeadm control-plane nodes) and "


class _ControllerManager(ControlPlaneCheck):
    component = CONTROLLER_MANAGER


@register("k8s-check")
class TerminatedPodGcThreshold(_ControllerManager):
    """CIS 1.3.1."""

    test = flag("--terminated-pod-gc-threshold")
    default = "defaults to 12500 terminated pods"
    spec = control_spec(
        "CG-K8S-CTRLMGR-001", "1.3.1", "Ensure that the --terminated-pod-gc-threshold argument is set as "
        "appropriate", "LOW", EDIT + "set --terminated-pod-gc-threshold to a threshold fit for the cluster, e.g. 10.",
        "Terminated pods are kept until the threshold; too many degrade the controllers and etcd.", scored=False)


@register("k8s-check")
class ControllerManagerProfiling(_ControllerManager):
    """CIS 1.3.2."""

    test = flag("--profiling", "eq", "false")
    default = "profiling is on by default"
    spec = control_spec(
        "CG-K8S-CTRLMGR-002", "1.3.2", "Ensure that the --profiling argument is set to false", "LOW",
        EDIT + "set --profiling=false.",
        "The profiling endpoints reveal internals and cost resources; production does not need them.")


@register("k8s-check")
class UseServiceAccountCredentials(_ControllerManager):
    """CIS 1.3.3."""

    test = flag("--use-service-account-credentials", "noteq", "false")
    default = "defaults to false: every controller runs with the controller manager's own, broad credentials"
    spec = control_spec(
        "CG-K8S-CTRLMGR-003", "1.3.3", "Ensure that the --use-service-account-credentials argument is set to true",
        "MEDIUM", EDIT + "set --use-service-account-credentials=true (the RBAC roles of each controller exist by "
                         "default).",
        "With it each controller uses its own service account and least-privilege role.")


@register("k8s-check")
class ServiceAccountPrivateKeyFile(_ControllerManager):
    """CIS 1.3.4."""

    test = flag("--service-account-private-key-file")
    spec = control_spec(
        "CG-K8S-CTRLMGR-004", "1.3.4", "Ensure that the --service-account-private-key-file argument is set as "
        "appropriate", "MEDIUM",
        EDIT + "set --service-account-private-key-file to the key whose public half the API server's "
               "--service-account-key-file holds.",
        "An explicit signing key allows rotating the key of service account tokens.")


@register("k8s-check")
class RootCaFile(_ControllerManager):
    """CIS 1.3.5."""

    test = flag("--root-ca-file")
    spec = control_spec(
        "CG-K8S-CTRLMGR-005", "1.3.5", "Ensure that the --root-ca-file argument is set as appropriate", "MEDIUM",
        EDIT + "set --root-ca-file to the cluster CA bundle.",
        "Pods get the root CA with their service account token, to verify the API server's certificate.")


@register("k8s-check")
class RotateKubeletServerCertificate(_ControllerManager):
    """CIS 1.3.6."""

    test = Test((Item("--feature-gates", "gate_not_disabled", "RotateKubeletServerCertificate"),
                 Item("--feature-gates", set=False)), "or")
    spec = control_spec(
        "CG-K8S-CTRLMGR-006", "1.3.6", "Ensure that the RotateKubeletServerCertificate argument is set to true",
        "MEDIUM", EDIT + "remove RotateKubeletServerCertificate=false from --feature-gates.",
        "Kubelet serving certificates must be rotated before they expire.")


@register("k8s-check")
class ControllerManagerBindAddress(_ControllerManager):
    """CIS 1.3.7."""

    test = absent_or("--bind-address", "eq", "127.0.0.1")
    spec = control_spec(
        "CG-K8S-CTRLMGR-007", "1.3.7", "Ensure that the --bind-address argument is set to 127.0.0.1", "MEDIUM",
        EDIT + "set --bind-address=127.0.0.1.",
        "The controller manager's health and metrics endpoints need not be reachable from the network "
        "(as kube-bench, an unset flag passes).")
