"""Benchmark: whole-process wall time of the CLI, beside NeuroKit2 in the same run.

What a person waits for, from exec to exit (interpreter start, imports, reading, maths,
printing), the median of ``--repeat`` runs each:

- ``biofeedback --help`` (goal ≤ 0.1 s);
- ``biofeedback analyze`` of a 5-minute RR file (goal ≤ 0.4 s): the first 5 min of
  tests/data/rhenanbartels_hrv/rest_rri.txt, written to a temporary file;
- ``biofeedback analyze`` of the 22.5-hour PhysioNet record
  tests/data/physionet/nsr2db_nsr001_rr_s.txt (all metrics), against
- NeuroKit2 0.2.13 ``hrv_time`` + ``hrv_frequency`` alone on the same RR series, whole process
  (``python -c``: import, read with numpy, compute; goal: ours ≥ 10× faster);
- the import of the dashboard module (``biofeedback.tui.app``), the floor of a first frame;
- ``biofeedback demo``'s first frame in a real terminal (goal ≤ 0.5 s): exec in a pseudo-terminal
  of 120×40 until the dashboard's first paint (its protocol panel) arrives on the terminal.

Imports that dominate are listed from ``python -X importtime`` of the 5-minute analyze.
Usage: ``.venv/bin/python bench/bench_startup.py [--repeat 5]``; writes
``bench/results/startup.json``. Measures only; never asserts a time.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import resource
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DAY = REPO / "tests" / "data" / "physionet" / "nsr2db_nsr001_rr_s.txt"
REST = REPO / "tests" / "data" / "rhenanbartels_hrv" / "rest_rri.txt"
BIN = Path(sys.executable).parent

NEUROKIT = """
import sys, numpy as np, neurokit2 as nk
lines = open(sys.argv[1]).read().split()
rr = np.asarray([float(x) for x in lines[1:]]) * 1000.0  # offset line, then RR in seconds
rr = rr[(rr > 250) & (rr < 2500)]
peaks = np.concatenate([[0], np.cumsum(np.round(rr).astype(int))])
t = nk.hrv_time(peaks, sampling_rate=1000)
f = nk.hrv_frequency(peaks, sampling_rate=1000)
print(float(t["HRV_RMSSD"].iloc[0]), float(f["HRV_HF"].iloc[0]))
"""


def first_frame(cmd: list[str], marker: bytes = b"protocol", timeout_s: float = 30.0) -> float:
    """Seconds from exec of ``cmd`` in a 120×40 pseudo-terminal until ``marker`` is painted."""
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal of the dashboard's design size, then the program
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.execv(cmd[0], cmd)
    seen = b""
    try:
        while marker not in seen:
            left = timeout_s - (time.perf_counter() - start)
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError(f"no first frame within {timeout_s} s")
            seen = seen[-4096:] + os.read(fd, 65536)
        return time.perf_counter() - start
    finally:
        os.kill(pid, signal.SIGTERM)  # the dashboard ends the session as interrupted
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    os.read(fd, 65536)
                except OSError:
                    break
            if os.waitpid(pid, os.WNOHANG)[0]:
                break
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)


def first_frames(cli: list[str], tmp: Path, repeat: int) -> dict[str, Any]:
    times = []
    for i in range(repeat):
        try:
            times.append(first_frame([*cli, "demo", "--db", str(tmp / f"demo{i}.db")]))
        except (OSError, TimeoutError) as exc:
            return {"error": str(exc)}
    return {"median_s": statistics.median(times), "min_s": min(times), "runs": repeat}


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wall(cmd: list[str], repeat: int) -> dict[str, Any]:
    """Wall time (and the child's user + system CPU time) of ``repeat`` runs of ``cmd``.

    On a shared, loaded machine the wall time waits for other processes; the CPU time and the
    minimum are the steadier figures (numpy's BLAS threads can make CPU exceed wall).
    """
    times: list[float] = []
    cpu: list[float] = []
    for _ in range(repeat):
        cpu_before = _children_cpu_s()
        start = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
        times.append(time.perf_counter() - start)
        cpu.append(_children_cpu_s() - cpu_before)
        if out.returncode != 0:
            return {"error": (out.stderr or out.stdout).strip().splitlines()[-1:]}
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "cpu_median_s": statistics.median(cpu),
        "cpu_min_s": min(cpu),
        "runs": len(times),
    }


def five_minutes(folder: Path) -> Path:
    rr = [float(x) for x in REST.read_text().split()]
    kept, total = [], 0.0
    for value in rr:
        if total + value > 300_000:
            break
        kept.append(value)
        total += value
    path = folder / "five_min_ms.txt"
    path.write_text("\n".join(f"{v:.0f}" for v in kept) + "\n")
    return path


def top_imports(cmd: list[str], n: int = 8) -> list[tuple[str, float]]:
    """Largest imports of ``cmd`` by ``python -X importtime``: cumulative seconds of each import
    made at the top of the import tree (what the program or a function asked for), a third-party
    package summed over its modules (scipy imported lazily shows as scipy.linalg's cost)."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", *cmd], capture_output=True, text=True, cwd=REPO
    )
    totals: dict[str, float] = {}
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _, cumulative, raw = line.split("|")
        if not cumulative.strip().isdigit() or raw.startswith("  ", 1):
            continue  # a header line, or nested under another import
        name = raw.strip()
        key = name if name.startswith("biofeedback") else name.split(".")[0]
        totals[key] = totals.get(key, 0.0) + int(cumulative) / 1e6
    return sorted(totals.items(), key=lambda r: -r[1])[:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cli = [str(BIN / "biofeedback")]
    results: dict[str, Any] = {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory() as tmp:
        short = five_minutes(Path(tmp))
        jobs: dict[str, list[str]] = {
            "help": [*cli, "--help"],
            "analyze_5min": [*cli, "analyze", str(short)],
            "analyze_22h": [*cli, "analyze", str(DAY)],
            "neurokit2_time_freq_22h": [sys.executable, "-c", NEUROKIT, str(DAY)],
            "import_dashboard": [sys.executable, "-c", "import biofeedback.tui.app"],
        }
        for name, cmd in jobs.items():
            repeat = 1 if name.startswith("neurokit2") else args.repeat
            results[name] = wall(cmd, repeat)
        results["demo_first_frame"] = first_frames(cli, Path(tmp), args.repeat)
        results["top_imports_analyze_5min"] = top_imports(
            ["-m", "biofeedback", "analyze", str(short)]
        )
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    ours = results["analyze_22h"].get("median_s")
    theirs = results["neurokit2_time_freq_22h"].get("median_s")
    if ours and theirs:
        results["speedup_vs_neurokit2"] = theirs / ours
    ours_cpu = results["analyze_22h"].get("cpu_median_s")
    theirs_cpu = results["neurokit2_time_freq_22h"].get("cpu_median_s")
    if ours_cpu and theirs_cpu:
        results["speedup_vs_neurokit2_cpu"] = theirs_cpu / ours_cpu
    goals = {"help": 0.1, "analyze_5min": 0.4, "import_dashboard": 0.5, "demo_first_frame": 0.5}
    load = results["load_average_before"]
    cpus = os.cpu_count()
    print(f"whole process, median wall / min wall / median CPU (load {load[0]:.2f}, {cpus} CPUs)")
    for name in ("help", "analyze_5min", "analyze_22h", "neurokit2_time_freq_22h"):
        row = results[name]
        goal = f"(goal <= {goals[name]} s)" if name in goals else ""
        shown = (
            f"{row['median_s']:.3f} / {row['min_s']:.3f} / {row['cpu_median_s']:.3f} s"
            if "median_s" in row
            else f"failed: {row['error']}"
        )
        print(f"  {name:26s} {shown:>28s} {goal}")
    row = results["import_dashboard"]
    if "median_s" in row:
        print(f"  {'import_dashboard':26s} {row['median_s']:.3f} s (first-frame floor)")
    row = results["demo_first_frame"]
    shown = f"{row['median_s']:.3f} / {row['min_s']:.3f} s" if "median_s" in row else row["error"]
    print(f"  {'demo_first_frame':26s} {shown:>28s} (goal <= 0.5 s; real pty, 120x40)")
    if "speedup_vs_neurokit2" in results:
        cpu = results.get("speedup_vs_neurokit2_cpu", float("nan"))
        print(
            f"  22.5 h: ours {results['speedup_vs_neurokit2']:.1f}x faster by wall time, "
            f"{cpu:.1f}x by CPU time (goal >= 10x)"
        )
    print("largest imports of analyze (5 min):")
    for name, seconds in results["top_imports_analyze_5min"]:
        print(f"  {name:40s} {seconds:.3f} s")
    out = HERE / "results" / "startup.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"stored {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
