"""rpm collector: real databases in all three formats against rpm's own answers."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

from containerguard.collectors.base import FileInfo
from containerguard.collectors.rpm import RpmCollector
from containerguard.collectors.rpmdb import RpmDbError
from containerguard.collectors.rpmdb.header import parse_header, parse_source_rpm
from containerguard.errors import CollectError
from containerguard.models.sbom import Collected, Location

FIXTURES = Path(__file__).parents[2] / "fixtures" / "rpm"
EXPECTED: list[dict[str, Any]] = json.loads((FIXTURES / "expected.json").read_text())
DATABASES = [
    ("sqlite/rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite"),
    ("bdb/Packages", "var/lib/rpm/Packages"),
    ("bdb-inline/Packages", "var/lib/rpm/Packages"),
    ("bdb-be/Packages", "usr/lib/sysimage/rpm/Packages"),
    ("ndb/Packages.db", "usr/lib/sysimage/rpm/Packages.db"),
]


def _collect(path: str, data: bytes) -> Collected:
    info = FileInfo(path=path, size=len(data), mode=0o100644, layer_digest="sha256:l1")
    return RpmCollector().collect(info, data)


def _as_rows(result: Collected) -> list[dict[str, Any]]:
    rows = []
    for p in result.packages:
        assert p.type == "rpm" and p.purl == ""
        rows.append({"name": p.name, "epoch": p.epoch, "version": p.version, "release": p.release,
                     "arch": p.arch, "source": (p.source_name, p.source_version),
                     "license": " ".join(p.licenses)})
    return sorted(rows, key=lambda r: r["name"])


def _expected_rows(expected: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(({"name": e["name"], "epoch": e["epoch"], "version": e["version"], "release": e["release"],
                    "arch": e["arch"], "source": parse_source_rpm(e["sourcerpm"]), "license": e["license"]}
                   for e in expected), key=lambda r: r["name"])


@pytest.mark.parametrize(("fixture", "path"), DATABASES)
def test_databases_match_committed_rpm_output(fixture: str, path: str) -> None:
    result = _collect(path, (FIXTURES / fixture).read_bytes())
    assert result.skipped == ()
    assert _as_rows(result) == _expected_rows(EXPECTED)
    assert all(p.locations == (Location("/" + path, "sha256:l1"),) for p in result.packages)


def test_fields_of_one_package() -> None:
    result = _collect("var/lib/rpm/rpmdb.sqlite", (FIXTURES / "sqlite/rpmdb.sqlite").read_bytes())
    vim = next(p for p in result.packages if p.name == "vim-minimal")
    assert (vim.epoch, vim.version, vim.release, vim.arch) == (2, "8.2.2637", "20.el9_1", "x86_64")
    assert (vim.source_name, vim.source_version) == ("vim", "8.2.2637-20.el9_1")
    assert vim.licenses == ("Vim AND MIT",)
    assert vim.full_version == "2:8.2.2637-20.el9_1"
    tz = next(p for p in result.packages if p.name == "tzdata")
    assert (tz.epoch, tz.arch, tz.full_version) == (None, "noarch", "2024a-1.el9")


def _rpm_query(dbpath: Path, backend: str) -> list[dict[str, Any]]:
    qf = "%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{SOURCERPM}|%{LICENSE}\\n"
    out = subprocess.run(["rpm", "--dbpath", str(dbpath), "--define", f"_db_backend {backend}", "-qa",
                          "--qf", qf], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        name, epoch, version, release, arch, srpm, license_ = line.split("|")
        rows.append({"name": name, "epoch": None if epoch == "(none)" else int(epoch), "version": version,
                     "release": release, "arch": arch, "sourcerpm": srpm, "license": license_})
    return rows


@pytest.mark.skipif(shutil.which("rpm") is None, reason="needs rpm (apt-get install rpm)")
@pytest.mark.parametrize(("fixture", "backend"), [("sqlite/rpmdb.sqlite", "sqlite"), ("bdb/Packages", "bdb_ro"),
                                                  ("bdb-inline/Packages", "bdb_ro"),
                                                  ("bdb-be/Packages", "bdb_ro")])
def test_matches_rpm_itself(tmp_path: Path, fixture: str, backend: str) -> None:
    # rpm writes lock and WAL files beside the database: give it a copy.
    shutil.copy(FIXTURES / fixture, tmp_path / Path(fixture).name)
    oracle = _rpm_query(tmp_path, backend)
    assert len(oracle) == len(EXPECTED)
    result = _collect("var/lib/rpm/" + Path(fixture).name, (FIXTURES / fixture).read_bytes())
    assert _as_rows(result) == _expected_rows(oracle)


@pytest.mark.parametrize(("path", "wanted"), [
    ("var/lib/rpm/Packages", True), ("var/lib/rpm/Packages.db", True), ("var/lib/rpm/rpmdb.sqlite", True),
    ("usr/lib/sysimage/rpm/Packages", True), ("usr/lib/sysimage/rpm/Packages.db", True),
    ("usr/lib/sysimage/rpm/rpmdb.sqlite", True),
    ("var/lib/rpm/rpmdb.sqlite-wal", False), ("var/lib/rpm/Name", False), ("var/lib/rpm/Index.db", False),
    ("opt/var/lib/rpm/Packages", False),
])
def test_required(path: str, wanted: bool) -> None:
    assert RpmCollector().required(FileInfo(path=path, size=1, mode=0o100644)) is wanted


@pytest.mark.parametrize(("srpm", "expected"), [
    ("openssl-3.0.7-27.el9.src.rpm", ("openssl", "3.0.7-27.el9")),
    ("python3.11-pip-22.3.1-4.el9.src.rpm", ("python3.11-pip", "22.3.1-4.el9")),
    ("kernel-5.14.0-362.8.1.el9_3.nosrc.rpm", ("kernel", "5.14.0-362.8.1.el9_3")),
    ("", ("", "")), ("weird.src.rpm", ("", "")), ("foo-1-2.rpm", ("", "")),
])
def test_parse_source_rpm(srpm: str, expected: tuple[str, str]) -> None:
    assert parse_source_rpm(srpm) == expected


def _header(entries: list[tuple[int, int, bytes]]) -> bytes:
    """A v4-style header blob with (tag, type, value) entries, aligned like rpm does."""
    index, data = b"", b""
    for tag, kind, value in entries:
        if kind == 4:
            data += b"\x00" * (-len(data) % 4)
        index += struct.pack(">iIiI", tag, kind, len(data), 1)
        data += value
    return struct.pack(">II", len(entries), len(data)) + index + data


def test_header_details() -> None:
    blob = _header([(1000, 6, b"pkg\x00"), (1001, 6, b"1.0\x00"), (1002, 6, b"1\x00"),
                    (1003, 4, struct.pack(">i", 3)), (1014, 6, b"(none)\x00"), (1044, 6, b"(none)\x00"),
                    (1001, 6, b"1.1\x00")])  # a later ("dribble") entry overrides the region's
    header = parse_header(blob)
    assert (header.name, header.version, header.release, header.epoch) == ("pkg", "1.1", "1", 3)
    assert (header.license, header.sourcerpm, header.arch) == ("", "", "")


def test_gpg_pubkey_pseudo_packages_are_dropped(tmp_path: Path) -> None:
    con = sqlite3.connect(tmp_path / "rpmdb.sqlite")
    con.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
    con.execute("INSERT INTO Packages (blob) VALUES (?)",
                (_header([(1000, 6, b"gpg-pubkey\x00"), (1001, 6, b"fd431d51\x00")]),))
    con.execute("INSERT INTO Packages (blob) VALUES (?)", (_header([(1000, 6, b"a\x00"), (1001, 6, b"1\x00")]),))
    con.commit()
    con.close()
    result = _collect("var/lib/rpm/rpmdb.sqlite", (tmp_path / "rpmdb.sqlite").read_bytes())
    assert [p.name for p in result.packages] == ["a"]


@pytest.mark.parametrize("blob", [
    b"", b"\x00\x00\x00\x01", struct.pack(">II", 0, 0), struct.pack(">II", 70000, 0),
    struct.pack(">II", 1, 100) + b"\x00" * 16,  # truncated data
    _header([(1000, 6, b"no-terminator")]),
    _header([(1001, 6, b"1.0\x00")]),  # no NAME
    struct.pack(">II", 1, 4) + struct.pack(">iIiI", 1000, 6, 99, 1) + b"abc\x00",  # offset outside
])
def test_bad_headers_raise_rpmdb_error(blob: bytes) -> None:
    with pytest.raises(RpmDbError):
        parse_header(blob)


@pytest.mark.parametrize("content", [b"", b"garbage" * 100, b"SQLite format 3\x00" + b"\x00" * 200,
                                     b"RpmP" + b"\x00" * 5000, b"\x00" * 12 + struct.pack("<I", 0x061561)])
def test_not_a_database_raises_collect_error(content: bytes) -> None:
    with pytest.raises(CollectError):
        _collect("var/lib/rpm/Packages", content)


def test_sqlite_view_instead_of_table_is_refused(tmp_path: Path) -> None:
    con = sqlite3.connect(tmp_path / "db")
    con.execute("CREATE VIEW Packages AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) "
                "SELECT x AS hnum, randomblob(10) AS blob FROM n")
    con.commit()
    con.close()
    with pytest.raises(CollectError, match="no Packages table"):
        _collect("var/lib/rpm/rpmdb.sqlite", (tmp_path / "db").read_bytes())


def test_ndb_damaged_blob_is_reported_and_others_kept() -> None:
    data = bytearray((FIXTURES / "ndb/Packages.db").read_bytes())
    data[4096 + 200] ^= 0xFF  # inside the first blob: its adler32 no longer matches
    result = _collect("usr/lib/sysimage/rpm/Packages.db", bytes(data))
    assert len(result.packages) == len(EXPECTED) - 1
    assert "checksum mismatch" in result.skipped[0].reason


def test_bdb_overflow_loop_is_reported_not_followed() -> None:
    data = bytearray((FIXTURES / "bdb/Packages").read_bytes())
    pagesize = 4096
    for pgno in range(len(data) // pagesize):
        base = pgno * pagesize
        if data[base + 25] == 7:  # first overflow page: point its chain back at itself
            struct.pack_into("<I", data, base + 16, pgno)
            struct.pack_into("<H", data, base + 22, 10)  # so the chain must go on
            break
    result = _collect("var/lib/rpm/Packages", bytes(data))
    assert len(result.packages) == len(EXPECTED) - 1
    assert "broken overflow chain" in result.skipped[0].reason


@pytest.mark.parametrize("fixture", [f for f, _ in DATABASES])
def test_truncated_databases_never_crash(fixture: str) -> None:
    data = (FIXTURES / fixture).read_bytes()
    for cut in range(0, len(data), max(1, len(data) // 37)):
        try:
            result = _collect("var/lib/rpm/Packages", data[:cut])
        except CollectError:
            continue
        assert len(result.packages) <= len(EXPECTED)


@pytest.mark.parametrize("fixture", [f for f, _ in DATABASES])
def test_corrupted_databases_never_crash(fixture: str) -> None:
    rng = random.Random(fixture)
    original = (FIXTURES / fixture).read_bytes()
    for _ in range(150):
        data = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            result = _collect("var/lib/rpm/Packages", bytes(data))
        except CollectError:
            continue
        assert len(result.packages) <= len(EXPECTED)
