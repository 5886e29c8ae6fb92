"""The test suite's wall time: `pytest -q` as `make test` runs it, timed whole.

Prints wall time, CPU time of the run and its children, the pass/fail/skip line, the number of
xdist workers and the machine's load before and after, and stores them in
bench/results/suite.json. A benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "suite.json"


def main() -> int:
    load_before = os.getloadavg()
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        # As `make test` runs it: with Python's default bytecode cache (the Makefile unexports
        # PYTHONDONTWRITEBYTECODE, which some containers set).
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    )
    wall_s = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = done.stdout.strip().splitlines()
    closing = next((ln for ln in reversed(lines) if re.search(r"\d+ (passed|failed)", ln)), "")
    sys.path.insert(0, str(ROOT))
    from tests.conftest import SLOW_LANES  # -n auto: a worker per core and one per slow lane

    result = {
        "wall_s": round(wall_s, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "exit_code": done.returncode,
        "summary": closing.strip("= "),
        "workers": (os.cpu_count() or 1) + len(SLOW_LANES),
        "slow_lanes": len(SLOW_LANES),
        "cores": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "goal_wall_s": 75,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print("pytest wall time (make test's pytest step)")
    for key, value in result.items():
        print(f"  {key:<12} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
