"""The server's Kubernetes allow-lists, from its environment (the CLI takes them as options).

Each variable is a comma-separated list; unset or empty leaves that list empty (see
:class:`~containerguard.checks.k8s.base.K8sCheckConfig` for what an empty list means):

``CONTAINERGUARD_K8S_ALLOWED_REGISTRIES`` (regular expressions matched from an image reference's start),
``CONTAINERGUARD_K8S_ALLOWED_PORTS`` (Service ports), ``CONTAINERGUARD_K8S_ALLOWED_HOST_PATHS`` (hostPath
prefixes), ``CONTAINERGUARD_K8S_ALLOWED_HOST_PORTS``, ``CONTAINERGUARD_K8S_ALLOWED_CAPABILITIES``.
The same lists apply to scheduled cluster assessments and to the admission webhook, so a workload
gets one verdict whichever way it is assessed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from containerguard.errors import ConfigError

from .base import K8sCheckConfig

PREFIX = "CONTAINERGUARD_K8S_ALLOWED_"


def _items(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(PREFIX + name, "").split(",") if item.strip())


def _ports(env: Mapping[str, str], name: str) -> tuple[int, ...]:
    ports = []
    for item in _items(env, name):
        if not item.isdigit() or not 0 < int(item) < 65536:
            raise ConfigError(f"{PREFIX}{name}: {item!r} is not a port number (1-65535)")
        ports.append(int(item))
    return tuple(ports)


def config_from_env(env: Mapping[str, str] | None = None) -> K8sCheckConfig:
    """The allow-lists in ``env`` (default: the process environment); ConfigError naming a bad value."""
    env = os.environ if env is None else env
    registries = _items(env, "REGISTRIES")
    for pattern in registries:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"{PREFIX}REGISTRIES: {pattern!r} is not a regular expression: {exc}") from exc
    return K8sCheckConfig(allowed_registries=registries, allowed_service_ports=_ports(env, "PORTS"),
                          allowed_host_paths=_items(env, "HOST_PATHS"), allowed_host_ports=_ports(env, "HOST_PORTS"),
                          allowed_capabilities=tuple(c.upper() for c in _items(env, "CAPABILITIES")))
