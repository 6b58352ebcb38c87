"""Only the cold `containerguard sbom REF` vs. floor pair of ``make bench``, with CPU time alongside wall time.

Same image, registry and commands as bench/run.py (its definitions are reused, not changed); each round runs
the floor and a cold scan interleaved, and reports wall seconds and user+sys CPU seconds of the process tree
(the child's rusage from wait4 includes its waited-for children).

Usage: .venv/bin/python bench/cold_vs_floor.py [ROUNDS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import run
from build_image import build


def timed_cpu(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user+sys, children included) and peak RSS (KiB) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"bench: {' '.join(cmd[:3])} failed: {err.strip()[-500:]}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def main(rounds: int) -> int:
    bookworm = Path(subprocess.check_output([str(run.ROOT / "scripts/bookworm-tarball.sh")], text=True).strip())
    site = next((run.ROOT / ".venv/lib").glob("python3*/site-packages"))
    layout = build(run.CACHE / "bench-oci", bookworm, site)
    with tempfile.TemporaryDirectory(prefix="cg-coldbench-") as tmp_s, \
            run.local_registry(Path(tmp_s), layout, ("base",)) as repo:
        return measure(f"{repo}:base", Path(tmp_s), rounds)


def measure(ref: str, tmp: Path, rounds: int) -> int:
    cg = [str(run.VENV_BIN / "containerguard"), "sbom", "-q", "-f", "cyclonedx", "-o", "/dev/null"]
    floor_cmd = [sys.executable, str(Path(__file__).parent / "floor.py"), ref]
    wall: dict[str, list[float]] = {"floor": [], "cold": []}
    cpu: dict[str, list[float]] = {"floor": [], "cold": []}
    rss: list[int] = []
    for i in range(rounds):
        home = tmp / f"home{i}"
        env = {**os.environ, "CONTAINERGUARD_HOME": str(home)}
        w, c, _ = timed_cpu(floor_cmd)
        wall["floor"].append(w)
        cpu["floor"].append(c)
        w, c, peak = timed_cpu([*cg, ref], env)
        wall["cold"].append(w)
        cpu["cold"].append(c)
        rss.append(peak)
        print(f"round {i}: floor {wall['floor'][-1]:.2f} s wall {cpu['floor'][-1]:.2f} s cpu   "
              f"cold {w:.2f} s wall {c:.2f} s cpu   ratio {w / wall['floor'][-1]:.2f}", flush=True)
        subprocess.run(["rm", "-rf", str(home)], check=False)
    mw = {k: statistics.median(v) for k, v in wall.items()}
    mc = {k: statistics.median(v) for k, v in cpu.items()}
    print(f"median wall: floor {mw['floor']:.2f} s, cold {mw['cold']:.2f} s, ratio {mw['cold'] / mw['floor']:.2f}")
    print(f"median cpu:  floor {mc['floor']:.2f} s, cold {mc['cold']:.2f} s, ratio {mc['cold'] / mc['floor']:.2f}")
    print(f"peak RSS of the cold scan: {max(rss) / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
