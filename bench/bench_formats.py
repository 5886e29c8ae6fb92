"""Benchmark: a folder of recordings to one table (``analyze DIR --out T.csv``), and ``import DIR``.

The folder holds ``--files`` recordings (default 200): the reference files of every format
(tests/data/formats, and ../shared/reference/formats where present: Polar Sensor Logger,
Suunto .sml, Polar Flow RR, HRVAS, Movesense... plus the HR-only files that are refused) and
four simulated 30-min recordings written as this program's bundle JSON, plain RR text, an
Elite HRV export (``YYYY-MM-DD HH-MM-SS.txt``) and the ``beats`` CSV export, repeated in
turn, each copy in its own sub-folder (names kept: some formats are recognised by name too).

Each command runs as a whole process (interpreter start, pool start, reading, maths, writing
the table) with ``--jobs 1`` and ``--jobs 2``; peak RSS is the largest resident set of the
command or of any of its worker processes (``RUSAGE_CHILDREN`` of a wrapper that waits for
it). Writes bench/results/formats.json. Measures only; never asserts a time.
Usage: ``.venv/bin/python bench/bench_formats.py [--files 200]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent
SOURCES = (REPO / "tests" / "data" / "formats", REPO.parent / "shared" / "reference" / "formats")
SKIP = {"MANIFEST.md", "README.md", "NOTICE.md"}

WRAP = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
last = (p.stderr.strip().splitlines() or [""])[-1]
print(json.dumps([p.returncode, wall, rss, last]))
"""


def reference_files() -> list[Path]:
    seen: dict[str, Path] = {}
    for root in SOURCES:
        if root.is_dir():
            for p in sorted(root.rglob("*")):
                rel = str(p.relative_to(root))
                if p.is_file() and p.name not in SKIP and rel not in seen:
                    seen[rel] = p
    return list(seen.values())


def simulated(folder: Path) -> list[Path]:
    """Four 30-min simulated recordings in four formats."""
    from biofeedback.sessions.export import export_bundle
    from biofeedback.sessions.formats import read_as_bundle

    folder.mkdir(parents=True, exist_ok=True)
    bundle_path = folder / "sim.json"
    subprocess.run(
        [
            *(str(BIN / "biofeedback"), "simulate", "--duration", "1800", "--seed", "3"),
            *("--artifacts", "disconnects_per_h=4", "--out", str(bundle_path)),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    bundle = read_as_bundle(bundle_path)
    rr_path = folder / "sim_rr.txt"
    rr_path.write_text(export_bundle(bundle, "rr"))
    elite = folder / "2024-03-05 07-30-00.txt"
    elite.write_text("".join(f"{round(x)}\n" for x in bundle.beats["rr_ms"]))
    beats = folder / "sim_beats.csv"
    beats.write_text(export_bundle(bundle, "beats"))
    return [bundle_path, rr_path, elite, beats]


def build_folder(root: Path, n: int) -> tuple[Path, dict[str, int]]:
    pool = reference_files() + simulated(root / "_sim")
    folder = root / "recordings"
    kinds: dict[str, int] = {}
    for i in range(n):
        src = pool[i % len(pool)]
        dest = folder / f"{i:03d}" / src.name
        dest.parent.mkdir(parents=True)
        shutil.copyfile(src, dest)
        kinds[src.suffix.lower() or "-"] = kinds.get(src.suffix.lower() or "-", 0) + 1
    return folder, {"distinct_sources": len(pool), **kinds}


def measure(cmd: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", WRAP, *cmd], capture_output=True, text=True, check=True
    ).stdout
    rc, wall, rss_kib, last = json.loads(out)
    return {
        "exit": rc,
        "wall_s": round(wall, 3),
        "peak_rss_mib": round(rss_kib / 1024, 1),
        "summary": last,
    }


def table_rows(path: Path) -> tuple[int, int, list[str]]:
    """Rows, refused rows, and each distinct refusal (file name and the reason's start)."""
    import csv

    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    refused = [r for r in rows if r["status"] != "ok"]
    reasons = sorted(
        {f"{Path(r['file']).name}: {r['error'].split(': ', 1)[-1][:90]}" for r in refused}
    )
    return len(rows), len(refused), reasons


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200)
    opts = parser.parse_args()
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared), "
        f"Python {platform.python_version()}",
        "files": opts.files,
        "runs": [],
    }
    exe = str(BIN / "biofeedback")
    with tempfile.TemporaryDirectory() as tmp:
        folder, kinds = build_folder(Path(tmp), opts.files)
        results["folder"] = kinds
        for jobs in (1, 2):
            out = Path(tmp) / f"table{jobs}.csv"
            cmd = [exe, "analyze", str(folder), "--out", str(out), "--jobs", str(jobs)]
            run = {"command": "analyze DIR --out T.csv", "jobs": jobs, **measure(cmd)}
            run["rows"], run["failed_rows"], run["refusals"] = table_rows(out)
            results["runs"].append(run)
        for jobs in (1, 2):
            db = Path(tmp) / f"store{jobs}.db"
            cmd = [exe, "import", "--db", str(db), str(folder), "--jobs", str(jobs)]
            results["runs"].append({"command": "import DIR", "jobs": jobs, **measure(cmd)})
    print(f"{opts.files} recordings ({results['folder']['distinct_sources']} distinct files)")
    print(f"{'command':<26} {'jobs':>4} {'wall s':>8} {'files/s':>8} {'peak RSS MiB':>13} exit")
    for run in results["runs"]:
        rate = opts.files / run["wall_s"] if run["wall_s"] else 0.0
        print(
            f"{run['command']:<26} {run['jobs']:>4} {run['wall_s']:>8.2f} {rate:>8.1f} "
            f"{run['peak_rss_mib']:>13.1f} {run['exit']}"
            + (f"  ({run['rows']} rows, {run['failed_rows']} refused)" if "rows" in run else "")
            + (f"  {run['summary']}" if run["command"].startswith("import") else "")
        )
    for reason in results["runs"][0]["refusals"]:
        print(f"  refused: {reason}")
    target = HERE / "results" / "formats.json"
    target.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
