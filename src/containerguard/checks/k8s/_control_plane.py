"""Control-plane flag checks shared by the CIS Kubernetes Benchmark sections 1.2-1.4 and 2: finding
the static control-plane pods, reading their command-line flags, and evaluating kube-bench style tests.

Where a cluster runs its control plane as static pods (kubeadm and most self-managed installers), the
kubelet publishes a mirror pod for each in ``kube-system`` (``kube-apiserver-<node>`` labelled
``component=kube-apiserver``, ``tier=control-plane``), so the API (or a ``kubectl get pods -n
kube-system -o json`` dump, or the ``/etc/kubernetes/manifests`` files themselves) shows the flags
each component runs with. Managed clusters hide their control plane: then these checks have nothing
to assess and report nothing.

The tests follow kube-bench's ``cfg/cis-1.8`` (``check/test.go``): each test item names a flag and
either requires it absent (``set: false``), present, or present with a value satisfying ``op``; items
combine with ``and`` (the default) or ``or``; an unscored (Manual) control that fails is kube-bench's
``WARN``, a scored one ``FAIL``. Deliberate differences, each where kube-bench reads ``ps`` text and
we have the exact argument list:

- a flag is matched by its exact name (kube-bench's substring match takes ``--peer-auto-tls=true``
  for ``--auto-tls`` and ``--peer-cert-file`` for ``--cert-file``);
- ``has`` / ``nothave`` compare elements of comma-separated lists (``--authorization-mode``,
  admission plugins, feature gates), not substrings;
- boolean values are read as Go's ``strconv.ParseBool`` reads them (``--profiling=0`` is false).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from containerguard.checks.k8s.base import Inventory, K8sCheckConfig, ObjectCheck, Violations, as_list, as_map
from containerguard.models.k8s import PASS, ControlRef, K8sCheckSpec, K8sObject

API_SERVER = "kube-apiserver"
CONTROLLER_MANAGER = "kube-controller-manager"
SCHEDULER = "kube-scheduler"
ETCD = "etcd"
COMPONENTS = (API_SERVER, CONTROLLER_MANAGER, SCHEDULER, ETCD)
CONTROL_PLANE_NAMESPACES = frozenset({"kube-system", ""})
"""Where static pods live (empty: a manifest file that leaves the namespace unset)."""
CIS_VERSION = "1.8"
"""The CIS Kubernetes Benchmark version the controls' numbers and tests come from (kube-bench ``cis-1.8``)."""

_SHELLS = frozenset({"sh", "bash", "ash", "dash"})
_SHELL_OPERATORS = frozenset({"|", "||", "&&", ";", "&", ">", ">>", "<", "2>&1", "1>&2"})
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


@dataclass(frozen=True)
class Flags:
    """A component's command-line flags and environment, as the process receives them."""

    values: Mapping[str, tuple[str, ...]]
    """Flag (``--name``) -> every value given, in order (a bare boolean flag reads ``true``)."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Literal environment variables of the container (etcd reads ``ETCD_*`` as flags)."""

    def lookup(self, flag: str, env: str = "") -> str | None:
        """The effective value of ``flag`` (the last one given), else of the environment variable
        ``env``; None when neither is set."""
        given = self.values.get(flag)
        if given:
            return given[-1]
        if env and env in self.env:
            return self.env[env]
        return None

    def elements(self, flag: str, env: str = "") -> list[str]:
        """Every comma-separated element of ``flag`` across repetitions (list flags append)."""
        given = self.values.get(flag) or ((self.env[env],) if env and env in self.env else ())
        return [e.strip() for value in given for e in value.split(",") if e.strip()]


def parse_flags(argv: Sequence[str], env: Mapping[str, str] | None = None) -> Flags:
    """Flags of ``argv`` (without the program): ``--flag=value``, ``--flag value`` (the next token
    when it does not start with ``-``) and bare ``--flag`` (``true``); ``-flag`` reads as ``--flag``."""
    values: dict[str, list[str]] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if not token.startswith("-") or token in ("-", "--"):
            continue
        name, eq, value = token.lstrip("-").partition("=")
        if not eq:
            if i < len(argv) and not argv[i].startswith("-"):
                value = argv[i]
                i += 1
            else:
                value = "true"
        values.setdefault(f"--{name}", []).append(value)
    return Flags({k: tuple(v) for k, v in values.items()}, dict(env or {}))


def _program(token: str) -> str:
    return os.path.basename(token)


def command_line(container: Mapping[str, Any], component: str) -> list[str] | None:
    """The arguments ``component`` runs with in ``container`` (``command`` then ``args``, as the
    kubelet joins them), or None when the container does not run ``component``. A ``sh -c`` wrapper
    is looked into: its script is split like a shell and cut at the first operator."""
    argv = [str(a) for a in as_list(container.get("command")) + as_list(container.get("args"))]
    if argv and _program(argv[0]) == component:
        return argv[1:]
    if argv and _program(argv[0]) in _SHELLS and "-c" in argv[1:]:
        script = argv[argv.index("-c") + 1] if argv.index("-c") + 1 < len(argv) else ""
        try:
            words = shlex.split(script, comments=True)
        except ValueError:
            return None
        for n, word in enumerate(words):
            if _program(word) == component:
                rest = words[n + 1:]
                cut = next((k for k, w in enumerate(rest) if w in _SHELL_OPERATORS), len(rest))
                return rest[:cut]
        return None
    if not as_list(container.get("command")) and str(container.get("name") or "") == component:
        # The image's entrypoint is the component itself: only args are in the spec.
        return argv
    return None


def _env(container: Mapping[str, Any]) -> dict[str, str]:
    # Only literal values: valueFrom refers to objects the checks do not see.
    return {str(e.get("name")): str(e.get("value")) for e in map(as_map, as_list(container.get("env")))
            if e.get("name") and "value" in e and e.get("value") is not None}


def component_of(obj: K8sObject) -> str:
    """The control-plane component a static pod runs (``component`` label, else its name), or "" for
    any other object."""
    if obj.kind != "Pod" or obj.namespace not in CONTROL_PLANE_NAMESPACES:
        return ""
    labels = as_map(obj.metadata.get("labels"))
    label = str(labels.get("component") or "")
    if label in COMPONENTS:
        return label
    for component in COMPONENTS:
        if obj.name == component or obj.name.startswith(component + "-"):
            return component
    return ""


def component_flags(obj: K8sObject, component: str) -> Flags | None:
    """The flags ``component`` runs with in the static pod ``obj``, or None when no container of the
    pod runs it."""
    if component_of(obj) != component:
        return None
    spec = as_map(obj.raw.get("spec"))
    for container in map(as_map, as_list(spec.get("containers"))):
        argv = command_line(container, component)
        if argv is not None:
            return parse_flags(argv, _env(container))
    return None


def go_bool(value: str) -> bool | None:
    """``value`` read as Go's ``strconv.ParseBool`` reads it (None: not a boolean)."""
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


@dataclass(frozen=True)
class Item:
    """One kube-bench test item: ``flag`` (or the environment variable ``env``) absent when
    ``set`` is false; else present and, with ``op``, its value satisfying ``op`` against ``value``."""

    flag: str
    op: str = ""
    """``eq``, ``noteq``, ``gte``, ``has``, ``nothave``, ``valid_elements`` or ``gate_not_disabled``
    (a ``--feature-gates`` entry ``value=<false>`` is absent); empty: presence only."""
    value: str = ""
    set: bool = True
    env: str = ""

    def expectation(self) -> str:
        """What the item requires, in kube-bench's wording."""
        if not self.set:
            return f"'{self.flag}' is not present"
        wording = {"eq": "is equal to", "noteq": "is not equal to", "gte": "is greater or equal to",
                   "has": "has", "nothave": "does not have", "valid_elements": "contains only elements of",
                   "gate_not_disabled": "does not disable"}
        if self.op:
            return f"'{self.flag}' {wording[self.op]} '{self.value}'"
        return f"'{self.flag}' is present"

    def passes(self, flags: Flags) -> bool:
        """The item's verdict on ``flags``."""
        found = flags.lookup(self.flag, self.env)
        if not self.set:
            return found is None
        if found is None:
            return False
        return _compare(self.op, found, flags.elements(self.flag, self.env), self.value) if self.op else True


def _compare(op: str, found: str, elements: list[str], wanted: str) -> bool:
    if op in ("eq", "noteq"):
        want_bool, got_bool = go_bool(wanted), go_bool(found)
        same = got_bool == want_bool if want_bool is not None and got_bool is not None else found == wanted
        return same if op == "eq" else not same
    if op == "gte":
        try:
            return int(found.strip()) >= int(wanted)
        except ValueError:
            return False
    if op == "has":
        return wanted in elements
    if op == "nothave":
        return wanted not in elements
    if op == "gate_not_disabled":
        # kube-bench: nothave "Gate=false" on the text; here any spelling Go reads as false counts.
        return not any(name.strip() == wanted and go_bool(v.strip()) is False
                       for name, _, v in (e.partition("=") for e in elements))
    if op == "valid_elements":
        allowed = {w.strip() for w in wanted.split(",") if w.strip()}
        return bool(elements) and all(e in allowed for e in elements)
    raise ValueError(f"unknown test operator {op!r}")


@dataclass(frozen=True)
class Test:
    """Test items combined with ``and`` (kube-bench's default) or ``or``."""

    items: tuple[Item, ...]
    bin_op: str = "and"

    def passes(self, flags: Flags) -> bool:
        """The combined verdict."""
        verdicts = [item.passes(flags) for item in self.items]
        return any(verdicts) if self.bin_op == "or" else all(verdicts)

    def expectation(self) -> str:
        """What the test requires."""
        return f" {self.bin_op} ".join(item.expectation() for item in self.items)


def flag(name: str, op: str = "", value: str = "", *, env: str = "") -> Test:
    """A test of one flag that must be present (with ``op``: and satisfy it)."""
    return Test((Item(name, op, value, env=env),))


def absent(name: str, *, env: str = "") -> Test:
    """A test of one flag that must not be given."""
    return Test((Item(name, set=False, env=env),))


def absent_or(name: str, op: str, value: str, *, env: str = "") -> Test:
    """kube-bench's ``bin_op: or`` of "flag not set" and "flag satisfies ``op``" (the default is safe)."""
    return Test((Item(name, op, value, env=env), Item(name, set=False, env=env)), "or")


def both(*names: str, env: Sequence[str] = ()) -> Test:
    """Every flag of ``names`` present (``bin_op: and``)."""
    envs = list(env) + [""] * (len(names) - len(env))
    return Test(tuple(Item(n, env=e) for n, e in zip(names, envs, strict=True)))


def control(section: str) -> tuple[ControlRef, ...]:
    """The CIS Kubernetes Benchmark ref of a control-plane control."""
    return (ControlRef("cis-k8s", section),)


class ControlPlaneCheck(ObjectCheck):
    """A CIS control on the flags of one control-plane component, assessed on each of its static pods."""

    kinds: ClassVar[frozenset[str]] = frozenset({"Pod"})
    component: ClassVar[str]
    test: ClassVar[Test]
    scored: ClassVar[bool] = True
    """The benchmark's "Automated" controls (from the spec's title); a failing Manual one is kube-bench's WARN."""
    default: ClassVar[str] = ""
    """What the component does when the flag is not given, for messages (empty: nothing to say)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "spec" in cls.__dict__:
            cls.scored = not cls.spec.title.endswith("(Manual)")

    def applies(self, obj: K8sObject, inventory: Inventory) -> bool:
        """Static pods running :attr:`component`."""
        return component_flags(obj, self.component) is not None

    def assess(self, obj: K8sObject, inventory: Inventory, config: K8sCheckConfig) -> Violations:
        """The expectation and what the pod gives, when the test fails."""
        flags = component_flags(obj, self.component)
        if flags is None or self.test.passes(flags):
            return []
        return [f"{self.component}: expected {self.test.expectation()}; {self._found(flags)}"]

    def _found(self, flags: Flags) -> str:
        parts = []
        for name in dict.fromkeys(item.flag for item in self.test.items):
            env = next((i.env for i in self.test.items if i.flag == name and i.env), "")
            value = flags.lookup(name, env)
            if value is None:
                parts.append(f"{name} is not set" + (f" ({self.default})" if self.default else ""))
            else:
                parts.append(f"{name}={value}")
        return ", ".join(parts)


def kube_bench_state(check: ControlPlaneCheck, status: str) -> str:
    """The state kube-bench reports for a result of ``check``: PASS, FAIL, or WARN (a Manual control failing)."""
    if status == PASS:
        return "PASS"
    return "FAIL" if check.scored else "WARN"


def control_spec(check_id: str, section: str, title: str, severity: str, remediation: str, description: str,
         *, scored: bool = True) -> K8sCheckSpec:
    """The spec of a control-plane check: the benchmark's title with its assessment status."""
    status = "Automated" if scored else "Manual"
    note = "" if scored else " A Manual control: kube-bench reports a failure as WARN."
    return K8sCheckSpec(id=check_id, title=f"{title} ({status})", severity=severity, controls=control(section),
                        remediation=remediation, description=description + note, category="control-plane")

