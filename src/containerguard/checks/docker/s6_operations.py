"""CIS Docker Benchmark 1.6.0 section 6: Docker security operations (image and container sprawl)."""

from __future__ import annotations

from containerguard.checks.base import Outcome, control, info, passed
from containerguard.models.snapshot import HostSnapshot
from containerguard.registry import register


@register("check")
@control("ops-image-sprawl", "6.1", "Ensure that image sprawl is avoided", level=1, automated=False,
         scope="host", remediation="Remove images no container uses (docker image prune -a) on a schedule.",
         rationale="Unused images keep old, vulnerable software on the host and waste disk.")
def image_sprawl(s: HostSnapshot) -> Outcome:
    """Manual: images on the host and those no assessed container uses."""
    used = {str(c.get("Image") or "") for c in s.containers}
    unused = [i for i in s.images if str(i.inspect.get("Id")) not in used]
    dangling = [i for i in s.images if not [t for t in i.inspect.get("RepoTags") or [] if t != "<none>:<none>"]]
    ev = (f"{len(s.images)} images, {len(unused)} not used by the assessed containers, "
          f"{len(dangling)} untagged")
    if not unused:
        return passed(ev)
    return info(ev + ": remove the ones no longer needed")


@register("check")
@control("ops-container-sprawl", "6.2", "Ensure that container sprawl is avoided", level=1, automated=False,
         scope="host", remediation="Remove stopped containers that are no longer needed (docker container prune).",
         rationale="Stopped containers keep data, configuration and old images around.")
def container_sprawl(s: HostSnapshot) -> Outcome:
    """Manual: running vs. stopped containers as the engine counts them."""
    total = int(s.info.get("Containers") or 0)
    running = int(s.info.get("ContainersRunning") or 0)
    ev = f"{total} containers, {running} running, {total - running} not running"
    if total == running:
        return passed(ev)
    return info(ev + ": remove the stopped ones no longer needed")
