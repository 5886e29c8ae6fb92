"""Artifact detection speed: online push() per beat (p50/p99/max) and the batch functions.

Run: ``.venv/bin/python bench/bench_artifacts.py``. Prints a table and writes
bench/results/artifacts.json; no assertions.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from biofeedback.hrv.artifacts import OnlineArtifactDetector, correct_artifacts, detect_artifacts

RESULTS = Path(__file__).resolve().parent / "results" / "artifacts.json"
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "physionet"


def load_records() -> dict[str, np.ndarray]:
    with (REFERENCE / "ltdb_14046_labelled.csv").open(newline="") as fh:
        ltdb = np.array([float(row["rr_ms"]) for row in csv.DictReader(fh)])
    healthy = np.loadtxt(REFERENCE / "rr_healthy_000_ms.txt")
    return {"ltdb_14046 (ectopy)": ltdb, "rr_healthy_000": healthy}


def push_times_us(rr_ms: np.ndarray) -> np.ndarray:
    det = OnlineArtifactDetector()
    push = det.push
    clock = time.perf_counter_ns
    out = np.empty(rr_ms.size)
    for i, value in enumerate(rr_ms.tolist()):
        start = clock()
        push(value)
        out[i] = clock() - start
    return out / 1000.0


def best_of_s(func: Callable[[np.ndarray], object], rr_ms: np.ndarray, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func(rr_ms)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    header = f"{'record':<22}{'beats':>8}{'push p50 µs':>13}{'p99 µs':>9}{'max µs':>9}"
    header += f"{'detect s':>10}{'correct s':>11}"
    print(header)
    rows = []
    for name, rr in load_records().items():
        t = push_times_us(rr)
        p50, p99 = np.percentile(t, [50, 99])
        row = {
            "record": name,
            "beats": int(rr.size),
            "push_p50_us": float(p50),
            "push_p99_us": float(p99),
            "push_max_us": float(t.max()),
            "detect_s": best_of_s(detect_artifacts, rr),
            "correct_s": best_of_s(correct_artifacts, rr),
        }
        rows.append(row)
        print(
            f"{name:<22}{rr.size:>8}{p50:>13.1f}{p99:>9.1f}{t.max():>9.0f}"
            f"{row['detect_s']:>10.3f}{row['correct_s']:>11.3f}"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
