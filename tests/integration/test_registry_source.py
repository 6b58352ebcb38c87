"""The registry source against a real registry (Debian's docker-registry) fed by skopeo."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "sources"))

from imagebuilder import BuiltImage, OciLayout, build_image
from registry_server import HAVE_TOOLS, Registry, free_port, push, start_registry

from containerguard.errors import AuthError, SourceError
from containerguard.models.artifact import Platform
from containerguard.sources.base import SourceOptions
from containerguard.sources.ref import open_source
from containerguard.sources.registry import RegistrySource

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not HAVE_TOOLS, reason="needs docker-registry and skopeo binaries"),
]

AMD64 = build_image([{"etc/os-release": b"ID=debian\n"}, {"app/main": b"amd64"}], labels={"l": "v"},
                    env=["A=1"])
ARM64 = build_image([{"etc/os-release": b"ID=debian\n"}, {"app/main": b"arm64"}], arch="arm64",
                    variant="v8")


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One layout holding a single-platform image (tag ``one``) and a two-platform index (``multi``)."""
    layout = OciLayout(tmp_path_factory.mktemp("layout") / "l")
    layout.tag(layout.add_image(AMD64), "one")
    layout.tag(layout.add_index([AMD64, ARM64]), "multi")
    return layout.write()


@pytest.fixture(autouse=True)
def _no_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Never read the real ~/.docker/config.json.
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))


@pytest.fixture(scope="module")
def anon(tmp_path_factory: pytest.TempPathFactory, layout: Path) -> Iterator[Registry]:
    """An anonymous registry with ``app:one`` and the two-platform ``app:multi``."""
    with start_registry(tmp_path_factory.mktemp("anon")) as reg:
        push(f"oci:{layout}:one", f"{reg.host}/team/app:one")
        push(f"oci:{layout}:multi", f"{reg.host}/team/app:multi", all_images=True)
        yield reg


def _pull(ref: str, options: SourceOptions | None = None) -> tuple[RegistrySource, list[bytes]]:
    source = open_source(ref, options)
    assert isinstance(source, RegistrySource)
    blobs = []
    for layer in source.metadata().layers:
        with source.open_blob(layer) as blob:
            blobs.append(blob.read())
    return source, blobs


def _check_image(source: RegistrySource, blobs: list[bytes], image: BuiltImage) -> None:
    meta = source.metadata()
    assert meta.source == "registry"
    assert meta.manifest_digest == image.manifest_digest
    assert meta.config_digest == image.config_digest
    assert [la.diff_id for la in meta.layers] == [la.diff_id for la in image.layers]
    assert [la.digest for la in meta.layers] == [la.digest for la in image.layers]
    assert [la.created_by for la in meta.layers] == ["step 0", "step 1"]
    assert blobs == [la.blob for la in image.layers]


def test_anonymous_pull(anon: Registry) -> None:
    source, blobs = _pull(f"{anon.host}/team/app:one")
    _check_image(source, blobs, AMD64)
    meta = source.metadata()
    assert meta.repo_tags == (f"{anon.host}/team/app:one",)
    assert meta.repo_digests == (f"{anon.host}/team/app@{AMD64.manifest_digest}",)
    assert meta.labels == (("l", "v"),) and meta.env == ("A=1",) and meta.created.startswith("2024")
    assert source.list_platforms() == [Platform("linux", "amd64")]
    source.close()


def test_pull_by_digest(anon: Registry) -> None:
    source, blobs = _pull(f"{anon.host}/team/app@{AMD64.manifest_digest}")
    _check_image(source, blobs, AMD64)
    assert source.metadata().repo_tags == ()


def test_manifest_list_platforms(anon: Registry) -> None:
    source, blobs = _pull(f"{anon.host}/team/app:multi")
    _check_image(source, blobs, AMD64)
    index_digest = source.metadata().repo_digests[0].split("@")[1]
    assert index_digest != AMD64.manifest_digest
    assert source.list_platforms() == [Platform("linux", "amd64"), Platform("linux", "arm64", "v8")]
    arm, arm_blobs = _pull(f"{anon.host}/team/app:multi", SourceOptions(platform=Platform("linux", "arm64")))
    _check_image(arm, arm_blobs, ARM64)
    assert arm.metadata().platform == Platform("linux", "arm64", "v8")
    with pytest.raises(SourceError, match=r"no image for platform linux/riscv64.*linux/amd64, linux/arm64/v8"):
        open_source(f"{anon.host}/team/app:multi", SourceOptions(platform=Platform("linux", "riscv64"))).metadata()


def test_wrong_digest_is_not_found_and_not_trusted(anon: Registry) -> None:
    # A digest the registry does not hold: 404.
    with pytest.raises(SourceError, match="image not found"):
        open_source(f"{anon.host}/team/app@sha256:{'0' * 64}").metadata()


def test_missing_image_and_tag(anon: Registry) -> None:
    with pytest.raises(SourceError, match=r"image not found: 127\.0\.0\.1:\d+/team/nope:one"):
        open_source(f"{anon.host}/team/nope:one").metadata()
    with pytest.raises(SourceError, match="image not found"):
        open_source(f"{anon.host}/team/app:missing").metadata()


def test_unknown_blob(anon: Registry) -> None:
    source = open_source(f"{anon.host}/team/app:one")
    layer = source.metadata().layers[0]
    forged = type(layer)(digest="sha256:" + "1" * 64, diff_id=layer.diff_id, size=layer.size)
    with pytest.raises(SourceError, match="image not found"):
        source.open_blob(forged)


def _write_docker_config(directory: Path, host: str, user: str, password: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (directory / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))


def test_basic_auth_via_docker_config(tmp_path: Path, layout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with start_registry(tmp_path / "reg", auth="htpasswd", users={"alice": "s3cret"}) as reg:
        push(f"oci:{layout}:one", f"{reg.host}/private/app:1", creds="alice:s3cret")
        with pytest.raises(AuthError, match=rf"registry {reg.host} refused anonymous access to private/app \(401\)"):
            open_source(f"{reg.host}/private/app:1").metadata()
        _write_docker_config(tmp_path / "dc", reg.host, "alice", "s3cret")
        monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dc"))
        source, blobs = _pull(f"{reg.host}/private/app:1")
        _check_image(source, blobs, AMD64)
        _write_docker_config(tmp_path / "dc", reg.host, "alice", "wrong")
        with pytest.raises(AuthError, match=rf"^registry {reg.host} refused credentials for private/app \(401\)$"):
            open_source(f"{reg.host}/private/app:1").metadata()
        # Explicit options win over the Docker config.
        source, _ = _pull(f"{reg.host}/private/app:1", SourceOptions(username="alice", password="s3cret"))
        assert source.metadata().manifest_digest == AMD64.manifest_digest


@pytest.mark.parametrize("token_field", ["token", "access_token"])
def test_bearer_token_flow(tmp_path: Path, layout: Path, token_field: str) -> None:
    with start_registry(tmp_path / "reg", auth="token", users={"bob": "pw"}, anonymous_pull=False,
                        token_field=token_field) as reg:
        assert reg.token_server is not None
        push(f"oci:{layout}:multi", f"{reg.host}/tok/app:multi", creds="bob:pw", all_images=True)
        reg.token_server.requests.clear()
        source, blobs = _pull(f"{reg.host}/tok/app:multi", SourceOptions(username="bob", password="pw"))
        _check_image(source, blobs, AMD64)
        # The scope asked for is the registry's own challenge scope: pull on our repository.
        assert any("scope=repository%3Atok%2Fapp%3Apull" in r for r in reg.token_server.requests)
        with pytest.raises(AuthError, match=rf"^registry {reg.host} refused credentials for tok/app \(401\)$"):
            open_source(f"{reg.host}/tok/app:multi", SourceOptions(username="bob", password="bad")).metadata()
        # Anonymous: the token server hands out a token without pull access; the registry says 401.
        with pytest.raises(AuthError, match="refused anonymous access"):
            open_source(f"{reg.host}/tok/app:multi").metadata()


def test_anonymous_bearer_pull(tmp_path: Path, layout: Path) -> None:
    with start_registry(tmp_path / "reg", auth="token", users={"bob": "pw"}, anonymous_pull=True) as reg:
        push(f"oci:{layout}:one", f"{reg.host}/pub/app:one", creds="bob:pw")
        source, blobs = _pull(f"{reg.host}/pub/app:one")
        _check_image(source, blobs, AMD64)


def test_connection_refused() -> None:
    with pytest.raises(SourceError, match=r"cannot reach registry 127\.0\.0\.1:\d+"):
        open_source(f"127.0.0.1:{free_port()}/x/y:1").metadata()
