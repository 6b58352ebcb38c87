"""``scan k8s`` reports and CLI: per-control counts, SARIF valid against the OASIS schema with file and
line locations, JSON shape, table text, --standard, --exit-code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import typer
from typer.testing import CliRunner

from containerguard.cli.k8s import scan_k8s
from containerguard.errors import ConfigError
from containerguard.pipeline.k8s_audit import audit, control_summaries
from containerguard.report.k8s_base import get_k8s_format
from containerguard.sources.k8s_manifests import read_paths

ROOT = Path(__file__).parents[3]
SCHEMA = ROOT / "src/containerguard/report/schemas/sarif-schema-2.1.0.json"
PSS = ROOT / "tests/fixtures/k8s/pss/baseline.yaml"


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(scan_k8s)
    return app


def run(*args: str) -> tuple[Any, str]:
    result = CliRunner().invoke(_app(), list(args), standalone_mode=False, catch_exceptions=False)
    return result.return_value, result.stdout


def test_sarif_is_valid_and_points_at_file_and_line() -> None:
    result = audit(read_paths([str(PSS)]), standard="pss-baseline")
    doc = json.loads(get_k8s_format("sarif").write(result))
    assert list(jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).iter_errors(doc)) == []
    run_ = doc["runs"][0]
    host = [r for r in run_["results"] if r["ruleId"] == "CG-K8S-PSS-002"]
    assert {r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in host} == {38, 51, 64}
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in host} == {str(PSS)}
    assert {r["id"] for r in run_["tool"]["driver"]["rules"]} == {s.id for s in result.specs}
    broken = dict(doc)
    del broken["runs"][0]["results"][0]["message"]
    assert list(jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).iter_errors(broken))


def test_control_summary_counts() -> None:
    result = audit(read_paths([str(PSS)]), standard="pss-baseline")
    by = {c.control: c for c in control_summaries(result)}
    assert set(by) == {"HostProcess", "Host Namespaces", "Privileged Containers", "Capabilities", "HostPath Volumes",
                       "Host Ports", "Host Probes / Lifecycle Hooks", "AppArmor", "SELinux", "/proc Mount Type",
                       "Seccomp", "Sysctls"}
    assert by["Host Namespaces"].failed == ("Pod/host-ipc", "Pod/host-network", "Pod/host-pid")
    assert len(by["Host Namespaces"].passed) + 3 == len({r.resource for r in result.results})


def test_json_shape() -> None:
    result = audit(read_paths([str(PSS)]), standard="cis-k8s")
    doc = json.loads(get_k8s_format("json").write(result))
    assert doc["schema"] == "containerguard/k8s/v1" and doc["standard"] == "cis-k8s"
    controls = {c["control"]: c for c in doc["controls"]}
    assert controls["5.2.2"]["fail"] == 2 and "Pod/privileged-init" in controls["5.2.2"]["failing"]
    assert [c["control"] for c in doc["controls"] if c["control"].startswith("5.")][:3] == ["5.1.1", "5.1.2", "5.1.3"]
    assert doc["summary"]["fail"] == sum(r["status"] == "fail" for r in doc["results"])


def test_cli_table_standard_and_exit_code(tmp_path: Path) -> None:
    code, _ = run(str(PSS), "--standard", "pss-baseline", "--exit-code", "3", "-o", str(tmp_path / "out.txt"))
    assert code == 3
    out = (tmp_path / "out.txt").read_text()
    assert "Host Namespaces" in out and "Pod/host-network" in out and f"{PSS}:38" in out
    ok = tmp_path / "ok.yaml"
    ok.write_text(PSS.read_text().split("---")[0])
    code, _ = run(str(ok), "--standard", "pss-restricted", "--exit-code", "3")
    assert code == 0
    code, _ = run(str(PSS), "-f", "sarif", "-o", str(tmp_path / "out.sarif"))
    assert code == 0 and json.loads((tmp_path / "out.sarif").read_text())["version"] == "2.1.0"


@pytest.mark.parametrize(("args", "message"), [
    (["--standard", "nist"], "unknown standard"),
    (["-f", "cyclonedx"], "unknown report format"),
    (["--exit-code", "300"], "--exit-code"),
    (["--allowed-registry", "(unclosed"], "not a regular expression"),
])
def test_cli_rejects_bad_options(args: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        run(str(PSS), *args)
