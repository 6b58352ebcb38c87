"""CIS Kubernetes Benchmark 1.8 section 1.2: the API server's flags, read from its static pod.

Tests as kube-bench's ``cfg/cis-1.8/master.yaml`` (see :mod:`._control_plane` for the few deliberate
differences). Not here: 1.2.21 (``--request-timeout``, a judgement kube-bench leaves manual) and 1.2.29
(the providers inside the encryption configuration file, which only the node's disk shows).
"""

from __future__ import annotations

from containerguard.checks.k8s._control_plane import (
    API_SERVER,
    ControlPlaneCheck,
    Item,
    Test,
    absent,
    absent_or,
    both,
    control_spec,
    flag,
)
from containerguard.registry import register

MANIFEST = "/etc/kubernetes/manifests/kube-apiserver.yaml"
EDIT = f"Edit the API server's static pod manifest ({MANIFEST} on kubeadm control-plane nodes) and "
STRONG_CIPHERS = (
    "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256,"
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,"
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,"
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,"
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,"
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,"
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,TLS_RSA_WITH_3DES_EDE_CBC_SHA,TLS_RSA_WITH_AES_128_CBC_SHA,"
    "TLS_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_256_CBC_SHA,TLS_RSA_WITH_AES_256_GCM_SHA384")
"""The cipher suites CIS 1.2.30 accepts (kube-bench's list, as the benchmark gives it)."""


class _ApiServer(ControlPlaneCheck):
    component = API_SERVER


@register("k8s-check")
class AnonymousAuth(_ApiServer):
    """CIS 1.2.1."""

    test = flag("--anonymous-auth", "eq", "false")
    default = "anonymous requests are allowed by default"
    spec = control_spec(
        "CG-K8S-APISERVER-001", "1.2.1", "Ensure that the --anonymous-auth argument is set to false", "HIGH",
        EDIT + "set --anonymous-auth=false (check first that health checks and discovery do not rely on "
               "anonymous access).",
        "Requests without credentials are served as system:anonymous; RBAC mistakes then expose the API "
        "to anyone who can reach it.", scored=False)


@register("k8s-check")
class TokenAuthFile(_ApiServer):
    """CIS 1.2.2."""

    test = absent("--token-auth-file")
    spec = control_spec(
        "CG-K8S-APISERVER-002", "1.2.2", "Ensure that the --token-auth-file parameter is not set", "HIGH",
        EDIT + "remove --token-auth-file and use certificates, OIDC or service account tokens instead.",
        "Static tokens live in clear text on the node, never expire and cannot be revoked without a "
        "restart.")


@register("k8s-check")
class DenyServiceExternalIPs(_ApiServer):
    """CIS 1.2.3."""

    test = flag("--enable-admission-plugins", "has", "DenyServiceExternalIPs")
    spec = control_spec(
        "CG-K8S-APISERVER-003", "1.2.3", "Ensure that the --DenyServiceExternalIPs is set", "LOW",
        EDIT + "add DenyServiceExternalIPs to --enable-admission-plugins.",
        "Services with externalIPs can intercept traffic for any address (CVE-2020-8554).", scored=False)


@register("k8s-check")
class KubeletClientCertificate(_ApiServer):
    """CIS 1.2.4."""

    test = both("--kubelet-client-certificate", "--kubelet-client-key")
    spec = control_spec(
        "CG-K8S-APISERVER-004", "1.2.4", "Ensure that the --kubelet-client-certificate and "
        "--kubelet-client-key arguments are set as appropriate", "HIGH",
        EDIT + "set --kubelet-client-certificate and --kubelet-client-key to a client certificate the "
               "kubelets trust.",
        "Without a client certificate the API server cannot authenticate to kubelets, which must then "
        "accept unauthenticated requests.")


@register("k8s-check")
class KubeletCertificateAuthority(_ApiServer):
    """CIS 1.2.5."""

    test = flag("--kubelet-certificate-authority")
    spec = control_spec(
        "CG-K8S-APISERVER-005", "1.2.5", "Ensure that the --kubelet-certificate-authority argument is set as "
        "appropriate", "HIGH",
        EDIT + "set --kubelet-certificate-authority to the CA that signs the kubelets' serving "
               "certificates (serving certificates must be signed, e.g. serverTLSBootstrap).",
        "Without it the API server does not verify kubelets' serving certificates: exec, logs and "
        "port-forward traffic can be intercepted.")


@register("k8s-check")
class AuthorizationNotAlwaysAllow(_ApiServer):
    """CIS 1.2.6."""

    test = flag("--authorization-mode", "nothave", "AlwaysAllow")
    default = "defaults to AlwaysAllow"
    spec = control_spec(
        "CG-K8S-APISERVER-006", "1.2.6", "Ensure that the --authorization-mode argument is not set to "
        "AlwaysAllow", "CRITICAL",
        EDIT + "set --authorization-mode=Node,RBAC.",
        "AlwaysAllow authorizes every authenticated request.")


@register("k8s-check")
class AuthorizationNode(_ApiServer):
    """CIS 1.2.7."""

    test = flag("--authorization-mode", "has", "Node")
    spec = control_spec(
        "CG-K8S-APISERVER-007", "1.2.7", "Ensure that the --authorization-mode argument includes Node",
        "MEDIUM", EDIT + "include Node in --authorization-mode (e.g. --authorization-mode=Node,RBAC).",
        "The Node authorizer limits each kubelet to the objects of its own pods.")


@register("k8s-check")
class AuthorizationRBAC(_ApiServer):
    """CIS 1.2.8."""

    test = flag("--authorization-mode", "has", "RBAC")
    spec = control_spec(
        "CG-K8S-APISERVER-008", "1.2.8", "Ensure that the --authorization-mode argument includes RBAC",
        "HIGH", EDIT + "include RBAC in --authorization-mode (e.g. --authorization-mode=Node,RBAC).",
        "RBAC gives least-privilege, auditable permissions per user and service account.")


@register("k8s-check")
class EventRateLimit(_ApiServer):
    """CIS 1.2.9."""

    test = flag("--enable-admission-plugins", "has", "EventRateLimit")
    spec = control_spec(
        "CG-K8S-APISERVER-009", "1.2.9", "Ensure that the admission control plugin EventRateLimit is set",
        "LOW", EDIT + "add EventRateLimit to --enable-admission-plugins and give its limits in "
                      "--admission-control-config-file.",
        "An event flood can overload the API server and etcd.", scored=False)


@register("k8s-check")
class NoAlwaysAdmit(_ApiServer):
    """CIS 1.2.10."""

    test = absent_or("--enable-admission-plugins", "nothave", "AlwaysAdmit")
    spec = control_spec(
        "CG-K8S-APISERVER-010", "1.2.10", "Ensure that the admission control plugin AlwaysAdmit is not set",
        "HIGH", EDIT + "remove AlwaysAdmit from --enable-admission-plugins.",
        "AlwaysAdmit (deprecated) admits every request, whatever the other admission plugins decide.")


@register("k8s-check")
class AlwaysPullImages(_ApiServer):
    """CIS 1.2.11."""

    test = flag("--enable-admission-plugins", "has", "AlwaysPullImages")
    spec = control_spec(
        "CG-K8S-APISERVER-011", "1.2.11", "Ensure that the admission control plugin AlwaysPullImages is set",
        "LOW", EDIT + "add AlwaysPullImages to --enable-admission-plugins.",
        "Without it, a pod on a node may run a private image another tenant pulled there without the "
        "credentials to pull it.", scored=False)


@register("k8s-check")
class SecurityContextDeny(_ApiServer):
    """CIS 1.2.12."""

    test = Test((Item("--enable-admission-plugins", "has", "SecurityContextDeny"),
                 Item("--enable-admission-plugins", "has", "PodSecurityPolicy")), "or")
    spec = control_spec(
        "CG-K8S-APISERVER-012", "1.2.12", "Ensure that the admission control plugin SecurityContextDeny is "
        "set if PodSecurityPolicy is not used", "LOW",
        EDIT + "add SecurityContextDeny to --enable-admission-plugins, or (Kubernetes 1.25 and later, where "
               "both plugins are gone) enforce Pod Security Admission on every namespace.",
        "Without a pod security admission control any pod may request privileges.", scored=False)


@register("k8s-check")
class ServiceAccountPlugin(_ApiServer):
    """CIS 1.2.13."""

    test = absent_or("--disable-admission-plugins", "nothave", "ServiceAccount")
    spec = control_spec(
        "CG-K8S-APISERVER-013", "1.2.13", "Ensure that the admission control plugin ServiceAccount is set",
        "MEDIUM", EDIT + "remove ServiceAccount from --disable-admission-plugins.",
        "The ServiceAccount plugin gives pods their service account and its token; disabling it breaks "
        "workload identity and least privilege.")


@register("k8s-check")
class NamespaceLifecycle(_ApiServer):
    """CIS 1.2.14."""

    test = absent_or("--disable-admission-plugins", "nothave", "NamespaceLifecycle")
    spec = control_spec(
        "CG-K8S-APISERVER-014", "1.2.14", "Ensure that the admission control plugin NamespaceLifecycle is "
        "set", "MEDIUM", EDIT + "remove NamespaceLifecycle from --disable-admission-plugins.",
        "NamespaceLifecycle refuses objects in terminating or missing namespaces and protects the system "
        "namespaces from deletion.")


@register("k8s-check")
class NodeRestriction(_ApiServer):
    """CIS 1.2.15."""

    test = flag("--enable-admission-plugins", "has", "NodeRestriction")
    spec = control_spec(
        "CG-K8S-APISERVER-015", "1.2.15", "Ensure that the admission control plugin NodeRestriction is set",
        "MEDIUM", EDIT + "add NodeRestriction to --enable-admission-plugins (with the Node authorizer).",
        "NodeRestriction stops a kubelet from changing other nodes' objects or its own protected labels.")


@register("k8s-check")
class Profiling(_ApiServer):
    """CIS 1.2.16."""

    test = flag("--profiling", "eq", "false")
    default = "profiling is on by default"
    spec = control_spec(
        "CG-K8S-APISERVER-016", "1.2.16", "Ensure that the --profiling argument is set to false", "LOW",
        EDIT + "set --profiling=false.",
        "The profiling endpoints reveal internals and cost resources; production does not need them.")


@register("k8s-check")
class AuditLogPath(_ApiServer):
    """CIS 1.2.17."""

    test = flag("--audit-log-path")
    spec = control_spec(
        "CG-K8S-APISERVER-017", "1.2.17", "Ensure that the --audit-log-path argument is set", "MEDIUM",
        EDIT + "set --audit-log-path (e.g. /var/log/kubernetes/audit/audit.log) and an --audit-policy-file.",
        "Without an audit log nobody can tell who did what through the API.")


@register("k8s-check")
class AuditLogMaxAge(_ApiServer):
    """CIS 1.2.18."""

    test = flag("--audit-log-maxage", "gte", "30")
    spec = control_spec(
        "CG-K8S-APISERVER-018", "1.2.18", "Ensure that the --audit-log-maxage argument is set to 30 or as "
        "appropriate", "LOW", EDIT + "set --audit-log-maxage=30 (days) or more.",
        "Audit logs must be kept long enough to investigate an incident.")


@register("k8s-check")
class AuditLogMaxBackup(_ApiServer):
    """CIS 1.2.19."""

    test = flag("--audit-log-maxbackup", "gte", "10")
    spec = control_spec(
        "CG-K8S-APISERVER-019", "1.2.19", "Ensure that the --audit-log-maxbackup argument is set to 10 or as "
        "appropriate", "LOW", EDIT + "set --audit-log-maxbackup=10 or more.",
        "Enough rotated audit log files must be kept to investigate an incident.")


@register("k8s-check")
class AuditLogMaxSize(_ApiServer):
    """CIS 1.2.20."""

    test = flag("--audit-log-maxsize", "gte", "100")
    spec = control_spec(
        "CG-K8S-APISERVER-020", "1.2.20", "Ensure that the --audit-log-maxsize argument is set to 100 or as "
        "appropriate", "LOW", EDIT + "set --audit-log-maxsize=100 (MB) or more.",
        "Audit log files must be rotated at a size that keeps enough history.")


@register("k8s-check")
class ServiceAccountLookup(_ApiServer):
    """CIS 1.2.22."""

    test = absent_or("--service-account-lookup", "eq", "true")
    spec = control_spec(
        "CG-K8S-APISERVER-021", "1.2.22", "Ensure that the --service-account-lookup argument is set to true",
        "MEDIUM", EDIT + "remove --service-account-lookup or set it to true.",
        "Without the lookup, tokens of deleted service accounts keep working until they expire.")


@register("k8s-check")
class ServiceAccountKeyFile(_ApiServer):
    """CIS 1.2.23."""

    test = flag("--service-account-key-file")
    spec = control_spec(
        "CG-K8S-APISERVER-022", "1.2.23", "Ensure that the --service-account-key-file argument is set as "
        "appropriate", "MEDIUM",
        EDIT + "set --service-account-key-file to the public key(s) matching the controller manager's "
               "--service-account-private-key-file.",
        "An explicit key file allows rotating the key that signs service account tokens.")


@register("k8s-check")
class EtcdClientCertificate(_ApiServer):
    """CIS 1.2.24."""

    test = both("--etcd-certfile", "--etcd-keyfile")
    spec = control_spec(
        "CG-K8S-APISERVER-023", "1.2.24", "Ensure that the --etcd-certfile and --etcd-keyfile arguments are "
        "set as appropriate", "HIGH",
        EDIT + "set --etcd-certfile and --etcd-keyfile to a client certificate etcd trusts.",
        "etcd holds every secret of the cluster; the API server must authenticate to it with a certificate.")


@register("k8s-check")
class TlsCertificate(_ApiServer):
    """CIS 1.2.25."""

    test = both("--tls-cert-file", "--tls-private-key-file")
    spec = control_spec(
        "CG-K8S-APISERVER-024", "1.2.25", "Ensure that the --tls-cert-file and --tls-private-key-file "
        "arguments are set as appropriate", "HIGH",
        EDIT + "set --tls-cert-file and --tls-private-key-file to the API server's serving certificate.",
        "Without them the API server serves a self-signed certificate clients cannot verify.")


@register("k8s-check")
class ClientCaFile(_ApiServer):
    """CIS 1.2.26."""

    test = flag("--client-ca-file")
    spec = control_spec(
        "CG-K8S-APISERVER-025", "1.2.26", "Ensure that the --client-ca-file argument is set as appropriate",
        "HIGH", EDIT + "set --client-ca-file to the CA that signs client certificates.",
        "Client certificate authentication (kubelets, controllers, admins) needs the CA to verify them.")


@register("k8s-check")
class EtcdCaFile(_ApiServer):
    """CIS 1.2.27."""

    test = flag("--etcd-cafile")
    spec = control_spec(
        "CG-K8S-APISERVER-026", "1.2.27", "Ensure that the --etcd-cafile argument is set as appropriate",
        "HIGH", EDIT + "set --etcd-cafile to the CA of etcd's serving certificate.",
        "Without it the API server cannot verify it talks to the real etcd.")


@register("k8s-check")
class EncryptionProviderConfig(_ApiServer):
    """CIS 1.2.28."""

    test = flag("--encryption-provider-config")
    spec = control_spec(
        "CG-K8S-APISERVER-027", "1.2.28", "Ensure that the --encryption-provider-config argument is set as "
        "appropriate", "MEDIUM",
        EDIT + "write an EncryptionConfiguration (aescbc, secretbox or kms providers first) and point "
               "--encryption-provider-config to it.",
        "Without encryption at rest, secrets are stored in etcd (and its backups) in clear text.",
        scored=False)


@register("k8s-check")
class StrongCiphers(_ApiServer):
    """CIS 1.2.30."""

    test = flag("--tls-cipher-suites", "valid_elements", STRONG_CIPHERS)
    spec = control_spec(
        "CG-K8S-APISERVER-028", "1.2.30", "Ensure that the API Server only makes use of Strong Cryptographic "
        "Ciphers", "LOW",
        EDIT + "set --tls-cipher-suites to strong suites only, e.g. TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,"
               "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,"
               "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384.",
        "Go's default suites include ones the benchmark does not accept.", scored=False)
