"""Build the real images the integration tests scan, and record the truth about their packages.

Every image is built by a real Docker Engine (``DOCKER_HOST``) from inputs made on the host with the
ecosystem's own tools, then pushed to the test registry:

============== ==================================================================================
bookworm       ``docker import`` of a debootstrap'd Debian 12 minbase (cached tarball)
bookworm-py    + old PyPI packages installed by ``pip install --no-deps --target`` on the host
bookworm-npm   + an npm project installed by ``npm install`` on the host
bookworm-go    + a Go binary built on the host (stdlib, a vendored golang.org/x/text, a local replace)
whiteout       bookworm-py, then ``RUN rm -rf`` of one dist-info and ``RUN dpkg --purge tzdata``
distroless     FROM scratch: distroless os-release and ``var/lib/dpkg/status.d/`` stanzas from bookworm
alpine         FROM scratch: alpine os-release and a real ``lib/apk/db/installed``
ubi            FROM scratch: UBI 9 os-release and an rpm sqlite database written by rpm itself
============== ==================================================================================

The truth is never what a scanner says: it is ``dpkg-query`` run inside the image, ``pip list`` and
``npm ls`` on the installed folders, ``go version -m`` on the binary, ``rpm -qa`` on the database.
Slow inputs (the debootstrap tarball, pip and npm downloads, the Go build) live in the fixture cache
``${CG_FIXTURE_CACHE:-~/.cache/containerguard-fixtures}``, keyed by a hash of what produced them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures"
SCRIPTS = REPO_ROOT / "scripts"
TAG = "1"
LABEL = "cg.test"
"""Label on every test image, so cleanup only ever touches these."""
SCRATCH_DOCKERFILE = f"FROM scratch\nLABEL {LABEL}=1\nCOPY rootfs/ /\n"
"""Tag of every test image; local names are ``cg-test/<key>:1``."""

# Old releases with published advisories, so the same images also serve vulnerability tests.
PIP_WHEELS = ("Django==3.2.0", "requests==2.19.0", "urllib3==1.24.1", "Jinja2==2.10")
PIP_SDISTS = ("PyYAML==5.3",)  # no wheel for this Python; the sdist installs as pure Python
NPM_PACKAGES = ("lodash@4.17.4", "minimist@1.2.0", "express@4.17.0")
SITE_PACKAGES = "usr/local/lib/python3.11/dist-packages"
NPM_APP_DIR = "srv/app"
GO_BINARY = "usr/local/bin/cgdemo"
PURGED_DEB = "tzdata"
DELETED_DIST_INFO = "Jinja2-2.10.dist-info"

DISTROLESS_PACKAGES = ("base-files", "libc6", "libssl3", "zlib1g", "tzdata", "gcc-12-base", "libgcc-s1")
"""What a distroless/base-debian12 image carries (libssl3 is not in minbase, so it is skipped)."""


def cache_dir() -> Path:
    """The fixture cache folder (created)."""
    path = Path(os.environ.get("CG_FIXTURE_CACHE") or Path.home() / ".cache" / "containerguard-fixtures")
    path.mkdir(parents=True, exist_ok=True)
    return path


def normalize_pypi(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Truth:
    """The packages an image really holds, by purl type, as ``{(name, version)}``.

    ``complete`` lists the purl types whose set is exhaustive (an extra package found by a scanner is
    a bug); for the others the set is a floor. ``absent`` holds ``(type, name)`` pairs that were
    deleted in an upper layer and must not be reported.
    """

    packages: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    complete: set[str] = field(default_factory=set)
    absent: set[tuple[str, str]] = field(default_factory=set)

    def add(self, ptype: str, pairs: Iterable[tuple[str, str]], complete: bool = True) -> None:
        """Add packages of one purl type."""
        self.packages.setdefault(ptype, set()).update(pairs)
        if complete:
            self.complete.add(ptype)

    def merged(self, other: Truth) -> Truth:
        """A copy with ``other``'s packages added (a derived image's truth)."""
        out = Truth({k: set(v) for k, v in self.packages.items()}, set(self.complete), set(self.absent))
        for ptype, pairs in other.packages.items():
            out.add(ptype, pairs, ptype in other.complete)
        out.absent |= other.absent
        return out


@dataclass(frozen=True)
class BuiltImage:
    """One built image: its local Docker name, its registry reference and its truth."""

    key: str
    local: str
    ref: str
    truth: Truth
    distro_id: str
    distro_version: str


class Docker:
    """The ``docker`` CLI against ``DOCKER_HOST``."""

    def __init__(self, host: str) -> None:
        self.env = {**os.environ, "DOCKER_HOST": host}

    def run(self, *args: str, stdin: bytes | None = None, timeout: float = 600) -> str:
        """Run ``docker ARGS`` and return its stdout; raise with stderr on failure."""
        proc = subprocess.run(["docker", *args], input=stdin, capture_output=True, env=self.env,
                              timeout=timeout, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)} failed: {proc.stderr.decode(errors='replace')[-2000:]}")
        return proc.stdout.decode(errors="replace")

    def has_image(self, name: str) -> bool:
        """Whether the engine has an image called ``name``."""
        return bool(self.run("images", "-q", name).strip())

    def build(self, tag: str, context: Path) -> None:
        """``docker build --network none`` of ``context`` (its Dockerfile) as ``tag``."""
        self.run("build", "--network", "none", "-q", "-t", tag, str(context))

    def dpkg_truth(self, image: str) -> set[tuple[str, str]]:
        """Installed Debian packages, asked of dpkg inside the image."""
        out = self.run("run", "--rm", "--network", "none", image, "dpkg-query", "-W",
                       "-f", "${db:Status-Abbrev} ${Package} ${Version}\n")
        pairs = set()
        for line in out.splitlines():
            parts = line.split()
            # "ii " = wanted install, installed; config-files-only leftovers are not installed.
            if len(parts) == 3 and parts[0] == "ii":
                pairs.add((parts[1], parts[2]))
        return pairs


def _run(cmd: list[str], cwd: Path | None = None, env: Mapping[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, env={**os.environ, **(env or {})},
                          timeout=900, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.decode(errors='replace')[-3000:]}")
    return proc.stdout.decode(errors="replace")


def _cached(name: str, spec: object, make: Callable[[Path], None]) -> Path:
    """A cache folder for ``name`` keyed by ``spec``; ``make(tmp)`` fills it on a miss (atomic rename)."""
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
    final = cache_dir() / f"{name}-{digest}"
    if final.is_dir():
        return final
    tmp = Path(tempfile.mkdtemp(prefix=f"{name}.", dir=cache_dir()))
    try:
        make(tmp)
        tmp.rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


# --- host-side inputs -------------------------------------------------------------------------


def bookworm_tarball() -> Path:
    """The cached debootstrap tarball (built by scripts/bookworm-tarball.sh on a miss)."""
    return Path(_run(["bash", str(SCRIPTS / "bookworm-tarball.sh")]).strip().splitlines()[-1])


def pip_site() -> Path:
    """A folder with ``site/`` (pip --target) and ``pip-list.json`` (pip's own listing of it)."""

    def make(tmp: Path) -> None:
        site = tmp / "site"
        base = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check",
                "--no-compile", "--target", str(site)]
        _run([*base, "--only-binary=:all:", *PIP_WHEELS])
        _run([*base, *PIP_SDISTS])
        listing = _run([sys.executable, "-m", "pip", "list", "--disable-pip-version-check", "--path", str(site),
                        "--format", "json"])
        (tmp / "pip-list.json").write_text(listing)
        # pip --target drops console scripts in bin/; they are not packages and only add noise.
        shutil.rmtree(site / "bin", ignore_errors=True)

    return _cached("pip", [PIP_WHEELS, PIP_SDISTS], make)


def pip_truth(folder: Path) -> set[tuple[str, str]]:
    """``(normalised name, version)`` of what pip lists in the site folder."""
    return {(normalize_pypi(p["name"]), p["version"]) for p in json.loads((folder / "pip-list.json").read_text())}


def npm_app() -> Path:
    """A folder with ``app/`` (an npm project after ``npm install``) and ``npm-ls.json``."""

    def make(tmp: Path) -> None:
        app = tmp / "app"
        app.mkdir()
        (app / "package.json").write_text(json.dumps({"name": "cg-demo-app", "version": "1.0.0", "private": True}))
        _run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error",
              *NPM_PACKAGES], cwd=app)
        (tmp / "npm-ls.json").write_text(_run(["npm", "ls", "--all", "--json"], cwd=app))

    return _cached("npm", list(NPM_PACKAGES), make)


def npm_truth(folder: Path) -> set[tuple[str, str]]:
    """Every installed package npm's own tree lists (deduplicated)."""
    pairs: set[tuple[str, str]] = set()

    def walk(deps: Mapping[str, object]) -> None:
        for name, node in deps.items():
            if isinstance(node, dict) and "version" in node:
                pairs.add((name, str(node["version"])))
                walk(node.get("dependencies", {}))

    walk(json.loads((folder / "npm-ls.json").read_text()).get("dependencies", {}))
    return pairs


GO_MAIN = """\
package main

import (
\t"fmt"

\t"example.com/helper"
\t"golang.org/x/text/unicode/norm"
)

func main() { fmt.Println(norm.NFC.String(helper.Greeting())) }
"""
GO_MOD = """\
module example.com/cgdemo

go 1.19

require (
\texample.com/helper v1.2.3
\tgolang.org/x/text {xtext}
)

replace example.com/helper => ./helper
"""
GO_MODULES_TXT = """\
# example.com/helper v1.2.3 => ./helper
## explicit; go 1.19
example.com/helper
# golang.org/x/text {xtext}
## explicit; go 1.17
golang.org/x/text/transform
golang.org/x/text/unicode/norm
# example.com/helper => ./helper
"""
XTEXT_SRC = Path("/usr/share/gocode/src/golang.org/x/text")
XTEXT_VERSION = "v0.7.0"
"""The version Debian bookworm's golang-golang-x-text-dev packages (checked at build time)."""


def go_binary() -> Path:
    """A folder with ``cgdemo`` (built offline with Debian's Go) and ``version-m.txt``.

    No module proxy is reachable, so the real golang.org/x/text source comes from Debian's
    golang-golang-x-text-dev and is vendored with a hand-written modules.txt; the build info then
    records it exactly as a proxied module would be recorded.
    """
    if not XTEXT_SRC.is_dir():
        raise RuntimeError("golang-golang-x-text-dev is not installed (apt-get install -y golang-golang-x-text-dev)")

    def make(tmp: Path) -> None:
        src = tmp / "src"
        (src / "helper").mkdir(parents=True)
        (src / "go.mod").write_text(GO_MOD.format(xtext=XTEXT_VERSION))
        (src / "main.go").write_text(GO_MAIN)
        (src / "helper" / "go.mod").write_text("module example.com/helper\n\ngo 1.19\n")
        (src / "helper" / "helper.go").write_text(
            'package helper\n\n// Greeting is the demo message.\nfunc Greeting() string { return "he\\u0301llo" }\n')
        vendor = src / "vendor"
        for pkg in ("transform", "unicode/norm"):
            shutil.copytree(XTEXT_SRC / pkg, vendor / "golang.org/x/text" / pkg,
                            ignore=shutil.ignore_patterns("*_test.go", "testdata"))
        shutil.copytree(src / "helper", vendor / "example.com" / "helper")
        (vendor / "modules.txt").write_text(GO_MODULES_TXT.format(xtext=XTEXT_VERSION))
        env = {"GOFLAGS": "-mod=vendor", "GOPROXY": "off", "CGO_ENABLED": "0", "GOCACHE": str(tmp / "gocache"),
               "GOPATH": str(tmp / "gopath"), "GO111MODULE": "on"}
        _run(["go", "build", "-trimpath", "-o", str(tmp / "cgdemo"), "."], cwd=src, env=env)
        (tmp / "version-m.txt").write_text(_run(["go", "version", "-m", str(tmp / "cgdemo")]))
        shutil.rmtree(tmp / "gocache", ignore_errors=True)
        shutil.rmtree(tmp / "gopath", ignore_errors=True)
        shutil.rmtree(src)

    return _cached("go", [GO_MAIN, GO_MOD, GO_MODULES_TXT, XTEXT_VERSION], make)


def go_truth(folder: Path) -> set[tuple[str, str]]:
    """Modules ``go version -m`` lists with a real version (main module ``(devel)`` and modules
    replaced by a local path have none; the toolchain is reported as ``stdlib``)."""
    pairs: set[tuple[str, str]] = set()
    lines = (folder / "version-m.txt").read_text().splitlines()
    head = lines[0].split(": ", 1)[-1].strip()
    if head.startswith("go"):
        pairs.add(("stdlib", "v" + head.removeprefix("go")))
    for i, line in enumerate(lines):
        cols = line.strip().split("\t")
        if cols[0] == "dep" and len(cols) >= 3:
            replaced = i + 1 < len(lines) and lines[i + 1].strip().startswith("=>")
            if not replaced:
                pairs.add((cols[1], cols[2]))
    return pairs


RPM_PACKAGES = (
    # name, epoch, version, release, arch: real UBI 9 package versions
    ("openssl-libs", 1, "3.0.7", "16.el9_2", "x86_64"),
    ("zlib", 0, "1.2.11", "39.el9", "x86_64"),
    ("bash", 0, "5.1.8", "6.el9_1", "x86_64"),
    ("tzdata", 0, "2023c", "1.el9", "noarch"),
)


def rpm_db() -> Path:
    """A folder with ``rpm/rpmdb.sqlite`` written by rpm itself and ``rpm-qa.txt``.

    The packages are built with rpmbuild as empty payloads carrying real UBI names and versions,
    then registered with ``rpm --justdb``, so the database format is genuine rpm 4.16+ sqlite.
    """

    def make(tmp: Path) -> None:
        top = tmp / "rpmbuild"
        for sub in ("SPECS", "RPMS", "BUILD", "BUILDROOT", "SOURCES", "SRPMS"):
            (top / sub).mkdir(parents=True)
        for name, epoch, version, release, arch in RPM_PACKAGES:
            spec = top / "SPECS" / f"{name}.spec"
            spec.write_text("\n".join([
                f"Name: {name}", *( [f"Epoch: {epoch}"] if epoch else []), f"Version: {version}",
                f"Release: {release}", "Summary: containerguard test package", "License: MIT",
                f"BuildArch: {arch}", "", "%description", "Test package.", "", "%files", "",
            ]))
            _run(["rpmbuild", "--define", f"_topdir {top}", "--define", f"_target_cpu {arch}",
                  "--target", arch, "-bb", str(spec)])
        rpms = sorted(str(p) for p in (top / "RPMS").rglob("*.rpm"))
        db = tmp / "rpm"
        db.mkdir()
        _run(["rpm", "--dbpath", str(db), "--initdb"])
        _run(["rpm", "--dbpath", str(db), "-i", "--justdb", "--nodeps", "--noscripts", "--ignorearch",
              "--ignoreos", "--nosignature", "--nodigest", *rpms])
        if not (db / "rpmdb.sqlite").exists():
            raise RuntimeError(f"rpm did not write an sqlite database: {sorted(os.listdir(db))}")
        qa = _run(["rpm", "--dbpath", str(db), "-qa", "--qf", "%{NAME} %{EPOCHNUM} %{VERSION} %{RELEASE}\\n"])
        (tmp / "rpm-qa.txt").write_text(qa)
        shutil.rmtree(top)
        for extra in db.iterdir():
            if extra.name not in ("rpmdb.sqlite",):
                extra.unlink()

    return _cached("rpm", [list(p) for p in RPM_PACKAGES], make)


def rpm_truth(folder: Path) -> set[tuple[str, str]]:
    """``(name, [epoch:]version-release)`` as rpm itself lists them."""
    pairs = set()
    for line in (folder / "rpm-qa.txt").read_text().splitlines():
        name, epoch, version, release = line.split()
        full = f"{version}-{release}"
        pairs.add((name, f"{epoch}:{full}" if epoch != "0" else full))
    return pairs


def apk_truth(installed: Path) -> set[tuple[str, str]]:
    """``(P, V)`` pairs of an apk installed database."""
    pairs = set()
    for stanza in installed.read_text().split("\n\n"):
        fields = dict(line.split(":", 1) for line in stanza.splitlines() if len(line) > 2 and line[1] == ":")
        if "P" in fields and "V" in fields:
            pairs.add((fields["P"], fields["V"]))
    return pairs


def dpkg_stanzas(status: str, names: Iterable[str]) -> dict[str, str]:
    """The status-file stanzas of ``names`` (as distroless splits them into status.d/)."""
    wanted = set(names)
    out = {}
    for stanza in status.split("\n\n"):
        m = re.search(r"^Package: (\S+)$", stanza, re.M)
        if m and m.group(1) in wanted:
            out[m.group(1)] = stanza.strip() + "\n"
    return out


# --- the images -------------------------------------------------------------------------------


class ImageFactory:
    """Builds each test image at most once per session and pushes it to ``registry`` (HOST:PORT)."""

    def __init__(self, docker: Docker, registry: str, workdir: Path) -> None:
        self.docker = docker
        self.registry = registry
        self.workdir = workdir
        self._built: dict[str, BuiltImage] = {}

    def get(self, key: str) -> BuiltImage:
        """The image ``key`` (one of the table in this module's docstring), built on first use."""
        if key not in self._built:
            builder = getattr(self, "_" + key.replace("-", "_"))
            self._built[key] = builder()
        return self._built[key]

    def _publish(self, key: str, truth: Truth, distro: tuple[str, str]) -> BuiltImage:
        local = f"cg-test/{key}:{TAG}"
        ref = f"{self.registry}/cg-test/{key}:{TAG}"
        self.docker.run("tag", local, ref)
        self.docker.run("push", "-q", ref)
        return BuiltImage(key, local, ref, truth, distro[0], distro[1])

    def _context(self, key: str, dockerfile: str) -> Path:
        ctx = self.workdir / f"ctx-{key}"
        if ctx.exists():
            shutil.rmtree(ctx)
        ctx.mkdir(parents=True)
        (ctx / "Dockerfile").write_text(dockerfile)
        return ctx

    def _bookworm(self) -> BuiltImage:
        local = f"cg-test/bookworm:{TAG}"
        tarball = bookworm_tarball()
        stat = tarball.stat()
        stamp = f"{stat.st_size}-{int(stat.st_mtime)}"
        # Re-import only when the tarball changed: an import makes a new image id every time, and
        # keeping the id lets docker build's cache reuse every derived image too.
        current = ""
        if self.docker.has_image(local):
            current = self.docker.run("image", "inspect", "--format",
                                      '{{index .Config.Labels "cg.tarball"}}', local).strip()
        if current != stamp:
            self.docker.run("import", "--change", 'CMD ["bash"]', "--change", f"LABEL {LABEL}=1 cg.tarball={stamp}",
                            str(tarball), local)
        truth = Truth()
        truth.add("deb", self.docker.dpkg_truth(local))
        return self._publish("bookworm", truth, ("debian", "12"))

    def prune(self) -> None:
        """Drop this session's registry tags (the port changes every session) and dangling test images
        (older builds of the same tags); other images are left alone."""
        refs = [image.ref for image in self._built.values()]
        if refs:
            self.docker.run("rmi", *refs)  # only untags: the cg-test/* tags keep the images
        self.docker.run("image", "prune", "-f", "--filter", f"label={LABEL}=1")

    def _bookworm_py(self) -> BuiltImage:
        base = self.get("bookworm")
        inputs = pip_site()
        ctx = self._context("bookworm-py", f"FROM {base.local}\nCOPY site/ /{SITE_PACKAGES}/\n")
        shutil.copytree(inputs / "site", ctx / "site")
        self.docker.build(f"cg-test/bookworm-py:{TAG}", ctx)
        truth = base.truth.merged(Truth())
        truth.add("pypi", pip_truth(inputs))
        return self._publish("bookworm-py", truth, ("debian", "12"))

    def _bookworm_npm(self) -> BuiltImage:
        base = self.get("bookworm")
        inputs = npm_app()
        ctx = self._context("bookworm-npm", f"FROM {base.local}\nCOPY app/ /{NPM_APP_DIR}/\n")
        shutil.copytree(inputs / "app", ctx / "app", symlinks=True)
        self.docker.build(f"cg-test/bookworm-npm:{TAG}", ctx)
        truth = base.truth.merged(Truth())
        truth.add("npm", npm_truth(inputs))
        return self._publish("bookworm-npm", truth, ("debian", "12"))

    def _bookworm_go(self) -> BuiltImage:
        base = self.get("bookworm")
        inputs = go_binary()
        ctx = self._context("bookworm-go", f"FROM {base.local}\nCOPY cgdemo /{GO_BINARY}\n")
        shutil.copy2(inputs / "cgdemo", ctx / "cgdemo")
        self.docker.build(f"cg-test/bookworm-go:{TAG}", ctx)
        truth = base.truth.merged(Truth())
        # A floor, not the full set: whether a scanner also names the local replace is its choice.
        truth.add("golang", go_truth(inputs), complete=False)
        return self._publish("bookworm-go", truth, ("debian", "12"))

    def _whiteout(self) -> BuiltImage:
        base = self.get("bookworm-py")
        dockerfile = (
            f"FROM {base.local}\n"
            f"RUN rm -rf /{SITE_PACKAGES}/{DELETED_DIST_INFO}\n"
            f"RUN dpkg --purge --force-depends {PURGED_DEB}\n"
        )
        self.docker.build(f"cg-test/whiteout:{TAG}", self._context("whiteout", dockerfile))
        local = f"cg-test/whiteout:{TAG}"
        deleted = DELETED_DIST_INFO.split("-")[0]
        truth = Truth()
        truth.add("deb", self.docker.dpkg_truth(local))
        truth.add("pypi", {p for p in base.truth.packages["pypi"] if p[0] != normalize_pypi(deleted)})
        truth.absent |= {("deb", PURGED_DEB), ("pypi", normalize_pypi(deleted))}
        if any(name == PURGED_DEB for name, _ in truth.packages["deb"]):
            raise RuntimeError(f"dpkg --purge {PURGED_DEB} left it installed")
        return self._publish("whiteout", truth, ("debian", "12"))

    def _distroless(self) -> BuiltImage:
        base = self.get("bookworm")
        status = self.docker.run("run", "--rm", "--network", "none", base.local, "cat", "/var/lib/dpkg/status")
        stanzas = dpkg_stanzas(status, DISTROLESS_PACKAGES)
        ctx = self._context("distroless", SCRATCH_DOCKERFILE)
        rootfs = ctx / "rootfs"
        (rootfs / "etc").mkdir(parents=True)
        shutil.copy2(FIXTURES / "os_release" / "distroless-debian12.os-release", rootfs / "etc" / "os-release")
        # base-files ships it in real distroless images too (Trivy detects Debian only from this file).
        (rootfs / "etc" / "debian_version").write_text(
            self.docker.run("run", "--rm", "--network", "none", base.local, "cat", "/etc/debian_version"))
        statusd = rootfs / "var/lib/dpkg/status.d"
        statusd.mkdir(parents=True)
        for name, stanza in stanzas.items():
            (statusd / name).write_text(stanza)
        self.docker.build(f"cg-test/distroless:{TAG}", ctx)
        truth = Truth()
        truth.add("deb", {(n, v) for n, v in base.truth.packages["deb"] if n in stanzas})
        return self._publish("distroless", truth, ("debian", "12"))

    def _alpine(self) -> BuiltImage:
        installed = FIXTURES / "apk" / "installed"
        ctx = self._context("alpine", SCRATCH_DOCKERFILE)
        rootfs = ctx / "rootfs"
        (rootfs / "etc").mkdir(parents=True)
        (rootfs / "lib/apk/db").mkdir(parents=True)
        shutil.copy2(FIXTURES / "os_release" / "alpine-3.19.os-release", rootfs / "etc" / "os-release")
        shutil.copy2(FIXTURES / "os_release" / "alpine-3.19.alpine-release", rootfs / "etc" / "alpine-release")
        shutil.copy2(installed, rootfs / "lib/apk/db/installed")
        self.docker.build(f"cg-test/alpine:{TAG}", ctx)
        truth = Truth()
        truth.add("apk", apk_truth(installed))
        return self._publish("alpine", truth, ("alpine", "3.19.1"))

    def _ubi(self) -> BuiltImage:
        inputs = rpm_db()
        ctx = self._context("ubi", SCRATCH_DOCKERFILE)
        rootfs = ctx / "rootfs"
        (rootfs / "etc").mkdir(parents=True)
        shutil.copy2(FIXTURES / "os_release" / "ubi-9.os-release", rootfs / "etc" / "os-release")
        shutil.copy2(FIXTURES / "os_release" / "ubi-9.redhat-release", rootfs / "etc" / "redhat-release")
        shutil.copytree(inputs / "rpm", rootfs / "var/lib/rpm")
        self.docker.build(f"cg-test/ubi:{TAG}", ctx)
        truth = Truth()
        truth.add("rpm", rpm_truth(inputs))
        return self._publish("ubi", truth, ("rhel", "9.3"))


ALL_IMAGES = ("bookworm", "bookworm-py", "bookworm-npm", "bookworm-go", "whiteout", "distroless", "alpine", "ubi")
