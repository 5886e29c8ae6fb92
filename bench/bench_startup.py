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
- the import of the dashboard module (``biofeedback.tui.app``), the floor of a first frame.

Imports that dominate are listed from ``python -X importtime`` of the 5-minute analyze.
Usage: ``.venv/bin/python bench/bench_startup.py [--repeat 5]``; writes
``bench/results/startup.json``. Measures only; never asserts a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
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


def wall(cmd: list[str], repeat: int) -> dict[str, Any]:
    times: list[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
        times.append(time.perf_counter() - start)
        if out.returncode != 0:
            return {"error": (out.stderr or out.stdout).strip().splitlines()[-1:]}
    return {"median_s": statistics.median(times), "min_s": min(times), "runs": len(times)}


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
    out = subprocess.run(
        [sys.executable, "-X", "importtime", *cmd], capture_output=True, text=True, cwd=REPO
    )
    rows: list[tuple[str, float]] = []
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = (part.strip() for part in line.split("|"))
        if cumulative.isdigit() and not name.startswith(" "):
            rows.append((name, int(cumulative) / 1e6))
    top = [(name, s) for name, s in rows if "." not in name or name.startswith("biofeedback")]
    return sorted(top, key=lambda r: -r[1])[:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cli = [str(BIN / "biofeedback")]
    results: dict[str, Any] = {"python": sys.version.split()[0]}
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
        results["top_imports_analyze_5min"] = top_imports(
            ["-m", "biofeedback", "analyze", str(short)]
        )
    ours = results["analyze_22h"].get("median_s")
    theirs = results["neurokit2_time_freq_22h"].get("median_s")
    if ours and theirs:
        results["speedup_vs_neurokit2"] = theirs / ours
    goals = {"help": 0.1, "analyze_5min": 0.4, "import_dashboard": 0.5}
    print("whole process, median wall time")
    for name in ("help", "analyze_5min", "analyze_22h", "neurokit2_time_freq_22h"):
        row = results[name]
        goal = f"(goal <= {goals[name]} s)" if name in goals else ""
        shown = f"{row['median_s']:.3f} s" if "median_s" in row else f"failed: {row['error']}"
        print(f"  {name:26s} {shown:>10s} {goal}")
    row = results["import_dashboard"]
    if "median_s" in row:
        print(f"  {'import_dashboard':26s} {row['median_s']:.3f} s (first-frame floor)")
    if "speedup_vs_neurokit2" in results:
        print(f"  22.5 h: ours {results['speedup_vs_neurokit2']:.1f}x faster (goal >= 10x)")
    print("largest imports of analyze (5 min):")
    for name, seconds in results["top_imports_analyze_5min"]:
        print(f"  {name:40s} {seconds:.3f} s")
    out = HERE / "results" / "startup.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"stored {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
