#!/usr/bin/env bash
# Print the path of a cached Debian bookworm minbase rootfs tarball, building it first if missing.
#
# debootstrap takes about 3 minutes, so the tarball lives in the fixture cache
# (${CG_FIXTURE_CACHE:-$HOME/.cache/containerguard-fixtures}) and is reused by later runs and CI.
# The mirror is the one apt on this machine uses, since it is the only Debian mirror reachable.
set -euo pipefail

CACHE="${CG_FIXTURE_CACHE:-$HOME/.cache/containerguard-fixtures}"
OUT="$CACHE/bookworm-minbase.tar"

if [[ -s "$OUT" ]]; then
    echo "$OUT"
    exit 0
fi

mirror() {
    # deb822 sources (Debian 12 default) first, then one-line sources.list entries.
    local uri
    uri="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | awk '/^URIs:/ {print $2}' | grep -v -- '-security' | head -1 || true)"
    if [[ -z "$uri" ]]; then
        uri="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
            | awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' \
            | grep -v -- '-security' | head -1 || true)"
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

command -v debootstrap >/dev/null || { echo "debootstrap missing (apt-get install -y debootstrap)" >&2; exit 1; }
mkdir -p "$CACHE"
WORK="$(mktemp -d "$CACHE/debootstrap.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
debootstrap --variant=minbase bookworm "$WORK/rootfs" "$(mirror)" >"$WORK/log" 2>&1 || {
    tail -30 "$WORK/log" >&2
    exit 1
}
# Drop apt's downloaded .debs: they are not part of the image and would double the tarball.
rm -rf "$WORK/rootfs/var/cache/apt/archives/"*.deb
tar --numeric-owner -C "$WORK/rootfs" -cf "$WORK/out.tar" .
mv "$WORK/out.tar" "$OUT"
echo "$OUT"
