#!/usr/bin/env bash
# Install the Debian packages the integration tests need, only those missing.
# `apt-get update` runs once, and only when something has to be installed.
set -euo pipefail

# "what must exist" -> "the package that provides it". Commands are checked on PATH (a tool installed
# another way, e.g. npm bundled with a nodejs build, counts), paths and packages are checked as such.
NEEDS=(
    "cmd:dockerd=docker.io"
    "cmd:docker=docker.io"
    "cmd:docker-registry=docker-registry"
    "cmd:skopeo=skopeo"
    "cmd:debootstrap=debootstrap"
    "cmd:go=golang-go"
    "cmd:rpm=rpm"
    "cmd:rpmbuild=rpm"
    "cmd:npm=npm"
    "path:/usr/share/gocode/src/golang.org/x/text=golang-golang-x-text-dev"
    "pkg:python3-rpm=python3-rpm"
    "pkg:python3-apt=python3-apt"
    "pkg:db-util=db-util"
    "path:/usr/share/gocode/src/golang.org/x/mod=golang-golang-x-mod-dev"
    "cmd:php=php-cli"
    "pkg:php-composer-semver=php-composer-semver"
    "cmd:ruby=ruby"
    "cmd:java=default-jre-headless"
    "cmd:chromium=chromium"
    "cmd:auditd=auditd"
    "cmd:auditctl=auditd"
)

missing=()
for need in "${NEEDS[@]}"; do
    what="${need%%=*}"
    pkg="${need#*=}"
    kind="${what%%:*}"
    name="${what#*:}"
    case "$kind" in
        cmd) command -v "$name" >/dev/null 2>&1 && continue ;;
        path) [[ -e "$name" ]] && continue ;;
        pkg) [[ "$(dpkg-query -W -f '${db:Status-Abbrev}' "$name" 2>/dev/null)" == ii* ]] && continue ;;
    esac
    [[ " ${missing[*]:-} " == *" $pkg "* ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
    exit 0
fi
echo "ensure-apt: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
