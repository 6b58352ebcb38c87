"""Reading manifests: multi-document YAML with lines, per-document errors, List dumps, JSON, stdin."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from containerguard.errors import SourceError
from containerguard.models.k8s import FAIL
from containerguard.pipeline.k8s_audit import audit
from containerguard.sources.k8s_manifests import parse_text, read_paths

FIXTURES = Path(__file__).parents[2] / "fixtures/k8s/manifests"


def test_multi_document_lines_and_bad_documents() -> None:
    got = read_paths([str(FIXTURES / "mixed.yaml")])
    assert [(o.ref, o.line) for o in got.objects] == [
        ("Namespace/shop", 2), ("ConfigMap/shop/settings", 7), ("CustomResourceDefinition/widgets.example.com", 28),
        ("Widget/shop/gizmo", 38), ("Pod/shop/after-broken", 49)]
    reasons = [(s.line, s.reason) for s in got.skipped]
    assert reasons[0][0] == 15 and reasons[0][1].startswith("invalid YAML") and "line 26" in reasons[0][1]
    assert reasons[1] == (47, "no apiVersion/kind: not a Kubernetes object")


def test_unknown_kinds_are_kept_but_not_pod_checked() -> None:
    got = read_paths([str(FIXTURES / "mixed.yaml")])
    result = audit(got, standard="pss-baseline")
    assessed = {r.resource for r in result.results}
    assert assessed == {"Pod/shop/after-broken"}
    assert result.objects == 5


def test_kubectl_list_dump_assessed_once_at_the_controller() -> None:
    got = read_paths([str(FIXTURES / "kubectl-dump.json")])
    assert [o.line for o in got.objects] == [4, 21, 41, 54]
    failing = {r.resource for r in audit(got, standard="pss-baseline").results if r.status == FAIL}
    # The ReplicaSet and its Pod are the Deployment's; the pod whose owner is absent is assessed itself.
    assert failing == {"Deployment/shop/web"}
    assessed = {r.resource for r in audit(got, standard="pss-baseline").results}
    assert assessed == {"Deployment/shop/web", "Pod/shop/orphan-of-missing-rs"}


def test_typed_api_list_items_get_their_kind() -> None:
    text = json.dumps({"kind": "DeploymentList", "apiVersion": "apps/v1", "metadata": {},
                       "items": [{"metadata": {"name": "a", "namespace": "n"}, "spec": {}}]})
    objects, skipped = parse_text(text, "dump.json")
    assert [(o.kind, o.api_version, o.ref) for o in objects] == [("Deployment", "apps/v1", "Deployment/n/a")]
    assert skipped == []


def test_folders_recursive_stdin_and_utf16(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "svc.yml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
    (tmp_path / "a" / "notes.txt").write_text("not a manifest")
    (tmp_path / "dump.json").write_bytes(
        json.dumps({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa"}}).encode("utf-16"))
    stdin = io.BytesIO(b"---\napiVersion: v1\nkind: Secret\nmetadata: {name: s2}\n")
    got = read_paths([str(tmp_path), "-"], stdin)
    assert sorted(o.ref for o in got.objects) == ["Secret/s2", "Service/s", "ServiceAccount/sa"]
    assert next(o for o in got.objects if o.kind == "Secret").source == "-"
    assert next(o for o in got.objects if o.kind == "Secret").line == 2


@pytest.mark.parametrize(("text", "reason"), [
    (b"\xff\xfe\x00", "not UTF-8"),
    (b"[1, 2]\n", "document is a list"),
    (b"apiVersion: v1\nkind: Pod\nmetadata: {name: [unclosed\n", "invalid YAML"),
    (b"a: &x [*x]\n", "no apiVersion/kind"),
])
def test_bad_input_is_recorded_not_raised(tmp_path: Path, text: bytes, reason: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(text)
    got = read_paths([str(path)])
    assert got.objects == ()
    assert reason in got.skipped[0].reason


def test_missing_path_is_an_error() -> None:
    with pytest.raises(SourceError, match="no such file"):
        read_paths(["/nonexistent/manifests"])


def test_malformed_fields_do_not_stop_the_scan() -> None:
    objects, _ = parse_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: odd}\nspec:\n  containers: {not: a list}\n"
        "  securityContext: [1]\n  volumes: [3, {name: v, hostPath: {path: /}}]\n", "odd.yaml")
    result = audit(type(read_paths([]))(tuple(objects)), standard="pss-baseline")
    failing = {r.check_id for r in result.results if r.status == FAIL}
    assert failing == {"CG-K8S-PSS-005"}
