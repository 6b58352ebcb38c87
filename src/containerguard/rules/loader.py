"""Falco rules files (YAML) -> a :class:`RuleSet` of lists, macros and rules, with file:line diagnostics.

Files load in the order given, later items appending to or overriding earlier ones as in Falco:
``append: true`` (deprecated in Falco but still accepted) or ``override: {key: append|replace}``;
a redefinition replaces the earlier item in place; ``- rule: X`` with only ``enabled`` toggles a rule.
Conditions stay text here (Falco appends condition text verbatim); the compiler parses them.
Scalars are read from the YAML nodes as written, so ``yes`` in a list stays the string ``yes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .diagnostics import Diagnostic, Loc
from .model import parse_priority

try:  # the C parser is several times faster on large rules files
    from yaml import CSafeLoader as _YamlLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _YamlLoader  # type: ignore[assignment]

# The Falco rules engine version whose language we implement (Falco 0.39's engine is 0.40.0).
ENGINE_VERSION = (0, 40, 0)

_RULE_KEYS = frozenset({
    "rule", "desc", "condition", "output", "priority", "enabled", "tags", "source", "exceptions", "append",
    "override", "warn_evttypes", "skip-if-unknown-filter", "capture", "capture_duration",
})
_RULE_APPENDABLE = frozenset({"condition", "output", "desc", "tags", "exceptions"})
_RULE_REPLACEABLE = frozenset({
    "condition", "output", "desc", "priority", "tags", "exceptions", "enabled", "warn_evttypes",
    "skip-if-unknown-filter", "capture", "capture_duration", "source",
})
_MAX_RULES_FILE = 64 << 20


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of condition text and where it was written (appends add segments)."""

    text: str
    loc: Loc


@dataclass(slots=True)
class ListDef:
    """A ``list:`` item."""

    name: str
    items: list[str]
    loc: Loc


@dataclass(slots=True)
class MacroDef:
    """A ``macro:`` item."""

    name: str
    segments: list[Segment]
    loc: Loc


@dataclass(slots=True)
class ExceptionDef:
    """One entry of a rule's ``exceptions:``; ``fields``/``comps`` are a str for the single-field form."""

    name: str
    fields: str | list[str] | None
    comps: str | list[str] | None
    values: list[Any]
    loc: Loc


@dataclass(slots=True)
class RuleDef:
    """A ``rule:`` item after appends and overrides."""

    name: str
    desc: str
    segments: list[Segment]
    output: str
    priority: str
    source: str
    tags: list[str]
    enabled: bool
    exceptions: list[ExceptionDef]
    loc: Loc


@dataclass(slots=True)
class RuleSet:
    """Everything loaded so far, in definition order, and every problem met."""

    lists: dict[str, ListDef] = field(default_factory=dict)
    macros: dict[str, MacroDef] = field(default_factory=dict)
    rules: dict[str, RuleDef] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def load_files(paths: list[Path] | list[str], ruleset: RuleSet | None = None) -> RuleSet:
    """Load rules files in order into one RuleSet (a new one unless given)."""
    rs = ruleset or RuleSet()
    loader = Loader(rs)
    for path in paths:
        loader.load_path(Path(path))
    return rs


def _raw(node: yaml.Node) -> Any:
    """A node as plain data with every scalar kept as the text written (Falco reads lists as strings)."""
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_raw(n) for n in node.value]
    if isinstance(node, yaml.MappingNode):
        return {_raw(k): _raw(v) for k, v in node.value}
    return None


def _bool(text: Any) -> bool | None:
    if isinstance(text, str):
        low = text.strip().lower()
        if low in ("true", "yes", "on"):
            return True
        if low in ("false", "no", "off"):
            return False
    return None


class Loader:
    """Feeds rules files into a RuleSet; every problem becomes a Diagnostic, never an exception."""

    def __init__(self, ruleset: RuleSet | None = None) -> None:
        self.rs = ruleset or RuleSet()

    # -- diagnostics -------------------------------------------------------------------------------
    def error(self, loc: Loc, message: str) -> None:
        """Record an error (the item it concerns is dropped)."""
        self.rs.diagnostics.append(Diagnostic("error", loc, message))

    def warn(self, loc: Loc, message: str) -> None:
        """Record a warning."""
        self.rs.diagnostics.append(Diagnostic("warning", loc, message))

    # -- files -------------------------------------------------------------------------------------
    def load_path(self, path: Path) -> None:
        """Load one rules file; unreadable files are one error."""
        try:
            if path.stat().st_size > _MAX_RULES_FILE:
                self.error(Loc(str(path), 0), f"rules file is larger than {_MAX_RULES_FILE >> 20} MiB")
                return
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.error(Loc(str(path), 0), f"cannot read rules file: {getattr(exc, 'strerror', None) or exc}")
            return
        self.load_text(text, str(path))

    def load_text(self, text: str, name: str) -> None:
        """Load rules from YAML text; ``name`` is the file name used in diagnostics."""
        self.rs.files.append(name)
        try:
            yloader = _YamlLoader(text)
            try:
                root = yloader.get_single_node()
            finally:
                yloader.dispose()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = mark.line + 1 if mark is not None else 0
            problem = getattr(exc, "problem", None) or str(exc)
            self.error(Loc(name, line), f"invalid YAML: {problem}")
            return
        if root is None:
            return
        if not isinstance(root, yaml.SequenceNode):
            self.error(Loc(name, root.start_mark.line + 1), "a rules file must be a YAML list of items")
            return
        for node in root.value:
            self._item(node, name)

    def _item(self, node: yaml.Node, name: str) -> None:
        loc = Loc(name, node.start_mark.line + 1)
        if not isinstance(node, yaml.MappingNode):
            self.error(loc, "each item must be a mapping (rule, macro, list, required_engine_version …)")
            return
        item: dict[str, Any] = {}
        lines: dict[str, Loc] = {}
        for knode, vnode in node.value:
            key = _raw(knode)
            if not isinstance(key, str):
                self.error(Loc(name, knode.start_mark.line + 1), "item keys must be strings")
                continue
            if key in item:
                self.warn(Loc(name, knode.start_mark.line + 1), f"duplicate key '{key}': the last one wins")
            item[key] = _raw(vnode)
            lines[key] = Loc(name, vnode.start_mark.line + 1)
        if "rule" in item:
            self._rule(item, loc, lines)
        elif "macro" in item:
            self._macro(item, loc, lines)
        elif "list" in item:
            self._list(item, loc)
        elif "required_engine_version" in item:
            self._engine_version(item["required_engine_version"], loc)
        elif "required_plugin_versions" in item:
            self._plugin_versions(item["required_plugin_versions"], loc)
        else:
            keys = ", ".join(sorted(item)) or "nothing"
            self.error(loc, f"unknown item (has {keys}; expected rule, macro, list, required_engine_version or "
                            "required_plugin_versions)")

    # -- versions ----------------------------------------------------------------------------------
    def _engine_version(self, value: Any, loc: Loc) -> None:
        text = str(value).strip()
        try:
            parts = tuple(int(p) for p in text.split("."))
        except ValueError:
            self.error(loc, f"required_engine_version '{text}' is not a number or a semantic version")
            return
        wanted = (0, parts[0], 0) if len(parts) == 1 else (*parts, 0, 0)[:3]
        if wanted > ENGINE_VERSION:
            have = ".".join(map(str, ENGINE_VERSION))
            self.warn(loc, f"rules require engine version {text}, containerguard implements {have}: "
                           "newer syntax may fail to load")

    def _plugin_versions(self, value: Any, loc: Loc) -> None:
        ok = isinstance(value, list) and all(isinstance(p, dict) and "name" in p and "version" in p for p in value)
        if not ok:
            self.warn(loc, "required_plugin_versions must be a list of {name, version}; ignored")

    # -- lists -------------------------------------------------------------------------------------
    def _list(self, item: dict[str, Any], loc: Loc) -> None:
        name = item.get("list")
        if not isinstance(name, str) or not name.strip():
            self.error(loc, "list without a name")
            return
        mode = self._mode(item, loc, f"list '{name}'", {"items"}, {"items"})
        if mode is None:
            return
        items = item.get("items")
        if "items" not in item:
            self.error(loc, f"list '{name}': missing 'items'")
            return
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            self.error(loc, f"list '{name}': 'items' must be a list of values")
            return
        for key in item.keys() - {"list", "items", "append", "override"}:
            self.warn(loc, f"list '{name}': unknown key '{key}' ignored")
        existing = self.rs.lists.get(name)
        how = mode.get("items")
        if how == "append":
            if existing is None:
                self.error(loc, f"list '{name}' appends to a list that is not defined")
                return
            existing.items.extend(items)
        elif how == "replace" and existing is not None:
            existing.items = list(items)
        else:
            self.rs.lists[name] = ListDef(name, list(items), loc)

    # -- macros ------------------------------------------------------------------------------------
    def _macro(self, item: dict[str, Any], loc: Loc, lines: dict[str, Loc]) -> None:
        name = item.get("macro")
        if not isinstance(name, str) or not name.strip():
            self.error(loc, "macro without a name")
            return
        mode = self._mode(item, loc, f"macro '{name}'", {"condition"}, {"condition"})
        if mode is None:
            return
        cond = item.get("condition")
        if not isinstance(cond, str) or not cond.strip():
            self.error(loc, f"macro '{name}': missing or empty 'condition'")
            return
        for key in item.keys() - {"macro", "condition", "append", "override"}:
            self.warn(loc, f"macro '{name}': unknown key '{key}' ignored")
        seg = Segment(cond, lines.get("condition", loc))
        existing = self.rs.macros.get(name)
        how = mode.get("condition")
        if how == "append":
            if existing is None:
                self.error(loc, f"macro '{name}' appends to a macro that is not defined")
                return
            existing.segments.append(seg)
        elif how == "replace" and existing is not None:
            existing.segments = [seg]
        else:
            self.rs.macros[name] = MacroDef(name, [seg], loc)

    # -- append / override -------------------------------------------------------------------------
    def _mode(self, item: dict[str, Any], loc: Loc, what: str, appendable: set[str] | frozenset[str],
              replaceable: set[str] | frozenset[str]) -> dict[str, str] | None:
        """{key: 'append'|'replace'} from ``append: true`` or ``override:``; None after an error."""
        append = item.get("append")
        override = item.get("override")
        if append is not None and _bool(append) is None:
            self.error(loc, f"{what}: 'append' must be true or false")
            return None
        if _bool(append) and override is not None:
            self.error(loc, f"{what}: 'append' and 'override' cannot be used together")
            return None
        if _bool(append):
            return dict.fromkeys(appendable & item.keys(), "append") or {"*": "append"}
        if override is None:
            return {}
        if not isinstance(override, dict):
            self.error(loc, f"{what}: 'override' must map keys to append or replace")
            return None
        out: dict[str, str] = {}
        for key, how in override.items():
            allowed = appendable if how == "append" else replaceable if how == "replace" else None
            if allowed is None:
                self.error(loc, f"{what}: override of '{key}' must be append or replace, not '{how}'")
                return None
            if key not in allowed:
                self.error(loc, f"{what}: '{key}' cannot be overridden with {how}")
                return None
            if key not in item:
                self.error(loc, f"{what}: override names '{key}' but the item has no '{key}'")
                return None
            out[key] = how
        return out or {"*": "replace"}

    # -- rules -------------------------------------------------------------------------------------
    def _rule(self, item: dict[str, Any], loc: Loc, lines: dict[str, Loc]) -> None:
        name = item.get("rule")
        if not isinstance(name, str) or not name.strip():
            self.error(loc, "rule without a name")
            return
        what = f"rule '{name}'"
        for key in item.keys() - _RULE_KEYS:
            self.warn(lines.get(key, loc), f"{what}: unknown key '{key}' ignored")
        mode = self._mode(item, loc, what, _RULE_APPENDABLE, _RULE_REPLACEABLE)
        if mode is None:
            return
        existing = self.rs.rules.get(name)
        exceptions = self._exceptions(item.get("exceptions"), lines.get("exceptions", loc), what)
        if exceptions is None:
            return
        if mode:
            if existing is None:
                self.error(loc, f"{what}: appends to or overrides a rule that is not defined")
                return
            self._merge(existing, item, mode, exceptions, loc, lines, what)
            return
        if set(item) <= {"rule", "enabled"} and "enabled" in item:
            if existing is None:
                self.error(loc, f"{what}: sets 'enabled' on a rule that is not defined")
                return
            enabled = _bool(item["enabled"])
            if enabled is None:
                self.error(lines["enabled"], f"{what}: 'enabled' must be true or false")
                return
            existing.enabled = enabled
            return
        rule = self._new_rule(name, item, exceptions, loc, lines, what)
        if rule is not None:
            self.rs.rules[name] = rule

    def _new_rule(self, name: str, item: dict[str, Any], exceptions: list[ExceptionDef], loc: Loc,
                  lines: dict[str, Loc], what: str) -> RuleDef | None:
        missing = [k for k in ("condition", "output", "desc", "priority") if not isinstance(item.get(k), str)]
        if missing:
            self.error(loc, f"{what}: missing {', '.join(missing)}")
            return None
        priority = parse_priority(item["priority"])
        if priority is None:
            self.error(lines["priority"], f"{what}: unknown priority '{item['priority']}' (emergency, alert, "
                                          "critical, error, warning, notice, informational, debug)")
            return None
        enabled = _bool(item.get("enabled", "true"))
        if enabled is None:
            self.error(lines["enabled"], f"{what}: 'enabled' must be true or false")
            return None
        tags = item.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            self.error(lines.get("tags", loc), f"{what}: 'tags' must be a list of strings")
            return None
        source = item.get("source", "syscall")
        if not isinstance(source, str) or not source:
            self.error(lines.get("source", loc), f"{what}: 'source' must be a name")
            return None
        if not item["condition"].strip():
            self.error(lines["condition"], f"{what}: empty condition")
            return None
        return RuleDef(name, item["desc"].strip(), [Segment(item["condition"], lines["condition"])],
                       item["output"], priority, source, list(tags), enabled, exceptions, loc)

    def _merge(self, rule: RuleDef, item: dict[str, Any], mode: dict[str, str], exceptions: list[ExceptionDef],
               loc: Loc, lines: dict[str, Loc], what: str) -> None:
        if "*" in mode:
            self.warn(loc, f"{what}: append/override without anything to apply")
            return
        for key, how in mode.items():
            value = item[key]
            if key == "condition":
                seg = Segment(str(value), lines.get(key, loc))
                rule.segments = [*rule.segments, seg] if how == "append" else [seg]
            elif key in ("output", "desc"):
                text = str(value)
                joined = f"{getattr(rule, key)} {text}" if how == "append" else text
                setattr(rule, key, joined.strip() if key == "desc" else joined)
            elif key == "tags":
                if not isinstance(value, list):
                    self.error(lines.get(key, loc), f"{what}: 'tags' must be a list")
                    continue
                rule.tags = [*rule.tags, *value] if how == "append" else list(value)
            elif key == "exceptions":
                if how == "replace":
                    rule.exceptions = exceptions
                else:
                    self._append_exceptions(rule, exceptions, what)
            elif key == "priority":
                priority = parse_priority(str(value))
                if priority is None:
                    self.error(lines.get(key, loc), f"{what}: unknown priority '{value}'")
                else:
                    rule.priority = priority
            elif key == "enabled":
                enabled = _bool(value)
                if enabled is None:
                    self.error(lines.get(key, loc), f"{what}: 'enabled' must be true or false")
                else:
                    rule.enabled = enabled
            elif key == "source":
                rule.source = str(value)
        ignored = item.keys() - mode.keys() - {"rule", "append", "override"}
        for key in sorted(ignored):
            self.warn(lines.get(key, loc), f"{what}: '{key}' is neither appended nor overridden; ignored")

    def _append_exceptions(self, rule: RuleDef, new: list[ExceptionDef], what: str) -> None:
        by_name = {e.name: e for e in rule.exceptions}
        for exc in new:
            old = by_name.get(exc.name)
            if old is None:
                if exc.fields is None:
                    self.error(exc.loc, f"{what}: exception '{exc.name}' is new and has no 'fields'")
                    continue
                rule.exceptions.append(exc)
                by_name[exc.name] = exc
            else:
                old.values.extend(exc.values)

    def _exceptions(self, value: Any, loc: Loc, what: str) -> list[ExceptionDef] | None:
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(loc, f"{what}: 'exceptions' must be a list")
            return None
        out: list[ExceptionDef] = []
        for entry in value:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                self.error(loc, f"{what}: every exception needs a 'name'")
                return None
            ename = entry["name"]
            fields = entry.get("fields")
            comps = entry.get("comps")
            values = entry.get("values", [])
            if not isinstance(values, list):
                self.error(loc, f"{what}: exception '{ename}': 'values' must be a list")
                return None
            if isinstance(fields, list):
                if comps is None:
                    comps = ["="] * len(fields)
                if not isinstance(comps, list) or len(comps) != len(fields):
                    self.error(loc, f"{what}: exception '{ename}': 'comps' must list one operator per field")
                    return None
                for tup in values:
                    if not isinstance(tup, list) or len(tup) != len(fields):
                        self.error(loc, f"{what}: exception '{ename}': value {tup!r} must list one value per "
                                        f"field ({len(fields)})")
                        return None
            elif isinstance(fields, str):
                if comps is not None and not isinstance(comps, str):
                    self.error(loc, f"{what}: exception '{ename}': a single field takes a single 'comps'")
                    return None
            elif fields is not None:
                self.error(loc, f"{what}: exception '{ename}': 'fields' must be a field or a list of fields")
                return None
            out.append(ExceptionDef(ename, fields, comps, list(values), loc))
        return out
