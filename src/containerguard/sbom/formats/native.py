"""containerguard's own JSON: the models as they are, for machines and round trips."""

from __future__ import annotations

from typing import Any

from containerguard import __version__
from containerguard.errors import SbomError
from containerguard.jsontext import dumps_indented
from containerguard.models.artifact import ImageMetadata, Layer, Platform
from containerguard.models.sbom import Sbom, Skipped
from containerguard.models.serde import distro_from_dict, distro_to_dict, package_from_dict, package_to_dict
from containerguard.registry import register
from containerguard.sbom.formats.base import SbomFormat

SCHEMA = "containerguard/sbom/v1"


@register("sbom-format", "json")
class NativeJson(SbomFormat):
    """``{"schema": "containerguard/sbom/v1", "artifact": …, "distro": …, "packages": […]}``."""

    name = "json"

    def write(self, sbom: Sbom) -> str:
        """Serialise with stable key order."""
        a = sbom.artifact
        doc: dict[str, Any] = {
            "schema": SCHEMA,
            "tool": f"containerguard {__version__}",
            "artifact": {
                "name": a.name, "source": a.source, "manifest_digest": a.manifest_digest,
                "config_digest": a.config_digest, "repo_tags": list(a.repo_tags),
                "repo_digests": list(a.repo_digests), "platform": str(a.platform), "created": a.created,
                "layers": [{"digest": x.digest, "diff_id": x.diff_id, "media_type": x.media_type,
                            "size": x.size, "created_by": x.created_by} for x in a.layers],
            },
            "distro": distro_to_dict(sbom.distro) if sbom.distro else None,
            "packages": [package_to_dict(p) for p in sbom.packages],
            "skipped": [{"path": s.path, "reason": s.reason, "layer": s.layer_digest} for s in sbom.skipped],
        }
        return dumps_indented(doc)

    def detect(self, document: dict[str, Any]) -> bool:
        """Our documents say so in ``schema``."""
        return document.get("schema") == SCHEMA

    def read(self, document: dict[str, Any]) -> Sbom:
        """Inverse of :meth:`write`."""
        try:
            a = document["artifact"]
            artifact = ImageMetadata(
                name=a["name"], source=a["source"], manifest_digest=a.get("manifest_digest", ""),
                config_digest=a.get("config_digest", ""), repo_tags=tuple(a.get("repo_tags", ())),
                repo_digests=tuple(a.get("repo_digests", ())),
                platform=Platform.parse(a.get("platform") or "linux/amd64"), created=a.get("created", ""),
                layers=tuple(Layer(x["digest"], x["diff_id"], x.get("media_type", ""), x.get("size", 0),
                                   x.get("created_by", "")) for x in a.get("layers", ())))
            distro = distro_from_dict(document["distro"]) if document.get("distro") else None
            packages = tuple(package_from_dict(p) for p in document.get("packages", ()))
            skipped = tuple(Skipped(s["path"], s["reason"], s.get("layer", ""))
                            for s in document.get("skipped", ()))
        except (KeyError, TypeError, ValueError) as exc:
            raise SbomError(f"malformed containerguard SBOM: {exc}") from exc
        return Sbom(artifact=artifact, distro=distro, packages=packages, skipped=skipped)
