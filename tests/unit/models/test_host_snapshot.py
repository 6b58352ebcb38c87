"""HostSnapshot JSON round trip and its one-line errors on bad documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from containerguard.models.snapshot import (
    HostFile,
    Skipped,
    SnapshotFormatError,
    snapshot_from_dict,
    snapshot_from_json,
    snapshot_to_json,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "host"


def hardened_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / "hardened.json").read_text())
    return doc


def test_round_trip_is_lossless() -> None:
    s = snapshot_from_json((FIXTURES / "hardened.json").read_text())
    assert snapshot_from_json(snapshot_to_json(s)) == s
    assert s.file("daemon.json") == s.files["/etc/docker/daemon.json"]
    assert isinstance(s.files["/etc/sysconfig/docker"], HostFile) and not s.files["/etc/sysconfig/docker"].exists
    sock = HostFile("/var/run/docker.sock", "socket", 0, 998, "root", "docker", 0o660)
    assert s.files["/var/run/docker.sock"] == sock


def test_skipped_facts_round_trip() -> None:
    doc = hardened_doc()
    doc["dockerd"] = {"skipped": "no dockerd"}
    doc["files"]["/etc/docker"] = {"skipped": "cannot stat /etc/docker: Permission denied"}
    s = snapshot_from_dict(doc)
    assert s.dockerd == Skipped("no dockerd")
    assert snapshot_from_json(snapshot_to_json(s)) == s


@pytest.mark.parametrize(("text", "message"), [
    ('{"kind": "containerguard.host-snapshot", "schema": 1, "docker_h', "truncated JSON at line 1"),
    ("{not json}", "malformed JSON"),
    ('{"kind": "something-else"}', "not a containerguard host snapshot"),
    ('{"kind": "containerguard.host-snapshot", "schema": 99}', "schema 99 is not supported"),
    ("[]", "snapshot should be dict"),
])
def test_bad_documents_give_one_line_errors(text: str, message: str) -> None:
    with pytest.raises(SnapshotFormatError, match=message) as err:
        snapshot_from_json(text)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("path", "value", "message"), [
    (("containers",), {"a": 1}, "containers should be list"),
    (("files", "/etc/docker", "mode"), "rwx", "mode is not an octal number"),
    (("files", "/etc/docker", "kind"), "pipe", "kind is 'pipe'"),
    (("mounts",), [["/dev/sda1", "/"]], "mounts\\[0\\] should have 4 fields"),
    (("dockerd", "pid"), "812", "dockerd.pid should be int"),
])
def test_malformed_fields_are_named(path: tuple[str, ...], value: object, message: str) -> None:
    doc = hardened_doc()
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(SnapshotFormatError, match=message):
        snapshot_from_json(json.dumps(doc))
