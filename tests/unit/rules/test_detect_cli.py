"""``containerguard detect``: Falco json_output lines, the table, load errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from containerguard.cli.detect import detect

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rules"
AUDIT = str(FIXTURES / "events" / "audit.jsonl")
K8S_RULES = str(FIXTURES / "k8s_audit_rules.yaml")
FALCO_RULES = str(FIXTURES / "falco_rules.yaml")

app = typer.Typer()
app.command()(detect)
runner = CliRunner()


def test_json_lines_in_falco_shape() -> None:
    result = runner.invoke(app, ["--rules", FALCO_RULES, "--rules", K8S_RULES, "--source", "k8s_audit", AUDIT,
                                 "-f", "json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 14
    first = lines[0]
    assert set(first) >= {"time", "rule", "priority", "output", "source", "tags", "output_fields", "tactic"}
    assert first["rule"] == "Attach/Exec Pod" and first["time"] == "2024-05-01T10:00:02.456789000Z"
    assert first["output_fields"]["ka.target.subresource"] == "exec" and first["tactic"] is None


def test_builtin_pack_adds_tactics() -> None:
    result = runner.invoke(app, ["--builtin", "--source", "k8s_audit", AUDIT, "-f", "json", "--all-matches"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    tactics = {line["rule"]: line["tactic"] for line in lines}
    assert tactics["Exec or attach into a pod"] == "Execution"
    assert tactics["Role binding to cluster-admin"] == "Privilege Escalation"


def test_table_output_and_min_priority() -> None:
    result = runner.invoke(app, ["--rules", K8S_RULES, "--source", "k8s_audit", AUDIT, "--min-priority", "error"],
                           env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "K8s Secret Get Successfully" in result.stdout and "Attach/Exec Pod" not in result.stdout


def test_bad_rules_file_exit_2_when_nothing_loads(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- rule: R\n  desc: d\n  condition: ka.verb = (\n  output: o\n  priority: INFO\n"
                   "  source: k8s_audit\n")
    # standalone_mode=False as in cli.main: the command's return value is the exit code
    result = runner.invoke(app, ["--rules", str(bad), "--source", "k8s_audit", AUDIT], standalone_mode=False)
    assert result.return_value == 2
    assert f"{bad}:3: error: rule 'R': condition:" in result.output


def test_good_rules_still_run_beside_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- macro: broken\n  condition: (\n")
    result = runner.invoke(app, ["--rules", K8S_RULES, "--rules", str(bad), "--source", "k8s_audit", AUDIT,
                                 "-f", "json"])
    assert result.exit_code == 0
    assert f"{bad}:2: error: macro 'broken'" in result.output
    assert result.stdout.count('"rule":') == 14


def test_falco_json_passthrough(tmp_path: Path) -> None:
    src = tmp_path / "falco.jsonl"
    src.write_text(json.dumps({
        "hostname": "node1", "output": "10:00:00.000000000: Notice A shell was spawned", "priority": "Notice",
        "rule": "Terminal shell in container", "source": "syscall", "tags": ["container", "mitre_execution", "T1059"],
        "time": "2024-05-01T10:00:00.000000000Z", "output_fields": {"proc.name": "bash"}}) + "\nnot json\n")
    result = runner.invoke(app, ["--source", "falco", str(src), "-f", "json"])
    assert result.exit_code == 0
    line = json.loads(result.stdout.splitlines()[0])
    assert line["tactic"] == "Execution" and line["techniques"] == ["T1059"]
    assert "1 events, 1 skipped" in result.output
