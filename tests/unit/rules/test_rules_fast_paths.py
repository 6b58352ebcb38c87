"""The engine's shortcuts keep Falco's semantics: comparisons decided by a field's definition fold into
constants (Falco's ``k8s_audit_always_true``/``never_true`` macros), ``not`` fused into a comparison behaves
like ``not`` around it (missing values included), and the compact JSON of non-string values is unchanged."""

from __future__ import annotations

import json
from typing import Any

import pytest

from containerguard.rules.compiler import CompiledRules, compile_rules
from containerguard.rules.engine import Engine
from containerguard.rules.fields import json_str
from containerguard.rules.loader import Loader
from containerguard.rules.model import Event

BASE: dict[str, Any] = {
    "kind": "Event", "auditID": "a1", "stage": "ResponseComplete", "verb": "get",
    "user": {"username": "system:node:worker-1"}, "objectRef": {"resource": "nodes", "name": "worker-1"},
    "responseStatus": {"code": 200}, "stageTimestamp": "2024-05-01T10:00:00.123456Z",
}
NO_TIME = {k: v for k, v in BASE.items() if k != "stageTimestamp"}
EPOCH = {**BASE, "stageTimestamp": "1970-01-01T00:00:00Z"}
NO_USER = {k: v for k, v in BASE.items() if k != "user"}
NUMBER_USER = {**BASE, "user": {"username": 42}}


def _compile(condition: str) -> CompiledRules:
    loader = Loader()
    loader.load_text(f"- rule: r\n  desc: d\n  condition: '{condition}'\n  output: o %ka.user.name\n"
                     "  priority: INFO\n  source: k8s_audit\n", "t.yaml")
    return compile_rules(loader.rs)


def _fires(condition: str, data: dict[str, Any]) -> bool:
    compiled = _compile(condition)
    assert not compiled.errors, [str(d) for d in compiled.errors]
    return bool(Engine(compiled).process(Event("k8s_audit", data)))


@pytest.mark.parametrize("data", [BASE, NO_TIME, EPOCH], ids=["stamped", "no-timestamp", "epoch"])
def test_rawtime_always_exists_and_is_never_zero(data: dict[str, Any]) -> None:
    # an event without a usable timestamp is stamped when read, so these hold for every event
    assert _fires("jevt.rawtime exists", data)
    assert _fires("jevt.rawtime != 0", data)
    assert not _fires("jevt.rawtime = 0", data)
    assert not _fires("ka.verb = get and jevt.rawtime = 0", data)
    assert _fires("ka.verb = get and not jevt.rawtime = 0", data)
    assert _fires("jevt.rawtime = 0 or ka.verb = get", data)


def test_a_never_true_rule_is_never_a_candidate() -> None:
    compiled = _compile("ka.verb = get and jevt.rawtime = 0")
    assert compiled.rules[0].index == (frozenset(), frozenset())
    always = _compile("ka.verb = get and jevt.rawtime exists")
    assert always.rules[0].index == (frozenset({"get"}), None)


def test_folded_away_parts_still_report_their_errors() -> None:
    compiled = _compile("jevt.rawtime = 0 and jevt.rawtime > abc")
    assert any("'abc' is not a number" in d.message for d in compiled.errors), compiled.diagnostics


def test_other_fields_are_not_folded() -> None:
    # ka.response.code can be missing: `exists` must stay a real test
    assert not _fires("ka.response.code exists", {k: v for k, v in BASE.items() if k != "responseStatus"})
    assert _fires("ka.response.code exists", BASE)


@pytest.mark.parametrize(("condition", "with_user"), [
    ("not ka.user.name in (system:node:worker-1, admin)", False),
    ("not ka.user.name in (admin)", True),
    ("not ka.user.name startswith system:", False),
    ("not ka.user.name startswith adm", True),
    ("not ka.user.name = system:node:worker-1", False),
    ("not ka.user.name = admin", True),
    ("not ka.user.name == admin", True),
    ("not ka.response.code = 200", False),
    ("not ka.response.code in (200, 201)", False),
    ("not ka.response.code in (404)", True),
])
def test_fused_not_matches_not_around_the_comparison(condition: str, with_user: bool) -> None:
    assert _fires(condition, BASE) is with_user
    # a missing value fails the comparison, so its negation holds
    missing = NO_USER if "user" in condition else {k: v for k, v in BASE.items() if k != "responseStatus"}
    assert _fires(condition, missing)
    # the same test with `not` around an `and` (compiled without the fusion) agrees on every event
    unfused = f"not (ka.verb exists and {condition[4:]})"
    for data in (BASE, missing, NUMBER_USER):
        assert _fires(condition, data) == _fires(unfused, data), data


@pytest.mark.parametrize("value", [
    200, 0, -7, 10**30, True, False, None, 1.5, float("nan"), float("inf"), "text",
    {"a": [1, "é", None, True], "b": {"c": 2.0}}, [], {}, ["x", 1],
])
def test_json_str_is_compact_json(value: Any) -> None:
    expected = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    assert json_str(value) == expected
