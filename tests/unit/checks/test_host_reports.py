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


def test_table_is_grouped_by_section() -> None:
    text = get_host_format("table").write(run(privileged))
    heads = [line.strip() for line in text.splitlines() if re.fullmatch(r"[1-7] [A-Z][\w ]+", line.strip())]
    assert heads == ["1 Host Configuration", "2 Docker daemon configuration", "3 Docker daemon configuration files",
                     "4 Container Images and Build File Configuration", "5 Container Runtime Configuration",
                     "6 Docker Security Operations", "7 Docker Swarm Configuration"]
    assert "Health: Unhealthy (1 failed scored checks)" in text


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
