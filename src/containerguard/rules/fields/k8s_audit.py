"""``k8s_audit`` source: the ``ka.*`` fields exactly as the Falco k8saudit plugin extracts them, plus the
``jevt.*``/``json.*`` fields of Falco's json plugin that the published k8s audit rules also read.

An event's ``data`` is one ``audit.k8s.io/v1`` Event object (a dict parsed from JSON). Non-string JSON
values render as compact JSON, as the plugin does (``true``, ``200``, objects for ``ka.req.role.rules``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from containerguard.registry import register

from ..model import Event
from . import Arg, FieldDef, FieldSource, Getter, Value, json_str, simple
from .common import generic_fields, iso8601, parse_time

_NA: Any = object()  # "not available" inside extraction; getters turn it into None


def event_time_ns(ev: Event) -> int:
    """The audit event's stage timestamp (what the plugin stamps the event with), epoch ns; like the plugin,
    an event without a usable timestamp is stamped with the time it was read (so ``jevt.rawtime`` is never 0)."""
    cached = ev.cache.get("@t")
    if cached is None:
        data = ev.data
        cached = (parse_time(data.get("stageTimestamp")) or parse_time(data.get("requestReceivedTimestamp"))
                  or time.time_ns())
        ev.cache["@t"] = cached
    return int(cached)


def _dig(value: Any, keys: tuple[str, ...]) -> Any:
    for k in keys:
        if value.__class__ is not dict:
            return _NA
        value = value.get(k, _NA)
        if value is _NA:
            return _NA
    return value


def _scalar(*keys: str) -> Getter:
    """extractFromKeys for a string field: the value at ``keys``, non-strings as JSON."""
    if len(keys) == 1:
        (k,) = keys

        def one(ev: Event) -> Value:
            v: Value = ev.data.get(k, _NA)
            if v.__class__ is str:
                return v
            return None if v is _NA else json_str(v)

        return one
    if len(keys) == 2:
        k1, k2 = keys

        def two(ev: Event) -> Value:
            v = ev.data.get(k1)
            if v.__class__ is not dict:
                return None
            s: Value = v.get(k2, _NA)
            if s.__class__ is str:
                return s
            return None if s is _NA else json_str(s)

        return two

    def many(ev: Event) -> Value:
        v = _dig(ev.data, keys)
        return None if v is _NA else json_str(v)

    return many


def _list(*keys: str) -> Getter:
    """extractFromKeys for a list field: the array at ``keys`` (anything else is not available)."""

    def get(ev: Event) -> Value:
        v = _dig(ev.data, keys)
        if v.__class__ is not list:
            return None
        return tuple(json_str(x) for x in v)

    return get


def _recursive(value: Any, index: int | None, keys: tuple[str, ...]) -> list[Any] | None:
    """The plugin's getValuesRecursive: walk ``keys``, fanning out over arrays (or picking ``index``)."""
    for i, k in enumerate(keys):
        if value.__class__ is list:
            if index is None:
                out: list[Any] = []
                for item in value:
                    sub = _recursive(item, index, keys[i:])
                    if sub is None:
                        out.append(_NA)
                    else:
                        out.extend(sub)
                return out
            if index < 0 or index >= len(value):
                return None
            value = value[index]
        if k:
            if value.__class__ is not dict or k not in value:
                return None
            value = value[k]
    return [value]


def _index(arg: str | None) -> int | None:
    return None if arg is None else int(arg)


def _cached(key: str, arg: str | None, compute: Callable[[Any, int | None], Value]) -> Getter:
    """A derived field computed once per event and kept in the event's cache."""
    index = _index(arg)
    slot = (key, index)

    def get(ev: Event) -> Value:
        cache = ev.cache
        if slot in cache:
            return cache[slot]  # type: ignore[no-any-return]
        value = compute(ev.data, index)
        cache[slot] = value
        return value

    return get


def _skip_nil(*keys: str) -> Callable[[Any, int | None], Value]:
    """getValuesRecursive + arrayAsStringsSkipNil."""

    def compute(data: Any, index: int | None) -> Value:
        values = _recursive(data, index, keys)
        if values is None:
            return None
        return tuple(json_str(v) for v in values if v is not _NA)

    return compute


def _images(data: Any, index: int | None) -> Value:
    """readContainerImages: every container must name an image, or the field is not available."""
    values = _recursive(data, index, ("requestObject", "spec", "containers", "image"))
    if values is None or any(v is _NA for v in values):
        return None
    return tuple(json_str(v) for v in values)


def _repositories(data: Any, index: int | None) -> Value:
    images = _images(data, index)
    if not isinstance(images, tuple):
        return None
    return tuple(image.split(":")[0].split("@")[0] for image in images)


def _host_ports(data: Any, index: int | None) -> Value:
    ports_lists = _recursive(data, index, ("requestObject", "spec", "containers", "ports"))
    if ports_lists is None:
        return None
    out: list[str] = []
    for ports in ports_lists:
        if ports is _NA:
            continue
        if ports.__class__ is not list:
            return None
        for port in ports:
            if port.__class__ is not dict:
                continue
            if "hostPort" in port:
                out.append(json_str(port["hostPort"]))
            elif "containerPort" in port:
                out.append(json_str(port["containerPort"]))
    return tuple(out)


def _effective(key: str) -> Callable[[Any, int | None], Value]:
    """readFromContainerEffectively, as the plugin implements it: the pod default is read from
    ``spec.<key>`` and each container's value from ``containers[].<key>`` (not from securityContext)."""

    def compute(data: Any, index: int | None) -> Value:
        default = _dig(data, ("requestObject", "spec", key))
        pod = "0" if default is _NA else json_str(default)
        values = _recursive(data, index, ("requestObject", "spec", "containers", key))
        if values is None:
            return None
        return tuple(pod if v is _NA else json_str(v) for v in values)

    return compute


def _rules_field(*keys: str) -> Callable[[Any, int | None], Value]:
    """extractRulesField: arrays under each role rule, flattened, nils skipped."""

    def compute(data: Any, index: int | None) -> Value:
        values = _recursive(data, index, ("requestObject", "rules", *keys))
        if values is None:
            return None
        out: list[str] = []
        for v in values:
            if v.__class__ is list:
                out.extend(json_str(x) for x in v)
        return tuple(out)

    return compute


def _volume_types(data: Any, index: int | None) -> Value:
    values = _recursive(data, index, ("requestObject", "spec", "volumes", ""))
    if values is None:
        return None
    return tuple(k for v in values if v.__class__ is dict for k in v if k != "name")


def _any_privileged(data: Any, _index: int | None) -> Value:
    values = _recursive(data, None, ("requestObject", "spec", "containers", "securityContext", "privileged"))
    if values is None:
        return None
    return "true" if any(v is True for v in values) else "false"


def _first(compute: Callable[[Any, int | None], Value]) -> Callable[[Any, int | None], Value]:
    def first(data: Any, _index: int | None) -> Value:
        values = compute(data, 0)
        return values[0] if isinstance(values, tuple) and values else None

    return first


def _uri_param(arg: str | None) -> Getter:
    key = arg or ""

    def get(ev: Event) -> Value:
        uri = ev.data.get("requestURI")
        if uri is None:
            return None
        try:
            values = parse_qs(urlsplit(json_str(uri)).query, keep_blank_values=True).get(key)
        except ValueError:
            return None
        return values[0] if values else None

    return get


def _volume_hostpath(arg: str | None) -> Getter:
    """Deprecated ``ka.req.volume.hostpath[PATH]``: "true" when a hostPath volume is PATH (or PATH* prefix)."""
    key = arg or ""
    prefix = key[:-1] if key.endswith("*") else None

    def get(ev: Event) -> Value:
        values = _recursive(ev.data, None, ("requestObject", "spec", "volumes", "hostPath", "path"))
        if values is None:
            return None
        for v in values:
            if v is _NA:
                continue
            text = json_str(v)
            if (prefix is not None and text.startswith(prefix)) or text == key:
                return "true"
        return "false"

    return get


def _pointer(arg: str | None) -> Getter:
    """json plugin's ``json.value[/json/pointer]`` (RFC 6901)."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in (arg or "").split("/")[1:]]
    if len(parts) == 1:
        (key,) = parts

        def top(ev: Event) -> Value:  # the hot case: kevt reads /stage on every event
            v: Value = ev.data.get(key)
            if v.__class__ is str:
                return v
            return None if v is None and key not in ev.data else json_str(v)

        return top

    def get(ev: Event) -> Value:
        value: Any = ev.data
        for part in parts:
            if value.__class__ is dict:
                if part not in value:
                    return None
                value = value[part]
            elif value.__class__ is list and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                return None
        return json_str(value)

    return get


def _derived(name: str, desc: str, compute: Callable[[Any, int | None], Value], *, indexed: bool = True) -> FieldDef:
    return FieldDef(name, "string", desc, lambda arg: _cached(name, arg, compute), is_list=True,
                    arg=Arg.OPTIONAL if indexed else Arg.NONE, index_arg=indexed)


def _scalar_field(name: str, desc: str, *keys: str) -> FieldDef:
    return simple(name, "string", desc, _scalar(*keys))


def _fields() -> dict[str, FieldDef]:
    req, spec, sc = "requestObject", "spec", "securityContext"
    containers = (req, spec, "containers")
    defs = [
        _scalar_field("ka.auditid", "The unique id of the audit event", "auditID"),
        _scalar_field("ka.stage", "Stage of the request", "stage"),
        _scalar_field("ka.auth.decision", "The authorization decision", "annotations", "authorization.k8s.io/decision"),
        _scalar_field("ka.auth.reason", "The authorization reason", "annotations", "authorization.k8s.io/reason"),
        _scalar_field("ka.user.name", "The user name performing the request", "user", "username"),
        simple("ka.user.groups", "string", "The groups to which the user belongs", _list("user", "groups"),
               is_list=True),
        _scalar_field("ka.impuser.name", "The impersonated user name", "impersonatedUser", "username"),
        _scalar_field("ka.verb", "The action being performed", "verb"),
        _scalar_field("ka.uri", "The request URI as sent from client to server", "requestURI"),
        FieldDef("ka.uri.param", "string", "The value of a given query parameter in the uri", _uri_param,
                 arg=Arg.REQUIRED),
        _scalar_field("ka.target.name", "The target object name", "objectRef", "name"),
        _scalar_field("ka.target.namespace", "The target object namespace", "objectRef", "namespace"),
        _scalar_field("ka.target.resource", "The target object resource", "objectRef", "resource"),
        _scalar_field("ka.target.subresource", "The target object subresource", "objectRef", "subresource"),
        simple("ka.req.binding.subjects", "string", "The subjects linked by a (cluster) role binding",
               _list(req, "subjects"), is_list=True),
        _scalar_field("ka.req.binding.role", "The role linked by a (cluster) role binding", req, "roleRef", "name"),
        FieldDef("ka.req.binding.subject.has_name", "string", "Deprecated, always true",
                 lambda _arg: lambda _ev: "true", arg=Arg.REQUIRED),
        _scalar_field("ka.req.configmap.name", "If the request object refers to a configmap, its name",
                      "objectRef", "name"),
        _scalar_field("ka.req.configmap.obj", "If the request object refers to a configmap, its data", req, "data"),
        _derived("ka.req.pod.containers.image", "The pod's container images", _images),
        FieldDef("ka.req.container.image", "string", "Deprecated: the image of the first container",
                 lambda _arg: _cached("ka.req.container.image", None, _first(_images))),
        _derived("ka.req.pod.containers.image.repository", "The pod's container image repositories",
                 _repositories),
        FieldDef("ka.req.container.image.repository", "string", "Deprecated: the first container's repository",
                 lambda _arg: _cached("ka.req.container.image.repository", None, _first(_repositories))),
        _scalar_field("ka.req.pod.host_ipc", "The pod's hostIPC flag", req, spec, "hostIPC"),
        _scalar_field("ka.req.pod.host_network", "The pod's hostNetwork flag", req, spec, "hostNetwork"),
        _scalar_field("ka.req.container.host_network", "Deprecated alias for ka.req.pod.host_network",
                      req, spec, "hostNetwork"),
        _scalar_field("ka.req.pod.host_pid", "The pod's hostPID flag", req, spec, "hostPID"),
        _derived("ka.req.pod.containers.host_port", "All containers' hostPort values", _host_ports),
        _derived("ka.req.pod.containers.privileged", "The privileged flag of all containers",
                 _skip_nil(*containers, sc, "privileged")),
        FieldDef("ka.req.container.privileged", "string", "Deprecated: true if any container is privileged",
                 lambda _arg: _cached("ka.req.container.privileged", None, _any_privileged)),
        _derived("ka.req.pod.containers.allow_privilege_escalation", "allowPrivilegeEscalation of all containers",
                 _skip_nil(*containers, sc, "allowPrivilegeEscalation")),
        _derived("ka.req.pod.containers.read_only_fs", "readOnlyRootFilesystem of all containers",
                 _skip_nil(*containers, sc, "readOnlyRootFilesystem")),
        _scalar_field("ka.req.pod.run_as_user", "The pod's runAsUser", req, spec, sc, "runAsUser"),
        _derived("ka.req.pod.containers.run_as_user", "runAsUser of all containers",
                 _skip_nil(*containers, sc, "runAsUser")),
        _derived("ka.req.pod.containers.eff_run_as_user", "The initial uid of all containers",
                 _effective("runAsUser")),
        _scalar_field("ka.req.pod.run_as_group", "The pod's runAsGroup", req, spec, sc, "runAsGroup"),
        _derived("ka.req.pod.containers.run_as_group", "runAsGroup of all containers",
                 _skip_nil(*containers, sc, "runAsGroup")),
        _derived("ka.req.pod.containers.eff_run_as_group", "The initial gid of all containers",
                 _effective("runAsGroup")),
        _derived("ka.req.pod.containers.proc_mount", "procMount of all containers",
                 _skip_nil(*containers, sc, "procMount")),
        simple("ka.req.role.rules", "string", "The rules of a role/cluster role", _list(req, "rules"), is_list=True),
        _derived("ka.req.role.rules.apiGroups", "The api groups of a role's rules", _rules_field("apiGroups")),
        _derived("ka.req.role.rules.nonResourceURLs", "The non resource urls of a role's rules",
                 _rules_field("nonResourceURLs")),
        _derived("ka.req.role.rules.verbs", "The verbs of a role's rules", _rules_field("verbs")),
        _derived("ka.req.role.rules.resources", "The resources of a role's rules", _rules_field("resources")),
        _scalar_field("ka.req.pod.fs_group", "The pod's fsGroup", req, spec, sc, "fsGroup"),
        simple("ka.req.pod.supplemental_groups", "string", "The pod's supplementalGroups",
               _list(req, spec, sc, "supplementalGroups"), is_list=True),
        _derived("ka.req.pod.containers.add_capabilities", "Capabilities added to all containers",
                 _skip_nil(*containers, sc, "capabilities", "add")),
        _scalar_field("ka.req.service.type", "The service type", req, spec, "type"),
        _derived("ka.req.service.ports", "The service's ports", _skip_nil(req, spec, "ports")),
        _derived("ka.req.pod.volumes.hostpath", "All hostPath paths of the pod's volumes",
                 _skip_nil(req, spec, "volumes", "hostPath", "path")),
        FieldDef("ka.req.volume.hostpath", "string", "Deprecated: true if a hostPath volume uses the path",
                 _volume_hostpath, arg=Arg.REQUIRED),
        _derived("ka.req.pod.volumes.flexvolume_driver", "All flexvolume drivers of the pod's volumes",
                 _skip_nil(req, spec, "volumes", "flexVolume", "driver")),
        _derived("ka.req.pod.volumes.volume_type", "All volume types of the pod's volumes", _volume_types),
        _scalar_field("ka.resp.name", "The response object name", "responseObject", "metadata", "name"),
        _scalar_field("ka.response.code", "The response code", "responseStatus", "code"),
        _scalar_field("ka.response.reason", "The response reason", "responseStatus", "reason"),
        _scalar_field("ka.useragent", "The useragent of the client", "userAgent"),
        simple("ka.sourceips", "string", "The source IPs of the request", _list("sourceIPs"), is_list=True),
    ]
    for prefix in ("json", "jevt"):
        defs += [
            FieldDef(f"{prefix}.value", "string", "A value extracted by JSON pointer", _pointer, arg=Arg.REQUIRED),
            simple(f"{prefix}.obj", "string", "The whole event as JSON", lambda ev: json_str(ev.data)),
            # never missing nor 0: an event without a usable timestamp is stamped when read (see event_time_ns)
            FieldDef(f"{prefix}.rawtime", "uint64", "Event time, epoch ns", lambda _arg: event_time_ns,
                     always=True, nonzero=True),
            simple(f"{prefix}.time", "string", "Event time", lambda ev: iso8601(event_time_ns(ev))),
            simple(f"{prefix}.time.iso8601", "string", "Event time, ISO 8601",
                   lambda ev: iso8601(event_time_ns(ev))),
        ]
    defs += generic_fields("k8s_audit", event_time_ns)
    return {d.name: d for d in defs}


SOURCE = register("rule_source")(FieldSource(
    name="k8s_audit",
    rule_sources=("k8s_audit",),
    fields=_fields(),
    index_fields=("ka.verb", "ka.target.resource"),
    time_ns=event_time_ns,
))
