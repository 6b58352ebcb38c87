"""CIS Kubernetes Benchmark 1.8 section 2: etcd's flags, read from its static pod.

Tests as kube-bench's ``cfg/cis-1.8/etcd.yaml`` (see :mod:`._control_plane`): like etcd itself, a flag
not on the command line is read from its ``ETCD_*`` environment variable."""

from __future__ import annotations

from containerguard.checks.k8s._control_plane import ETCD, ControlPlaneCheck, absent_or, both, control_spec, flag
from containerguard.registry import register

MANIFEST = "/etc/kubernetes/manifests/etcd.yaml"
EDIT = f"Edit etcd's static pod manifest ({MANIFEST} on kubeadm control-plane nodes) and "


class _Etcd(ControlPlaneCheck):
    component = ETCD


@register("k8s-check")
class EtcdServingCertificate(_Etcd):
    """CIS 2.1."""

    test = both("--cert-file", "--key-file", env=("ETCD_CERT_FILE", "ETCD_KEY_FILE"))
    spec = control_spec(
        "CG-K8S-ETCD-001", "2.1", "Ensure that the --cert-file and --key-file arguments are set as appropriate",
        "HIGH", EDIT + "set --cert-file and --key-file to etcd's serving certificate and key.",
        "Without TLS, etcd (every secret of the cluster) is served in clear text.")


@register("k8s-check")
class EtcdClientCertAuth(_Etcd):
    """CIS 2.2."""

    test = flag("--client-cert-auth", "eq", "true", env="ETCD_CLIENT_CERT_AUTH")
    default = "defaults to false: any client reaching the port may read and write"
    spec = control_spec(
        "CG-K8S-ETCD-002", "2.2", "Ensure that the --client-cert-auth argument is set to true", "CRITICAL",
        EDIT + "set --client-cert-auth=true (with --trusted-ca-file).",
        "Without client certificate authentication anyone who reaches etcd can read every secret.")


@register("k8s-check")
class EtcdAutoTls(_Etcd):
    """CIS 2.3."""

    test = absent_or("--auto-tls", "eq", "false", env="ETCD_AUTO_TLS")
    spec = control_spec(
        "CG-K8S-ETCD-003", "2.3", "Ensure that the --auto-tls argument is not set to true", "HIGH",
        EDIT + "remove --auto-tls or set it to false, and give real certificates.",
        "Auto TLS uses self-signed certificates clients cannot verify.")


@register("k8s-check")
class EtcdPeerCertificate(_Etcd):
    """CIS 2.4."""

    test = both("--peer-cert-file", "--peer-key-file", env=("ETCD_PEER_CERT_FILE", "ETCD_PEER_KEY_FILE"))
    spec = control_spec(
        "CG-K8S-ETCD-004", "2.4", "Ensure that the --peer-cert-file and --peer-key-file arguments are set as "
        "appropriate", "HIGH", EDIT + "set --peer-cert-file and --peer-key-file for member-to-member TLS.",
        "Replication between etcd members carries every secret; it must be encrypted.")


@register("k8s-check")
class EtcdPeerClientCertAuth(_Etcd):
    """CIS 2.5."""

    test = flag("--peer-client-cert-auth", "eq", "true", env="ETCD_PEER_CLIENT_CERT_AUTH")
    default = "defaults to false"
    spec = control_spec(
        "CG-K8S-ETCD-005", "2.5", "Ensure that the --peer-client-cert-auth argument is set to true", "HIGH",
        EDIT + "set --peer-client-cert-auth=true (with --peer-trusted-ca-file).",
        "Without it any host reaching the peer port can join or read the replication stream.")


@register("k8s-check")
class EtcdPeerAutoTls(_Etcd):
    """CIS 2.6."""

    test = absent_or("--peer-auto-tls", "eq", "false", env="ETCD_PEER_AUTO_TLS")
    spec = control_spec(
        "CG-K8S-ETCD-006", "2.6", "Ensure that the --peer-auto-tls argument is not set to true", "HIGH",
        EDIT + "remove --peer-auto-tls or set it to false, and give real peer certificates.",
        "Peer auto TLS uses self-signed certificates members cannot verify.")


@register("k8s-check")
class EtcdTrustedCa(_Etcd):
    """CIS 2.7."""

    test = flag("--trusted-ca-file", env="ETCD_TRUSTED_CA_FILE")
    spec = control_spec(
        "CG-K8S-ETCD-007", "2.7", "Ensure that a unique Certificate Authority is used for etcd", "MEDIUM",
        EDIT + "set --trusted-ca-file to a CA used for etcd only (not the cluster CA), so that no other "
               "cluster certificate is accepted by etcd.",
        "With the cluster CA, any certificate it signs (e.g. a kubelet's) could authenticate to etcd. Only the "
        "flag's presence is decidable from the pod.", scored=False)
