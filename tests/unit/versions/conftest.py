"""Fixtures for the version-scheme tests: real versions from ../shared/feeds and the ecosystems'
own implementations ("oracles"), each run once as a long-lived process answering one comparison
per line, so thousands of pairs cost one process start. An oracle that cannot run here skips
only the tests that need it."""

from __future__ import annotations

import glob
import hashlib
import itertools
import json
import os
import random
import shutil
import subprocess
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest
from hypothesis.strategies import SearchStrategy

from needs import missing

ORACLES = Path(__file__).parent / "oracles"
FEEDS = Path(__file__).resolve().parents[4] / "shared" / "feeds"
NODE_SEMVER = "7.8.6"
SYSTEM_PYTHON = "/usr/bin/python3"
COMPOSER_AUTOLOAD = "/usr/share/php/Composer/Semver/autoload.php"
GO_X_MOD = "/usr/share/gocode/src/golang.org/x/mod/semver"


def fixture_cache() -> Path:
    """Where downloaded or built oracle parts are kept between runs (``make`` sets CG_FIXTURE_CACHE)."""
    default = Path.home() / ".cache" / "containerguard-fixtures"
    return Path(os.environ.get("CG_FIXTURE_CACHE") or default)


@cache
def feed_versions(folder: str) -> tuple[str, ...]:
    """Every version named in one feed folder's OSV records (non-GIT range events, ``versions`` lists), sorted."""
    found: set[str] = set()
    for path in glob.glob(str(FEEDS / folder / "*.json")):
        with open(path, encoding="utf-8") as fh:
            record = json.load(fh)
        for affected in record.get("affected", []):
            for rng in affected.get("ranges", []):
                if rng.get("type") == "GIT":
                    continue  # commit hashes, not versions
                for event in rng.get("events", []):
                    found.update(v for v in event.values() if isinstance(v, str))
            found.update(affected.get("versions", []))
    return tuple(sorted(found))


class Oracle:
    """A running reference implementation: ``oracle(a, b)`` is -1, 0, 1, or None when it rejects a version."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
            env=env,
        )

    def __call__(self, a: str, b: str) -> int | None:
        assert "\t" not in a + b and "\n" not in a + b
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{a}\t{b}\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if not answer:
            raise RuntimeError(f"oracle {self.argv[0]} died on {a!r} vs {b!r}")
        return None if answer == "E" else int(answer)

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _start(argv: list[str], probe: tuple[str, str], env: dict[str, str] | None = None) -> Iterator[Oracle]:
    oracle = Oracle(argv, env)
    try:
        oracle(*probe)
    except (RuntimeError, BrokenPipeError) as exc:
        oracle.close()
        missing(f"oracle {argv} does not run here: {exc}")
    yield oracle
    oracle.close()


def _system_python_has(module: str) -> bool:
    if not os.path.exists(SYSTEM_PYTHON):
        return False
    return subprocess.run([SYSTEM_PYTHON, "-c", f"import {module}"], capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def apt_pkg_oracle() -> Iterator[Oracle]:
    """libapt's Debian version compare (python3-apt, system python)."""
    if not _system_python_has("apt_pkg"):
        missing("python3-apt is not installed for /usr/bin/python3")
    yield from _start([SYSTEM_PYTHON, str(ORACLES / "apt_pkg_compare.py")], ("1.0", "1.0"))


@pytest.fixture(scope="session")
def rpm_oracle() -> Iterator[Oracle]:
    """python3-rpm's ``labelCompare``."""
    if not _system_python_has("rpm"):
        missing("python3-rpm is not installed for /usr/bin/python3")
    yield from _start([SYSTEM_PYTHON, str(ORACLES / "rpm_compare.py")], ("1.0-1", "1.0-1"))


@pytest.fixture(scope="session")
def node_semver_oracle() -> Iterator[Oracle]:
    """node-semver's ``compare``; installed with npm into the fixture cache on first use."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        missing("node/npm not installed")
    prefix = fixture_cache() / f"node-semver-{NODE_SEMVER}"
    module = prefix / "node_modules" / "semver"
    if not (module / "package.json").exists():
        prefix.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), f"semver@{NODE_SEMVER}"],
            capture_output=True,
            timeout=300,
        )
        if done.returncode != 0:
            missing(f"npm install semver@{NODE_SEMVER} failed: {done.stderr[-300:]!r}")
    yield from _start([node, str(ORACLES / "semver_compare.js"), str(module)], ("1.0.0", "1.0.0"))


def maven_artifact_jar() -> str | None:
    """maven-artifact 3.9 from CG_MAVEN_ARTIFACT_JAR or a local Maven repository."""
    explicit = os.environ.get("CG_MAVEN_ARTIFACT_JAR")
    if explicit:
        return explicit
    repo = Path.home() / ".m2" / "repository" / "org" / "apache" / "maven" / "maven-artifact"
    jars = sorted(repo.glob("3.9.*/maven-artifact-3.9.*.jar"))
    return str(jars[-1]) if jars else None


@pytest.fixture(scope="session")
def maven_oracle() -> Iterator[Oracle]:
    """maven-artifact's ``ComparableVersion`` (Java)."""
    java, jar = shutil.which("java"), maven_artifact_jar()
    if not java or not jar:
        missing("java or maven-artifact 3.9 jar not available")
    yield from _start([java, "-cp", jar, str(ORACLES / "MavenCompare.java")], ("1.0", "1.0"))


@pytest.fixture(scope="session")
def go_oracle() -> Iterator[Oracle]:
    """golang.org/x/mod/semver (Debian's golang-golang-x-mod-dev), built once into the fixture cache."""
    go = shutil.which("go")
    if not go or not os.path.isdir(GO_X_MOD):
        missing("go or golang-golang-x-mod-dev not installed")
    source = ORACLES / "gocompare.go"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    binary = fixture_cache() / f"gocompare-{digest}"
    if not binary.exists():
        binary.parent.mkdir(parents=True, exist_ok=True)
        env = dict(
            os.environ,
            GO111MODULE="off",
            GOPATH="/usr/share/gocode",
            GOFLAGS="",
            GOCACHE=str(fixture_cache() / "gocache"),
        )
        done = subprocess.run([go, "build", "-o", str(binary), str(source)], capture_output=True, env=env, timeout=300)
        if done.returncode != 0:
            missing(f"cannot build the Go oracle: {done.stderr[-300:]!r}")
    yield from _start([str(binary)], ("v1.0.0", "v1.0.0"))


@pytest.fixture(scope="session")
def gem_oracle() -> Iterator[Oracle]:
    """RubyGems' ``Gem::Version#<=>``."""
    ruby = shutil.which("ruby")
    if not ruby:
        missing("ruby not installed")
    yield from _start([ruby, str(ORACLES / "gem_compare.rb")], ("1.0", "1.0"))


@pytest.fixture(scope="session")
def composer_oracle() -> Iterator[Oracle]:
    """composer/semver's normalize (Debian's php-composer-semver) plus PHP's ``version_compare``."""
    php = shutil.which("php")
    if not php or not os.path.exists(COMPOSER_AUTOLOAD):
        missing("php-cli or php-composer-semver not installed")
    yield from _start([php, str(ORACLES / "composer_compare.php"), COMPOSER_AUTOLOAD], ("1.0", "1.0"))


def sign(value: int) -> int:
    """-1, 0 or 1."""
    return (value > 0) - (value < 0)


Compare = Callable[[str, str], int]


def disagreements(
    compare: Compare,
    oracle: Oracle,
    pairs: list[tuple[str, str]],
    to_oracle: Callable[[str], str] = lambda v: v,
) -> list[tuple[str, str, int | None, int | None]]:
    """Pairs where our sign (None when we raise VersionError) differs from the oracle's."""
    from containerguard.errors import VersionError

    out = []
    for a, b in pairs:
        want = oracle(to_oracle(a), to_oracle(b))
        try:
            got: int | None = sign(compare(a, b))
        except VersionError:
            got = None
        if got != want:
            out.append((a, b, got, want))
    return out


def feed_pairs(versions: tuple[str, ...], count: int, seed: int = 0) -> list[tuple[str, str]]:
    """Neighbours in sorted order (the close calls), each version with itself, and random pairs."""

    rng = random.Random(seed)
    pairs = list(itertools.pairwise(versions)) + [(v, v) for v in versions]
    pairs += [(rng.choice(versions), rng.choice(versions)) for _ in range(count)]
    return pairs


class Pieces:
    """Realistic versions glued from pieces: one of ``first``, then up to ``max_tokens`` of ``rest``.

    ``strategy()`` is the hypothesis form (shrinks to a minimal failing case); ``draw(rng)`` the fast
    seeded form for thousands of pairs (hypothesis spends about a millisecond per generated value)."""

    def __init__(self, first: list[str], rest: list[str], max_tokens: int = 6) -> None:
        self.first, self.rest, self.max_tokens = first, rest, max_tokens

    def strategy(self) -> SearchStrategy[str]:
        from hypothesis import strategies as st

        return st.builds(
            lambda head, tail: head + "".join(tail),
            st.sampled_from(self.first),
            st.lists(st.sampled_from(self.rest), max_size=self.max_tokens) if self.rest else st.just([]),
        )

    def draw(self, rng: random.Random) -> str:
        count = rng.randint(0, self.max_tokens) if self.rest else 0
        return rng.choice(self.first) + "".join(rng.choice(self.rest) for _ in range(count))


class Glued:
    """Several :class:`Pieces` one after the other (e.g. upstream version, then revision)."""

    def __init__(self, *parts: Pieces) -> None:
        self.parts = parts

    def strategy(self) -> SearchStrategy[str]:
        from hypothesis import strategies as st

        return st.tuples(*(p.strategy() for p in self.parts)).map("".join)

    def draw(self, rng: random.Random) -> str:
        return "".join(p.draw(rng) for p in self.parts)


def random_pairs(
    gen: Pieces | Glued, count: int, keep: Callable[[str], bool] = lambda v: True, seed: int = 0
) -> list[tuple[str, str]]:
    """``count`` seeded pairs of generated versions that ``keep`` accepts; a third share a prefix."""
    rng = random.Random(seed)
    pool = [v for v in (gen.draw(rng) for _ in range(count * 2)) if keep(v)]
    pairs = [(rng.choice(pool), rng.choice(pool)) for _ in range(count)]
    # Versions differing only at the end are where comparators go wrong: pair each with a sibling.
    pairs += [(v, v + gen.draw(rng)[-2:]) for v in pool[: count // 3]]
    return [(a, b) for a, b in pairs if keep(a) and keep(b)]
