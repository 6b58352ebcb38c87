"""The CIS Docker 1.6.0 benchmark file: every control of sections 1-7, each mapped to a registered check."""

from __future__ import annotations

import pytest

from containerguard.checks.base import docker_checks
from containerguard.errors import ConfigError
from containerguard.pipeline.audit import load_benchmark, parse_benchmark

EXPECTED_COUNTS = {"1": 20, "2": 18, "3": 24, "4": 12, "5": 32, "6": 2, "7": 9}
"""Controls per section in CIS Docker Benchmark v1.6.0."""

AUTOMATED = {"1.1.3", "1.1.4", *(f"1.1.{n}" for n in range(6, 15)), *(f"3.{n}" for n in range(1, 7)),
             "3.15", "3.16", "3.23", "3.24"}
"""The 21 controls v1.6.0 marks "(Automated)"; every other control is "(Manual)"."""


def test_every_control_of_sections_1_to_7() -> None:
    bench = load_benchmark()
    counts: dict[str, int] = {}
    for c in bench.controls:
        counts[c.id.split(".")[0]] = counts.get(c.id.split(".")[0], 0) + 1
    assert counts == EXPECTED_COUNTS
    assert len({c.id for c in bench.controls}) == len(bench.controls)
    assert [s for s, _ in bench.sections] == list(EXPECTED_COUNTS)


def test_benchmark_file_agrees_with_check_metadata() -> None:
    checks = docker_checks()
    bench = load_benchmark()
    used = set()
    for c in bench.controls:
        for name in c.checks:
            meta = checks[name].control
            used.add(name)
            assert (meta.id, meta.title, meta.level, meta.automated) == (c.id, c.title, c.level, c.automated)
            assert meta.remediation and meta.rationale, name
            assert c.level in (1, 2)
    assert used == set(checks), "every registered check is part of the benchmark"


def test_automated_flags_are_the_benchmarks() -> None:
    bench = load_benchmark()
    assert len(AUTOMATED) == 21
    assert {c.id for c in bench.controls if c.automated} == AUTOMATED
    assert len([c for c in bench.controls if not c.automated]) == len(bench.controls) - 21 == 96


@pytest.mark.parametrize("cid", ["5.5", "2.14", "1.1.1", "3.15", "4.6", "7.5"])
def test_well_known_ids(cid: str) -> None:
    assert cid in {c.id for c in load_benchmark().controls}


@pytest.mark.parametrize(("doc", "message"), [
    ({"controls": [{"id": "9.9", "title": "x", "level": 1, "automated": True, "checks": ["no-such-check"]}]},
     "unknown checks no-such-check"),
    ({"controls": [{"id": "9.9"}]}, "control #1 is malformed"),
    ({"nope": 1}, "expected a mapping with a controls list"),
])
def test_bad_benchmark_files(doc: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_benchmark("test", doc)


def test_unknown_benchmark() -> None:
    with pytest.raises(ConfigError, match="unknown benchmark"):
        load_benchmark("cis-docker-0.0.0")
