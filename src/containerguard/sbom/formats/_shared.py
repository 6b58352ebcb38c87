"""What the CycloneDX and SPDX formats share: our property names, image purls, foreign packages.

Both formats carry the fields a standard has no slot for as ``containerguard:`` name/value pairs
(CycloneDX ``properties``, SPDX ``annotations``), in the style of Trivy's ``aquasecurity:trivy:``
properties. Lists are written as one name per item: the first item under the plain name, item ``n``
under ``NAME:n`` — CycloneDX sorts properties, so a list's order must live in the names.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from packageurl import PackageURL

from containerguard.models.artifact import ImageMetadata, Layer, Platform
from containerguard.models.sbom import Distro, Location, Package

PREFIX = "containerguard:"
PKG = "containerguard:package:"
IMAGE = "containerguard:image:"
DISTRO = "containerguard:distro:"
OS_TYPES = frozenset({"deb", "apk", "rpm"})
FOREIGN_SOURCE = "sbom"
"""``ImageMetadata.source`` of an image known only from a foreign SBOM document."""

Properties = list[tuple[str, str]]


def indexed(name: str, index: int) -> str:
    """The property name of item ``index`` of a list."""
    return name if index == 0 else f"{name}:{index}"


def listed(props: Mapping[str, str], name: str) -> list[str]:
    """Every item of a list written with :func:`indexed`, in order."""
    return [value for _, value in sorted(by_index(props, name).items())]


def by_index(props: Mapping[str, str], name: str) -> dict[int, str]:
    """The items of a list written with :func:`indexed`, by index (lists may have gaps)."""
    out: dict[int, str] = {}
    for key, value in props.items():
        if key == name:
            out[0] = value
        elif key.startswith(name + ":") and key[len(name) + 1:].isdigit():
            out[int(key[len(name) + 1:])] = value
    return out


def collect(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Name/value pairs as a dict; a repeated name keeps its first value."""
    out: dict[str, str] = {}
    for name, value in pairs:
        out.setdefault(name, value)
    return out


# --- packages -------------------------------------------------------------------------------------

def display_name(p: Package) -> str:
    """The name a document shows: golang module path, npm ``@scope/name``, maven ``group:artifact``."""
    if not p.namespace:
        return p.name
    if p.type == "maven":
        return f"{p.namespace}:{p.name}"
    if p.type in ("golang", "npm"):
        return f"{p.namespace}/{p.name}"
    return p.name


def bare_name(shown: str, namespace: str) -> str:
    """Inverse of :func:`display_name` for a known namespace."""
    for sep in ("/", ":"):
        if namespace and shown.startswith(namespace + sep):
            return shown[len(namespace) + 1:]
    return shown


def inventory_order(p: Package) -> tuple[str, str, str, str]:
    """The order :func:`containerguard.sbom.build.build_sbom` gives packages; readers restore it
    (CycloneDX documents sort their components their own way)."""
    return (p.type, p.namespace, p.name, p.full_version)


def package_refs(packages: Iterable[Package]) -> list[str]:
    """A unique, stable reference per package: its purl, ``#2``, ``#3``… appended to repeats."""
    seen: Counter[str] = Counter()
    refs = []
    for p in packages:
        base = p.purl or f"{p.type}:{display_name(p)}@{p.full_version}"
        seen[base] += 1
        refs.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return refs


def package_properties(p: Package, shown_version: str) -> Properties:
    """Our properties of a package: what the document's own fields do not already say."""
    props: Properties = [(PKG + "type", p.type)]
    for key in ("namespace", "arch", "source_name", "source_version", "release"):
        value = getattr(p, key)
        if value:
            props.append((PKG + key, value))
    if p.epoch is not None:
        props.append((PKG + "epoch", str(p.epoch)))
    if p.version != shown_version:
        props.append((PKG + "version", p.version))
    if p.dev:
        props.append((PKG + "dev", "true"))
    for i, loc in enumerate(p.locations):
        if loc.path:
            props.append((indexed(PKG + "location", i), loc.path))
        if loc.layer_digest:
            props.append((indexed(PKG + "layer_digest", i), loc.layer_digest))
    return props


def is_ours(props: Mapping[str, str]) -> bool:
    """Whether a component/package was written by us (so the properties hold every field)."""
    return PKG + "type" in props


def own_package(props: Mapping[str, str], shown_name: str, shown_version: str, purl: str,
                licenses: tuple[str, ...]) -> Package:
    """Rebuild a package we wrote, exactly."""
    namespace = props.get(PKG + "namespace", "")
    epoch = props.get(PKG + "epoch")
    paths = by_index(props, PKG + "location")
    layers = by_index(props, PKG + "layer_digest")
    locations = tuple(Location(paths.get(i, ""), layers.get(i, "")) for i in sorted(paths.keys() | layers))
    return Package(
        type=props[PKG + "type"], name=bare_name(shown_name, namespace),
        version=props.get(PKG + "version", shown_version), namespace=namespace,
        arch=props.get(PKG + "arch", ""), source_name=props.get(PKG + "source_name", ""),
        source_version=props.get(PKG + "source_version", ""),
        epoch=int(epoch) if epoch is not None else None, release=props.get(PKG + "release", ""),
        licenses=licenses, locations=locations, purl=purl, dev=props.get(PKG + "dev") == "true")


@dataclass(frozen=True)
class ForeignFacts:
    """What another tool's document says of one package, in our terms."""

    purl: str
    version: str = ""
    """The version the document shows (CycloneDX ``version``, SPDX ``versionInfo``)."""
    licenses: tuple[str, ...] = ()
    source_name: str = ""
    source_version: str = ""
    locations: tuple[Location, ...] = ()


def foreign_package(facts: ForeignFacts) -> Package:
    """A package from another tool's document: identity from the purl (the one field every tool
    fills the same way), versions as the ecosystem writes them. Raises ValueError on a bad purl."""
    purl = PackageURL.from_string(facts.purl)
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    shown = facts.version or purl.version or ""
    epoch: int | None = None
    release = ""
    version = shown
    src_version = facts.source_version
    if purl.type == "rpm":
        # Our rpm collector gives the source rpm's version-release, without the epoch.
        head, colon, rest = src_version.partition(":")
        src_version = rest if colon and head.isdigit() else src_version
        epoch_text = qualifiers.get("epoch", "")
        head, colon, rest = shown.partition(":")
        if colon and head.isdigit():
            epoch_text, shown = epoch_text or head, rest
        epoch = int(epoch_text) if epoch_text.isdigit() else None
        version, dash, release = shown.rpartition("-")
        if not dash:
            version, release = shown, ""
    elif purl.type == "deb" and not facts.version and qualifiers.get("epoch"):
        # Debian purls may carry the epoch as a qualifier; dpkg writes it inside the version.
        version = f"{qualifiers['epoch']}:{shown}"
    return Package(
        # OS packages: the distro is the SBOM's, not the package's; collectors leave it empty too.
        type=purl.type, name=purl.name, version=version,
        namespace="" if purl.type in OS_TYPES else (purl.namespace or ""),
        arch=qualifiers.get("arch", ""), source_name=facts.source_name, source_version=src_version,
        epoch=epoch, release=release, licenses=facts.licenses, locations=facts.locations, purl=facts.purl)


def source_version(version: str, release: str = "", epoch: str = "") -> str:
    """``[epoch:]version[-release]`` from Trivy's split SrcVersion/SrcRelease/SrcEpoch."""
    out = f"{version}-{release}" if release else version
    return f"{epoch}:{out}" if epoch and epoch != "0" else out


# --- the image ------------------------------------------------------------------------------------

_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")


def image_repository(a: ImageMetadata) -> str:
    """The repository an image lives in (``host/path``), when its reference or digests say."""
    if a.repo_digests:
        return a.repo_digests[0].split("@", 1)[0]
    if a.source != "registry":
        return ""
    ref = a.name.split("@", 1)[0]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    return ref[:colon] if colon > slash else ref


def image_purl(a: ImageMetadata) -> str:
    """``pkg:oci/NAME@DIGEST?arch=…&repository_url=HOST/PATH`` as Trivy writes it, or ``""``."""
    repository = image_repository(a)
    digest = a.manifest_digest
    if not digest and a.repo_digests and "@" in a.repo_digests[0]:
        digest = a.repo_digests[0].split("@", 1)[1]
    if not repository or not digest:
        return ""
    qualifiers = {"repository_url": repository}
    if a.platform.architecture:
        qualifiers["arch"] = a.platform.architecture
    return PackageURL(type="oci", name=repository.rsplit("/", 1)[-1].lower(), version=digest,
                      qualifiers=qualifiers).to_string()


def image_properties(a: ImageMetadata) -> Properties:
    """Our properties of the image: enough to rebuild its :class:`ImageMetadata` (not env/labels,
    which may hold secrets)."""
    props: Properties = [(IMAGE + "source", a.source), (IMAGE + "platform", str(a.platform))]
    if a.config_digest:
        props.append((IMAGE + "config_digest", a.config_digest))
    if a.created:
        props.append((IMAGE + "created", a.created))
    props += [(indexed(IMAGE + "repo_tag", i), t) for i, t in enumerate(a.repo_tags)]
    props += [(indexed(IMAGE + "repo_digest", i), d) for i, d in enumerate(a.repo_digests)]
    for i, layer in enumerate(a.layers):
        props.append((indexed(IMAGE + "layer_diff_id", i), layer.diff_id))
        props.append((indexed(IMAGE + "layer_digest", i), layer.digest))
        if layer.media_type:
            props.append((indexed(IMAGE + "layer_media_type", i), layer.media_type))
        if layer.size:
            props.append((indexed(IMAGE + "layer_size", i), str(layer.size)))
        if layer.created_by:
            props.append((indexed(IMAGE + "layer_created_by", i), layer.created_by))
    return props


def own_image(name: str, digest: str, props: Mapping[str, str]) -> ImageMetadata:
    """Rebuild an image we wrote."""
    diff_ids = by_index(props, IMAGE + "layer_diff_id")
    digests = by_index(props, IMAGE + "layer_digest")
    media = by_index(props, IMAGE + "layer_media_type")
    sizes = by_index(props, IMAGE + "layer_size")
    created_by = by_index(props, IMAGE + "layer_created_by")
    layers = tuple(Layer(digests.get(i, ""), diff_ids.get(i, ""), media.get(i, ""), int(sizes.get(i, "0")),
                         created_by.get(i, "")) for i in sorted(diff_ids.keys() | digests))
    return ImageMetadata(
        name=name, source=props.get(IMAGE + "source", FOREIGN_SOURCE), layers=layers,
        manifest_digest=digest, config_digest=props.get(IMAGE + "config_digest", ""),
        repo_tags=tuple(listed(props, IMAGE + "repo_tag")),
        repo_digests=tuple(listed(props, IMAGE + "repo_digest")),
        platform=Platform.parse(props.get(IMAGE + "platform") or "linux/amd64"),
        created=props.get(IMAGE + "created", ""))


def foreign_image(name: str, version: str, purl: str, facts: Iterable[tuple[str, str]]) -> ImageMetadata:
    """The image as another tool describes it. ``facts`` are Trivy's image properties or SPDX
    annotations without their namespace (``DiffID``, ``ImageID``, ``RepoDigest``, ``RepoTag``)."""
    pairs = list(facts)
    repo_digests = tuple(v for k, v in pairs if k == "RepoDigest")
    digest = digest_or_empty(version)
    if not digest and purl:
        try:
            digest = digest_or_empty(PackageURL.from_string(purl).version or "")
        except ValueError:
            digest = ""
    if not digest and repo_digests:
        digest = digest_or_empty(repo_digests[0].partition("@")[2])
    return ImageMetadata(
        name=name, source=FOREIGN_SOURCE, manifest_digest=digest,
        config_digest=next((v for k, v in pairs if k == "ImageID"), ""), repo_digests=repo_digests,
        repo_tags=tuple(v for k, v in pairs if k == "RepoTag"),
        layers=tuple(Layer("", v) for k, v in pairs if k == "DiffID"))


def digest_or_empty(text: str) -> str:
    """``text`` if it looks like an OCI digest (``sha256:…``), else ``""``."""
    return text if _DIGEST.match(text) else ""


# --- the distro -----------------------------------------------------------------------------------

def distro_properties(d: Distro) -> Properties:
    """Our properties of the distro (id and version_id are the component's own name and version)."""
    props: Properties = []
    for key in ("name", "pretty_name", "codename"):
        value = getattr(d, key)
        if value:
            props.append((DISTRO + key, value))
    if d.id_like:
        # One value, as os-release writes ID_LIKE, so the order survives CycloneDX's sorting.
        props.append((DISTRO + "id_like", " ".join(d.id_like)))
    if d.distroless:
        props.append((DISTRO + "distroless", "true"))
    return props


def distro_from(distro_id: str, version_id: str, props: Mapping[str, str]) -> Distro:
    """A distro from an operating-system component/package and (if ours) its properties."""
    return Distro(id=distro_id.lower(), version_id=version_id, name=props.get(DISTRO + "name", ""),
                  pretty_name=props.get(DISTRO + "pretty_name", ""),
                  codename=props.get(DISTRO + "codename", ""),
                  id_like=tuple(props.get(DISTRO + "id_like", "").split()),
                  distroless=props.get(DISTRO + "distroless") == "true")


# --- defensive access to parsed JSON ---------------------------------------------------------------

def obj(value: Any) -> dict[str, Any]:
    """``value`` as a JSON object (None: empty); TypeError otherwise, which readers turn into SbomError."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value


def array(value: Any) -> list[Any]:
    """``value`` as a JSON array (None: empty); TypeError otherwise."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"expected an array, got {type(value).__name__}")
    return value


def text(element: dict[str, Any], key: str) -> str:
    """The required string ``element[key]``; KeyError/TypeError otherwise."""
    value = element[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} must be a string, got {type(value).__name__}")
    return value
