"""scan host output: JSON shape, SARIF 2.1.0 validity, table grouped by section, CLI behaviour."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from host_fixtures import FIXTURES, run

from containerguard.cli.host import scan_host
from containerguard.errors import ConfigError, SourceError
from containerguard.report.host_base import get_host_format

SCHEMA = Path(__file__).parents[3] / "src/containerguard/report/schemas/sarif-schema-2.1.0.json"


def privileged(doc: dict[str, Any]) -> None:
    doc["containers"][0]["HostConfig"]["Privileged"] = True


def test_json_shape() -> None:
    doc = json.loads(get_host_format("json").write(run(privileged)))
    assert set(doc) == {"host", "results"}
    host = doc["host"]
    assert (host["hostname"], host["os"], host["kernel"], host["docker_version"], host["api_version"],
            host["storage_driver"], host["images"]) == (
        "web-01", "Ubuntu 22.04.3 LTS", "5.15.0-88-generic", "24.0.7", "1.43", "overlay2", 1)
    assert host["containers"]["running"] == 1 and host["containers"]["stopped"] == 0
    assert host["containers"]["items"] == [{"name": "api", "image": "registry.example.com/api:1.4",
                                            "image_id": "sha256:" + "1" * 64, "state": "running"}]
    assert host["health"] == "Unhealthy"
    [r] = [r for r in doc["results"] if r["id"] == "5.5"]
    assert {k: r[k] for k in ("id", "status", "resource", "evidence")} == {
        "id": "5.5", "status": "FAIL", "resource": "api", "evidence": "HostConfig.Privileged: true"}
    assert r["title"] == "Ensure that privileged containers are not used" and r["remediation"]
    assert next(r for r in doc["results"] if r["id"] == "2.15")["resource"] is None


def test_sarif_is_valid_and_reports_failures() -> None:
    doc = json.loads(get_host_format("sarif").write(run(privileged)))
    schema = json.loads(SCHEMA.read_text())
    assert list(jsonschema.Draft4Validator(schema).iter_errors(doc)) == []
    results = doc["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [("5.5", "error")]
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rules[results[0]["ruleIndex"]]["id"] == "5.5"


def test_sarif_level_follows_the_result_not_the_manual_flag() -> None:
    """5.5 is Manual in v1.6.0: its decided FAIL is still an error, and the flag is reported as is."""
    def also_undecided(doc: dict[str, Any]) -> None:
        privileged(doc)
        doc["mounts"] = {"skipped": "permission denied"}  # 1.1.1 cannot be decided: WARN

    doc = json.loads(get_host_format("sarif").write(run(also_undecided)))
    run_ = doc["runs"][0]
    by_id = {r["ruleId"]: r for r in run_["results"]}
    assert set(by_id) == {"5.5", "1.1.1"}
    assert (by_id["5.5"]["level"], by_id["5.5"]["properties"]["automated"]) == ("error", False)
    assert by_id["5.5"]["properties"]["status"] == "FAIL"
    assert (by_id["1.1.1"]["level"], by_id["1.1.1"]["properties"]["automated"]) == ("warning", False)
    rules = run_["tool"]["driver"]["rules"]
    rule = rules[by_id["5.5"]["ruleIndex"]]
    assert rule["defaultConfiguration"]["level"] == "error"
    assert "manual" in rule["properties"]["tags"] and rule["properties"]["automated"] is False
    assert "(Level 1, Manual)" in rule["fullDescription"]["text"]
    automated = next(r for r in rules if r["id"] == "3.1")
    assert "automated" in automated["properties"]["tags"] and automated["properties"]["automated"] is True
    assert run_["properties"]["health"] == "Unhealthy"


def test_json_reports_the_flag_and_level_of_every_result() -> None:
    doc = json.loads(get_host_format("json").write(run(privileged)))
    flags = {r["id"]: (r["automated"], r["level"]) for r in doc["results"]}
    assert flags["5.5"] == (False, 1) and flags["3.1"] == (True, 1) and flags["1.1.7"] == (True, 2)
    assert doc["host"]["health"] == "Unhealthy" and doc["host"]["failed_scored_controls"] == 1


def test_table_is_grouped_by_section() -> None:
    text = get_host_format("table").write(run(privileged))
    heads = [line.strip() for line in text.splitlines() if re.fullmatch(r"[1-7] [A-Z][\w ]+", line.strip())]
    assert heads == ["1 Host Configuration", "2 Docker daemon configuration", "3 Docker daemon configuration files",
                     "4 Container Images and Build File Configuration", "5 Container Runtime Configuration",
                     "6 Docker Security Operations", "7 Docker Swarm Configuration"]
    assert "Health: Unhealthy (1 failed check)" in text
    assert "FAIL: 1" in text


def test_table_shows_the_benchmarks_flag() -> None:
    """The Control cell says "(Manual)" for Manual controls, failing or not (cells wrap over lines)."""
    rows: dict[str, list[str]] = {}
    current = ""
    for line in get_host_format("table").write(run(privileged)).splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) != 5:
            continue
        current = cells[0] or current
        rows.setdefault(current, ["", ""])
        rows[current][0] += cells[1]
        rows[current][1] += " " + cells[3]
    assert rows["5.5"][0] == "FAIL" and rows["5.5"][1].endswith("(Manual)")
    assert rows["3.1"][0] == "PASS" and "(Manual)" not in rows["3.1"][1]


def test_unknown_format() -> None:
    with pytest.raises(ConfigError, match="unknown report format 'cyclonedx'"):
        get_host_format("cyclonedx")


def test_cli_snapshot_exit_code_and_output(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    doc = json.loads((FIXTURES / "hardened.json").read_text())
    privileged(doc)
    snap = tmp_path / "s.json"
    snap.write_text(json.dumps(doc))
    assert scan_host(snapshot=snap, fmt="json", output=out, exit_code=4) == 4
    assert json.loads(out.read_text())["host"]["health"] == "Unhealthy"
    assert scan_host(snapshot=FIXTURES / "hardened.json", fmt="json", output=out, exit_code=4) == 0


def test_cli_truncated_snapshot(tmp_path: Path) -> None:
    snap = tmp_path / "cut.json"
    snap.write_text((FIXTURES / "hardened.json").read_text()[:900])
    with pytest.raises(SourceError, match=r"cut\.json: truncated JSON") as err:
        scan_host(snapshot=snap, fmt="json")
    assert "\n" not in str(err.value)


def test_cli_rejects_snapshot_with_docker_host(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="exclude each other"):
        scan_host(snapshot=FIXTURES / "hardened.json", docker_host="unix:///x.sock")
