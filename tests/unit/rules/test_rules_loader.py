"""Rules files: append/override across files, exceptions, enabled, and errors pinned to file:line."""

from __future__ import annotations

import textwrap

import pytest

from containerguard.rules.compiler import CompiledRules, compile_rules
from containerguard.rules.loader import Loader
from containerguard.rules.model import Event

BASE = textwrap.dedent("""\
    - required_engine_version: 15
    - list: shells
      items: [bash, sh]
    - macro: spawned
      condition: evt.type = execve
    - rule: Shell
      desc: a shell ran
      condition: spawned and proc.name in (shells)
      output: shell %proc.name
      priority: WARNING
      tags: [mitre_execution, T1059]
    """)


def _compile(*files: str) -> CompiledRules:
    loader = Loader()
    for i, text in enumerate(files):
        loader.load_text(textwrap.dedent(text), f"f{i}.yaml")
    return compile_rules(loader.rs)


def _fires(compiled: CompiledRules, name: str, **rec: object) -> bool:
    data = {"type": "execve", "pid": 1, "args": [], "ancestors": [], "container": None, **rec}
    rule = next(r for r in compiled.rules if r.name == "Shell")
    return rule.condition(Event("process", data))


def test_base_rule() -> None:
    c = _compile(BASE)
    assert not c.diagnostics
    assert _fires(c, "Shell", comm="bash") and not _fires(c, "Shell", comm="zsh")
    assert c.rules[0].tactic == "Execution" and c.rules[0].techniques == ("T1059",)


@pytest.mark.parametrize(("extra", "comm", "expected"), [
    ("- list: shells\n  items: [zsh]\n  append: true\n", "zsh", True),
    ("- list: shells\n  items: [zsh]\n  override:\n    items: append\n", "bash", True),
    ("- list: shells\n  items: [zsh]\n  override:\n    items: replace\n", "bash", False),
    ("- list: shells\n  items: [zsh]\n", "bash", False),  # redefinition replaces
    ("- macro: spawned\n  condition: and proc.pid = 2\n  append: true\n", "bash", False),
    ("- macro: spawned\n  condition: evt.type = clone\n  override:\n    condition: replace\n", "bash", False),
    ("- rule: Shell\n  condition: and not proc.name = bash\n  append: true\n", "bash", False),
    ("- rule: Shell\n  condition: and not proc.name = bash\n  override:\n    condition: append\n", "sh", True),
    ("- rule: Shell\n  condition: proc.name = zsh\n  override:\n    condition: replace\n", "zsh", True),
])
def test_append_and_override(extra: str, comm: str, expected: bool) -> None:
    c = _compile(BASE, extra)
    assert not c.errors, c.errors
    assert _fires(c, "Shell", comm=comm) is expected


def test_enabled_toggle_and_override_fields() -> None:
    c = _compile(BASE, "- rule: Shell\n  enabled: false\n")
    assert not c.rules[0].enabled
    c = _compile(BASE, "- rule: Shell\n  priority: critical\n  tags: [x]\n  output: new\n"
                       "  override:\n    priority: replace\n    tags: append\n    output: replace\n")
    rule = c.rules[0]
    assert (rule.priority, rule.tags) == ("Critical", ("mitre_execution", "T1059", "x"))


@pytest.mark.parametrize(("exceptions", "comm", "pid", "cwd", "expected"), [
    # fields as a list, comps default to '='
    ("- name: known\n    fields: [proc.name, proc.pid]\n    values: [[bash, 7]]", "bash", 7, "/", False),
    ("- name: known\n    fields: [proc.name, proc.pid]\n    values: [[bash, 7]]", "bash", 8, "/", True),
    # explicit comps incl. a list operator and a list reference
    ("- name: k\n    fields: [proc.name, proc.cwd]\n    comps: [in, startswith]\n    values: [[[shells], /srv]]",
     "sh", 1, "/srv/app", False),
    # single field: comps default to 'in', values a flat list
    ("- name: k\n    fields: proc.cwd\n    values: [/tmp, /srv]", "bash", 1, "/srv", False),
    ("- name: k\n    fields: proc.cwd\n    comps: pmatch\n    values: [/srv]", "bash", 1, "/srv/x", False),
    ("- name: k\n    fields: proc.cwd\n    values: []", "bash", 1, "/srv", True),
])
def test_exceptions(exceptions: str, comm: str, pid: int, cwd: str, expected: bool) -> None:
    rule = BASE + "  exceptions:\n  " + exceptions + "\n"
    c = _compile(rule)
    assert not c.errors, c.errors
    assert _fires(c, "Shell", comm=comm, pid=pid, cwd=cwd) is expected


def test_exception_values_appended_by_name() -> None:
    rule = BASE + "  exceptions:\n    - name: cwd\n      fields: proc.cwd\n      values: [/a]\n"
    extra = "- rule: Shell\n  exceptions:\n    - name: cwd\n      values: [/b]\n  override:\n    exceptions: append\n"
    c = _compile(rule, extra)
    assert not c.errors
    assert not _fires(c, "Shell", comm="bash", cwd="/b") and _fires(c, "Shell", comm="bash", cwd="/c")


ERRORS = [
    ("- rule: R\n  desc: d\n  condition: proc.name = (\n  output: o\n  priority: INFO\n",
     "f0.yaml:3: error: rule 'R': condition: "),
    ("- rule: R\n  desc: d\n  condition: proc.name = a\n  output: o\n  priority: LOUD\n",
     "f0.yaml:5: error: rule 'R': unknown priority 'LOUD'"),
    ("- rule: R\n  condition: proc.name = a\n", "f0.yaml:1: error: rule 'R': missing output, desc, priority"),
    ("- rule: Nope\n  condition: and x\n  append: true\n", "f0.yaml:1: error: rule 'Nope': appends to or overrides"),
    ("- list: l\n  items: [a]\n  append: true\n", "f0.yaml:1: error: list 'l' appends to a list that is not"),
    ("- macro: m\n  condition: a and (\n", "f0.yaml:2: error: macro 'm': "),
    ("- banana: 1\n", "f0.yaml:1: error: unknown item"),
    ("- rule: R\n  desc: d\n  condition: x = 1\n", "f0.yaml:1: error"),
    ("a: [\n", "f0.yaml:2: error: invalid YAML"),
    ("{}\n", "f0.yaml:1: error: a rules file must be a YAML list"),
    ("- rule: R\n  desc: d\n  condition: proc.name = a\n  output: o\n  priority: INFO\n  exceptions:\n"
     "    - name: e\n      fields: [proc.name, proc.pid]\n      values: [[a]]\n",
     "f0.yaml:7: error: rule 'R': exception 'e': value ['a'] must list one value per field (2)"),
    ("- rule: R\n  desc: d\n  condition: proc.name = a\n  output: o\n  priority: INFO\n  append: true\n"
     "  override:\n    condition: append\n", "f0.yaml:1: error: rule 'R': 'append' and 'override' cannot"),
    ("- rule: R\n  desc: d\n  condition: >\n    proc.name = a\n    and undefined_macro\n  output: o\n"
     "  priority: INFO\n", "f0.yaml:1: error: rule 'R': undefined macro 'undefined_macro'"),
]


@pytest.mark.parametrize(("text", "expected"), ERRORS)
def test_errors_have_file_and_line(text: str, expected: str) -> None:
    c = _compile(text)
    assert any(str(d).startswith(expected) for d in c.errors), [str(d) for d in c.diagnostics]


def test_good_rules_still_load_beside_bad_ones() -> None:
    c = _compile(BASE + "- rule: Bad\n  desc: d\n  condition: proc.name = (\n  output: o\n  priority: INFO\n")
    assert [r.name for r in c.rules] == ["Shell"]
    assert len(c.errors) == 1


def test_warnings_for_unknown_keys_engine_version_and_unfilled_fields() -> None:
    c = _compile("- required_engine_version: 0.99.0\n" + BASE.replace("  tags:", "  colour: red\n  tags:")
                 + "- rule: Files\n  desc: d\n  condition: fd.name = /etc/shadow\n  output: o\n  priority: INFO\n"
                   "- rule: Weird\n  desc: d\n  condition: no.such.field = 1\n  output: o\n  priority: INFO\n"
                   "- rule: Cloud\n  desc: d\n  condition: ct.name = x\n  output: o\n  priority: INFO\n"
                   "  source: aws_cloudtrail\n")
    text = [str(d) for d in c.diagnostics]
    assert not c.errors
    assert any("f0.yaml:1: warning: rules require engine version 0.99.0" in t for t in text)
    assert any("unknown key 'colour' ignored" in t for t in text)
    assert any("rule 'Files' loaded inactive: needs fd.name, which no containerguard 'process'" in t for t in text)
    assert any("rule 'Weird' loaded inactive: unknown field no.such.field" in t for t in text)
    assert any("rule 'Cloud' loaded inactive: source 'aws_cloudtrail'" in t for t in text)
    assert [r.name for r in c.inactive] == ["Files", "Weird", "Cloud"]


def test_yaml_scalars_stay_strings() -> None:
    c = _compile("- list: words\n  items: [yes, no, 0x10]\n- rule: R\n  desc: d\n"
                 "  condition: proc.name in (words)\n  output: o\n  priority: INFO\n")
    rule = c.rules[0]
    for comm, expected in (("yes", True), ("0x10", True), ("True", False)):
        data = {"type": "execve", "pid": 1, "comm": comm, "args": [], "ancestors": [], "container": None}
        assert rule.condition(Event("process", data)) is expected
