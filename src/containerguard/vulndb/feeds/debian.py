"""The Debian security tracker JSON (https://security-tracker.debian.org/tracker/data/json).

Shape: ``{source_package: {issue_id: {description, scope, debianbug, releases: {codename: {status,
fixed_version, urgency, nodsa, nodsa_reason, repositories}}}}}``. Issues are CVE ids or the
tracker's ``TEMP-…`` ids. One advisory per issue (source ``debian-tracker``), one
:class:`Affected` per (release, source package), ecosystem ``Debian:<major>`` as OSV names it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from containerguard.models.advisory import Advisory, Affected, AffectedRange, RangeEvent, Severity
from containerguard.registry import register

from ..severity import word_level
from .base import Feed, Malformed, text

RELEASES = {
    "wheezy": "7", "jessie": "8", "stretch": "9", "buster": "10", "bullseye": "11", "bookworm": "12",
    "trixie": "13", "forky": "14", "duke": "15",
}
"""Codename -> major version. ``sid`` (unstable) is skipped: images never run it as a release with
security support, and OSV has no ecosystem for it."""

_WONT_FIX_REASONS = ("ignored", "postponed")


@dataclass
class _Issue:
    description: str = ""
    bugs: list[str] = field(default_factory=list)
    affected: list[Affected] = field(default_factory=list)


def _release_affected(package: str, release: str, info: dict[str, Any]) -> Affected | str | None:
    """The Affected for one release entry; None when not affected; a reason string when malformed."""
    status = info.get("status")
    fixed = text(info.get("fixed_version")).strip()
    urgency = text(info.get("urgency")).strip()
    nodsa, nodsa_reason = text(info.get("nodsa")).strip(), text(info.get("nodsa_reason")).strip()
    level = word_level(urgency)
    severity = (Severity(level=level, source="debian-urgency", vector=urgency),) if level else ()
    ecosystem = f"Debian:{RELEASES[release]}"
    if status == "resolved":
        if fixed == "0":
            return None  # the tracker's "<not-affected>": this release never had the flaw
        if not fixed or not fixed[0].isalnum():
            return f"resolved without a usable fixed_version ({fixed!r})"
        return Affected(ecosystem=ecosystem, package=package,
                        ranges=(AffectedRange("ECOSYSTEM", (RangeEvent("introduced", "0"),
                                                            RangeEvent("fixed", fixed))),),
                        fix_state="fixed", severity=severity)
    if status in ("open", "undetermined"):
        # open: affected, no fix yet. <no-dsa> (minor issue), <ignored> and <postponed> say Debian has
        # decided not to ship a security update; end-of-life means the package lost security support.
        wont = bool(nodsa) or nodsa_reason in _WONT_FIX_REASONS or urgency == "end-of-life"
        return Affected(ecosystem=ecosystem, package=package,
                        ranges=(AffectedRange("ECOSYSTEM", (RangeEvent("introduced", "0"),)),),
                        fix_state="will-not-fix" if wont else "not-fixed", severity=severity)
    return f"unknown status {status!r}"


@register("feed")
class DebianTrackerFeed(Feed):
    """Debian security tracker JSON: fixed, open, no-dsa, ignored, postponed and not-affected states."""

    name: ClassVar[str] = "debian-tracker"
    priority: ClassVar[int] = 20

    @classmethod
    def accepts(cls, document: Any) -> bool:
        """A map of package -> issue -> {releases: …} (the first entry decides)."""
        if not isinstance(document, dict) or not document:
            return False
        for issues in document.values():
            if not isinstance(issues, dict):
                return False
            for issue in issues.values():
                return isinstance(issue, dict) and "releases" in issue
        return False

    def parse(self, document: Any, origin: str) -> Iterator[Advisory | Malformed]:
        """One advisory per issue id, merging the packages it affects."""
        issues: dict[str, _Issue] = {}
        for package, by_issue in document.items():
            if not isinstance(package, str) or not package or not isinstance(by_issue, dict):
                yield Malformed(f"{origin}: package {package!r} is not a map of issues")
                continue
            for issue_id, info in by_issue.items():
                if not issue_id or not isinstance(info, dict) or not isinstance(info.get("releases"), dict):
                    yield Malformed(f"{origin}: {package} {issue_id!r}: no releases map")
                    continue
                issue = issues.setdefault(issue_id, _Issue())
                issue.description = issue.description or text(info.get("description"))
                if info.get("debianbug"):
                    issue.bugs.append(f"https://bugs.debian.org/{text(info['debianbug'])}")
                for release, rel_info in info["releases"].items():
                    if release not in RELEASES:
                        continue
                    if not isinstance(rel_info, dict):
                        yield Malformed(f"{origin}: {package} {issue_id} {release}: not an object")
                        continue
                    result = _release_affected(package, release, rel_info)
                    if isinstance(result, str):
                        yield Malformed(f"{origin}: {package} {issue_id} {release}: {result}")
                    elif result is not None:
                        issue.affected.append(result)
        for issue_id, issue in issues.items():
            if not issue.affected:
                continue  # not affected in any tracked release: nothing to match
            yield Advisory(
                id=issue_id, source=self.name, modified="", summary=issue.description,
                details=issue.description,
                references=(f"https://security-tracker.debian.org/tracker/{issue_id}", *dict.fromkeys(issue.bugs)),
                affected=tuple(issue.affected))
