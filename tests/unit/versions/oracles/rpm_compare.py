"""Oracle for RPM versions: python3-rpm's labelCompare on (epoch, version, release) tuples.

Reads "a<TAB>b" lines of [epoch:]version[-release], answers -1, 0 or 1 per line. A missing epoch
is "0" (as rpm's EVR parser); a missing release is None."""

import sys

import rpm  # type: ignore[import-not-found]  # system python3-rpm


def evr(text: str) -> tuple[str, str, str | None]:
    epoch, version = "0", text
    head, colon, rest = text.partition(":")
    if colon and head.isdigit():
        epoch, version = head, rest
    elif colon and not head:
        epoch, version = "0", rest
    version, hyphen, release = version.rpartition("-")
    if not hyphen:
        return epoch, release, None
    return epoch, version, release


for line in sys.stdin:
    a, b = line.rstrip("\n").split("\t")
    sys.stdout.write(f"{rpm.labelCompare(evr(a), evr(b))}\n")
    sys.stdout.flush()
