"""The scan task: pull and inventory an image, store its SBOM, match it, record health and findings.

An attempt that fails because the source failed (registry down, refused, broken download) is
retried with backoff until ``max_attempts``; each failed attempt keeps its error on the scan, so
an event is never lost silently. Anything else fails the scan at once with its error.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session

from containerguard.errors import ContainerGuardError, SourceError, VulnDbError
from containerguard.jobs.enqueue import ENQUEUE_LOCK
from containerguard.models.artifact import Platform
from containerguard.models.sbom import Sbom
from containerguard.sbom.formats.base import get_format
from containerguard.sources.base import SourceOptions
from containerguard.sources.imageref import ImageRef, parse_ref
from containerguard.sources.manifest import ImageIndex, list_platforms, parse_manifest, select_platform
from containerguard.sources.ref import REGISTRY, split_ref
from containerguard.sources.registry import RegistryClient
from containerguard.store import registries as registry_repo
from containerguard.store.events import SCAN_FAILED, add_event
from containerguard.store.images import PENDING, add_tags, ensure_image, get_image
from containerguard.store.scan_access import load_access
from containerguard.store.scans import fail, finish, get_scan
from containerguard.store.tables import ImageRow, ScanRow, utcnow

from .assess import Assessment, assess, record
from .context import JobContext

log = logging.getLogger("containerguard.jobs")


@dataclass(frozen=True)
class Target:
    """One image (one platform) a scan inventories, and where its result is stored."""

    ref: str
    registry_host: str
    repository: str
    platform: Platform | None = None
    index_digest: str = ""
    known_digest: str = ""
    """The platform manifest's digest when known before the pull (index entries)."""


@dataclass
class Inventoried:
    """A target's SBOM (None when an earlier scan already covers it)."""

    target: Target
    sbom: Sbom | None


def source_options(ctx: JobContext, session: Session, scan: ScanRow, host: str) -> SourceOptions:
    """Options for pulling from ``host``: the access the scan request came with (Harbor's scanner
    API), else the registered registry's credentials when there is one."""
    handed = load_access(session, ctx.cipher, scan.id)
    if handed is not None:
        return handed.options(ctx.config.settings)
    row = registry_repo.get_registry(session, scan.registry_id) if scan.registry_id else None
    if row is None and host:
        row = registry_repo.find_by_host(session, host)
    if row is None:
        return SourceOptions(settings=ctx.config.settings)
    access = registry_repo.access(row, ctx.cipher)
    return SourceOptions(insecure=access.insecure, username=access.username, password=access.password,
                         settings=ctx.config.settings)


def plan(ref: ImageRef, options: SourceOptions) -> tuple[str, list[Target]]:
    """The digest ``ref`` names now, and one target per platform (one for a single manifest)."""
    client = RegistryClient(ref, options)
    try:
        data, media_type, digest = client.manifest(ref.reference, ref.digest)
        top = parse_manifest(data, media_type)
    finally:
        client.close()
    pinned = f"{ref.name}@{digest}"
    if not isinstance(top, ImageIndex):
        return digest, [Target(pinned, ref.host, ref.repository)]
    targets = []
    platforms: list[Platform | None] = [*list_platforms(top)] or [None]
    for platform in platforms:
        child = select_platform(top, platform)
        targets.append(Target(pinned, ref.host, ref.repository, platform, digest, child.digest))
    return digest, targets


def run_scan(ctx: JobContext, scan_id: str) -> None:
    """Run one claimed (``running``) attempt of scan ``scan_id`` and record its outcome."""
    started = time.monotonic()
    try:
        images, notifications = _scan(ctx, scan_id)
    except SourceError as exc:
        _failed(ctx, scan_id, str(exc), transient=True)
        return
    except ContainerGuardError as exc:
        _failed(ctx, scan_id, str(exc), transient=False)
        return
    except Exception as exc:  # a bug must fail the scan visibly, never kill the worker
        log.exception("scan %s crashed", scan_id)
        _failed(ctx, scan_id, f"internal error: {type(exc).__name__}: {exc}", transient=False)
        return
    ctx.metrics.scan_duration.observe(time.monotonic() - started)
    ctx.metrics.scan_outcomes.labels("done").inc()
    log.info("scan %s done: %d image(s)", scan_id, len(images))
    for payload in notifications:
        ctx.notifier.notify(payload)


def _failed(ctx: JobContext, scan_id: str, error: str, transient: bool) -> None:
    with ctx.store.session() as session:
        scan = get_scan(session, scan_id)
        if scan is None:
            return
        retry = transient and scan.attempts < ctx.config.max_attempts
        fail(scan, error, ctx.config.backoff(scan.attempts) if retry else None)
        add_event(session, SCAN_FAILED, f"scan of {scan.ref} {'will retry' if retry else 'failed'}: {scan.error}",
                  data={"scan": scan.id, "attempt": scan.attempts, "retry": retry})
        outcome = "retry" if retry else "failed"
    ctx.metrics.scan_outcomes.labels(outcome).inc()
    log.warning("scan %s attempt failed (%s): %s", scan_id, outcome, error)


def _targets(scan: ScanRow, options: SourceOptions) -> list[Target]:
    prefix, rest = split_ref(scan.ref)
    if prefix != REGISTRY:
        return [Target(scan.ref, prefix, rest)]
    try:
        ref = parse_ref(scan.ref)
    except ContainerGuardError as exc:
        raise SourceError(str(exc)) from exc
    digest, targets = plan(ref, options)
    scan.registry_host, scan.repository, scan.digest = ref.host, ref.repository, digest
    if ref.tag and not ref.digest:
        scan.tags = sorted({*(scan.tags or []), ref.tag})
    return targets


def _scan(ctx: JobContext, scan_id: str) -> tuple[list[int], list[dict[str, object]]]:
    # Three short transactions around the slow part (the pull): a SQLite writer is never held open
    # while an image downloads.
    with ctx.store.session() as session:
        scan = get_scan(session, scan_id)
        if scan is None:
            return [], []
        host = scan.registry_host if split_ref(scan.ref)[0] == REGISTRY else ""
        options = source_options(ctx, session, scan, host)
    targets = _targets(scan, options)
    with ctx.store.session() as session:
        fresh = get_scan(session, scan_id)
        if fresh is None:
            return [], []
        fresh.registry_host, fresh.repository, fresh.digest = scan.registry_host, scan.repository, scan.digest
        fresh.tags = sorted({*(fresh.tags or []), *(scan.tags or [])})
        covered = [_covered(session, target) for target in targets]
    done = [Inventoried(target, None if skip else ctx.inventory(
                target.ref, dataclasses.replace(options, platform=target.platform)))
            for target, skip in zip(targets, covered, strict=True)]
    assessments = _assess_all(ctx, [item.sbom for item in done])
    # Under the enqueue lock, a webhook adding a tag either lands in the scan's tags read below or,
    # once this commits, finds the scanned image and tags it directly: a tag is never lost between.
    with ENQUEUE_LOCK, ctx.store.session() as session:
        scan = get_scan(session, scan_id)
        if scan is None:
            return [], []
        image_ids: list[int] = []
        notifications: list[dict[str, object]] = []
        for item, assessment in zip(done, assessments, strict=True):
            image = _store_result(session, scan, item, assessment, notifications)
            image_ids.append(image.id)
        finish(scan, image_ids)
    return image_ids, notifications


def _covered(session: Session, target: Target) -> bool:
    """Whether an index entry was pushed (and scanned) on its own before its index."""
    if not target.known_digest:
        return False
    existing = get_image(session, target.registry_host, target.repository, target.known_digest)
    return existing is not None and existing.health != PENDING and bool(existing.sbom)


def _assess_all(ctx: JobContext, sboms: list[Sbom | None]) -> list[Assessment | None]:
    if not any(sboms):
        return [None] * len(sboms)
    try:
        vulns = ctx.vulnerability_db()
    except VulnDbError as exc:
        log.warning("no assessment: %s", exc)
        return [None] * len(sboms)
    try:
        return [assess(s, vulns) if s is not None else None for s in sboms]
    finally:
        close = getattr(vulns, "close", None)
        if callable(close):
            close()


def _store_result(session: Session, scan: ScanRow, item: Inventoried, assessment: Assessment | None,
                  notifications: list[dict[str, object]]) -> ImageRow:
    target = item.target
    digest = target.known_digest
    if item.sbom is not None:
        a = item.sbom.artifact
        digest = a.manifest_digest or a.config_digest or digest
    image = ensure_image(session, target.registry_host, target.repository, digest, target.index_digest,
                         scan.registry_id)
    if target.index_digest and not image.index_digest:
        image.index_digest = target.index_digest
    add_tags(image, scan.tags or [])
    if item.sbom is None:
        return image
    sbom = item.sbom
    image.sbom = get_format("json").write(sbom)
    image.platform = str(sbom.artifact.platform)
    image.distro = (sbom.distro.pretty_name or f"{sbom.distro.id} {sbom.distro.version_id}".strip()) \
        if sbom.distro else ""
    image.packages = len(sbom.packages)
    image.last_scan, image.last_scan_id = utcnow(), scan.id
    if assessment is None:
        image.notes = [{"subject": "vulnerability database",
                        "reason": "no vulnerability database: the image is assessed once one is imported"}]
        return image
    recorded = record(session, image, assessment, "scan")
    notifications.extend(recorded.notifications)
    return image


def load_sbom(image: ImageRow) -> Sbom:
    """The stored SBOM of ``image``."""
    return get_format("json").read(json.loads(image.sbom))
