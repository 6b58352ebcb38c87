"""Oracle for Debian versions: libapt's version_compare, run by the system python (python3-apt).

Reads "a<TAB>b" lines, answers -1, 0 or 1 per line."""

import sys

import apt_pkg  # type: ignore[import-not-found]  # system python3-apt

apt_pkg.init_system()
for line in sys.stdin:
    a, b = line.rstrip("\n").split("\t")
    r = apt_pkg.version_compare(a, b)
    sys.stdout.write(f"{(r > 0) - (r < 0)}\n")
    sys.stdout.flush()
