"""CIS Docker Benchmark 1.6.0 section 4: container images and build files (per image where it can be)."""

from __future__ import annotations

import re

from containerguard.checks.base import Outcome, control, failed, info, passed, warn
from containerguard.checks.docker_facts import Image
from containerguard.models.snapshot import HostSnapshot, Skipped
from containerguard.registry import register

ROOT_USERS = {"", "root", "0"}
UPDATE = re.compile(r"\b(apt-get|apt|yum|dnf|apk|zypper|microdnf)\s+(-\S+\s+)*(update|upgrade)\b")
INSTALL = re.compile(r"\b(install|add)\b")
BASE_ADD = re.compile(r"ADD file:[0-9a-f]+ in /\s*$")
"""The rootfs tarball a base image starts from: not a build-file ADD of the image itself."""
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL)", re.I)


def _user(image: Image) -> str:
    return str(image.config.get("User") or "").split(":", 1)[0]


@register("check")
@control("image-user", "4.1", "Ensure that a user for the container has been created", level=1,
         automated=False, scope="image",
         remediation="Create a user in the Dockerfile (useradd) and switch to it with USER <name or uid>.",
         rationale="A container running as root is root in the container's user namespace: one breakout "
                   "away from root on the host.")
def image_user(image: Image, s: HostSnapshot) -> Outcome:
    """The image's ``Config.User`` is a non-root user."""
    user = _user(image)
    if user in ROOT_USERS:
        return failed(f"Config.User is {image.config.get('User') or 'empty'}: the image runs as root")
    return passed(f"Config.User: {image.config.get('User')}")


@register("check")
@control("images-trusted-base", "4.2", "Ensure that containers use only trusted base images", level=1,
         automated=False, scope="host",
         remediation="Pull base images from trusted registries only, verify their signatures and review their history.",
         rationale="A base image from an unknown source can carry anything.")
def trusted_base(s: HostSnapshot) -> Outcome:
    """Manual: the images on the host, for review of their origin."""
    names = sorted({t for i in s.images for t in (i.inspect.get("RepoTags") or []) if t != "<none>:<none>"})
    shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
    return info(f"review the origin of {len(s.images)} images: {shown or 'no tagged images'}")


@register("check")
@control("images-minimal-packages", "4.3", "Ensure that unnecessary packages are not installed in the container",
         level=1, automated=False, scope="host",
         remediation="Use minimal base images and install only what the application needs.",
         rationale="Every extra package is attack surface and a source of vulnerabilities.")
def minimal_packages(s: HostSnapshot) -> Outcome:
    """Manual: pointer to the image inventory."""
    return info("review each image's packages (containerguard sbom docker:IMAGE lists them)")


@register("check")
@control("images-scanned", "4.4", "Ensure images are scanned and rebuilt to include security patches",
         level=1, automated=False, scope="host",
         remediation="Scan images regularly (containerguard scan image docker:IMAGE) and rebuild them on fixes.",
         rationale="Images are frozen at build time: without rebuilds they keep every vulnerability they had.")
def scanned(s: HostSnapshot) -> Outcome:
    """Manual: pointer to image scanning."""
    return info(f"{len(s.images)} images on the host: scan them (containerguard scan image docker:IMAGE) "
                "and rebuild the vulnerable ones")


@register("check")
@control("images-content-trust", "4.5", "Ensure Content trust for Docker is Enabled", level=2, automated=False,
         scope="host", remediation="export DOCKER_CONTENT_TRUST=1 (e.g. in /etc/environment).",
         rationale="With content trust the docker client only pulls and runs signed images.")
def content_trust(s: HostSnapshot) -> Outcome:
    """``DOCKER_CONTENT_TRUST=1`` in the host's environment (/etc/environment or the scanning process)."""
    found = {k: v for k, v in s.environment.items() if k.endswith(":DOCKER_CONTENT_TRUST")}
    on = [f"{k.rsplit(':', 1)[0]}: DOCKER_CONTENT_TRUST={v}" for k, v in found.items() if v == "1"]
    if on:
        return passed("; ".join(on))
    if not s.local:
        return warn(f"the host environment was not collected ({s.docker_host} is remote): "
                    "check DOCKER_CONTENT_TRUST there")
    shown = "; ".join(f"{k}={v}" for k, v in found.items()) or "DOCKER_CONTENT_TRUST is not set"
    return failed(f"{shown} (read from /etc/environment and the scanner's environment)")


@register("check")
@control("image-healthcheck", "4.6", "Ensure that HEALTHCHECK instructions have been added to container images",
         level=1, automated=False, scope="image",
         remediation="Add a HEALTHCHECK instruction to the Dockerfile and rebuild the image.",
         rationale="A health check lets the engine and orchestrators notice a container that stopped working.")
def image_healthcheck(image: Image, s: HostSnapshot) -> Outcome:
    """The image's ``Config.Healthcheck`` has a test."""
    health = image.config.get("Healthcheck") or {}
    test = health.get("Test") if isinstance(health, dict) else None
    if not test or test == ["NONE"]:
        return failed("no HEALTHCHECK in the image config")
    return passed(f"HEALTHCHECK {' '.join(map(str, test))}")


@register("check")
@control("image-update-alone", "4.7", "Ensure update instructions are not used alone in Dockerfiles", level=1,
         automated=False, scope="image",
         remediation="Run package index updates in the same RUN instruction as the installs they serve, "
                     "with pinned versions (or build with --no-cache).",
         rationale="A cached update layer makes later installs use a stale package index.")
def update_alone(image: Image, s: HostSnapshot) -> Outcome:
    """No history step updates the package index without installing in the same step."""
    steps = image.created_by()
    if isinstance(steps, Skipped):
        return warn(f"image history unknown ({steps.reason}): review its Dockerfile")
    alone = [st for st in steps if UPDATE.search(st) and not INSTALL.search(UPDATE.split(st, maxsplit=1)[-1])]
    if alone:
        return warn(f"update without install in the same step: {alone[0][:160]}")
    return passed(f"{len(steps)} history steps, none updates a package index alone")


@register("check")
@control("images-setuid", "4.8", "Ensure setuid and setgid permissions are removed", level=2, automated=False,
         scope="host",
         remediation="Remove setuid/setgid bits the application does not need: "
                     "RUN find / -perm /6000 -type f -exec chmod a-s {} \\; || true",
         rationale="setuid and setgid binaries are privilege escalation paths inside the container.")
def setuid(s: HostSnapshot) -> Outcome:
    """Manual: the images' files are not in the snapshot."""
    return info("review setuid/setgid files in each image (find / -perm /6000 -type f)")


@register("check")
@control("image-copy-not-add", "4.9", "Ensure that COPY is used instead of ADD in Dockerfiles", level=1,
         automated=False, scope="image", remediation="Use COPY instead of ADD in Dockerfiles.",
         rationale="ADD fetches URLs and unpacks archives implicitly, which can bring in unexpected content.")
def copy_not_add(image: Image, s: HostSnapshot) -> Outcome:
    """No history step (other than a base image's rootfs) is an ADD."""
    steps = image.created_by()
    if isinstance(steps, Skipped):
        return warn(f"image history unknown ({steps.reason}): review its Dockerfile")
    adds = [st for st in steps if re.search(r"(^|\s)ADD\s", st) and not BASE_ADD.search(st)]
    if adds:
        return warn(f"ADD in the image history: {adds[0][:160]} — review whether COPY would do")
    return passed("no ADD instruction in the image history")


@register("check")
@control("image-secrets", "4.10", "Ensure secrets are not stored in Dockerfiles", level=1, automated=False,
         scope="image",
         remediation="Do not put secrets in ENV, ARG or RUN; use build secrets (RUN --mount=type=secret).",
         rationale="Environment and history of an image are readable by anyone who can pull it.")
def secrets(image: Image, s: HostSnapshot) -> Outcome:
    """No secret-like names with values in the image environment or history."""
    env = [str(e) for e in image.config.get("Env") or []]
    pairs = [e.split("=", 1) for e in env if "=" in e]
    hits = [k for k, v in pairs if v and SECRET_NAME.search(k)]
    steps = image.created_by()
    if not isinstance(steps, Skipped):
        hits += [st[:120] for st in steps if re.search(r"\b\w*(PASSWORD|SECRET|TOKEN|API_?KEY)\w*=\S+", st, re.I)]
    if hits:
        return warn(f"secret-like values in the image: {', '.join(hits[:5])} — check they are not secrets")
    return passed("no secret-like names with values in the image environment or history")


@register("check")
@control("images-verified-packages", "4.11", "Ensure only verified packages are installed", level=2,
         automated=False, scope="host",
         remediation="Install packages only from signed repositories and verify their signatures.",
         rationale="Unverified packages can be tampered with in transit or at the source.")
def verified_packages(s: HostSnapshot) -> Outcome:
    """Manual."""
    return info("review that images install packages from signed repositories only (GPG-verified)")


@register("check")
@control("images-signed-artifacts", "4.12", "Ensure all signed artifacts are validated", level=1,
         automated=False, scope="host",
         remediation="Validate the signatures of every signed artifact you deploy (e.g. cosign verify).",
         rationale="A signature protects only when it is checked.")
def signed_artifacts(s: HostSnapshot) -> Outcome:
    """Manual."""
    return info("review that image signatures are validated before deployment")
