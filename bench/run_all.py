"""Run every benchmark (bench/bench_*.py), each in its own process, and print their tables.

Each script prints a table and stores its numbers in bench/results/<name>.json. Benchmarks
measure; they never assert a time. A failing script is reported and the others still run.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if len(sys.argv) > 1:
        scripts = [s for s in scripts if any(k in s.name for k in sys.argv[1:])]
    failed: list[str] = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        start = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"--- {script.name}: exit {rc}, {time.perf_counter() - start:.1f} s wall", flush=True)
        if rc != 0:
            failed.append(script.name)
    print(f"\nbenchmarks: {len(scripts) - len(failed)} ran, {len(failed)} failed {failed or ''}")
    print(f"results: {HERE / 'results'}/*.json")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
