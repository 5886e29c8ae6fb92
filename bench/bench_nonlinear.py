"""Benchmark: nonlinear HRV (SampEn, ApEn, DFA α1/α2) on whole-day RR records, ours vs NeuroKit2.

Every job runs in its own subprocess with a wall-clock time-out and an address-space limit
(RLIMIT_AS), so a peer that is quadratic in memory fails with MemoryError instead of taking the
machine down. Reported: the value, the wall time of the call, and the subprocess's peak RSS
(``ru_maxrss``) with the RSS before the call (imports and data) for reference. RR series are
used as recorded (no artifact correction): the workload, not the physiology, is measured here.

Usage: ``.venv/bin/python bench/bench_nonlinear.py [--timeout 60] [--mem-gb 4]``; writes
``bench/results/nonlinear.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
REFERENCE = REPO.parent / "shared" / "reference" / "physionet"
FILES = {"rr_healthy_000": "rr_healthy_000_ms.txt", "ltdb_14046": "ltdb_14046_labelled.csv"}
JOBS = [
    ("biofeedback", "sampen+apen"),
    ("biofeedback", "sampen"),
    ("biofeedback", "apen"),
    ("biofeedback", "dfa_a1+a2"),
    ("biofeedback", "nonlinear_metrics"),
    ("neurokit2", "sampen"),
    ("neurokit2", "apen"),
    ("neurokit2", "dfa_a1+a2"),
    ("neurokit2", "hrv_nonlinear"),
]

NK_KEYS = {
    "sampen": "HRV_SampEn",
    "apen": "HRV_ApEn",
    "dfa_alpha1": "HRV_DFA_alpha1",
    "dfa_alpha2": "HRV_DFA_alpha2",
}


def load_rr_ms(key: str) -> NDArray[np.float64]:
    path = REFERENCE / FILES[key]
    if path.suffix == ".csv":
        with path.open(newline="") as fh:
            return np.array([float(row["rr_ms"]) for row in csv.DictReader(fh)])
    return np.loadtxt(path, dtype=np.float64)


def job_function(library: str, metric: str) -> Callable[[NDArray[np.float64]], object]:
    if library == "biofeedback":
        sys.path.insert(0, str(REPO))
        from biofeedback.hrv import dfa, entropy, nonlinear

        ours: dict[str, Callable[[NDArray[np.float64]], object]] = {
            "sampen+apen": entropy.sample_and_approximate_entropy,
            "sampen": entropy.sample_entropy,
            "apen": entropy.approximate_entropy,
            "dfa_a1+a2": lambda x: (dfa.dfa_alpha1(x), dfa.dfa_alpha2(x)),
            "nonlinear_metrics": lambda x: nonlinear.nonlinear_metrics(x).to_dict(),
        }
        return ours[metric]
    import neurokit2 as nk  # type: ignore[import-not-found,import-untyped,unused-ignore]

    def nk_dfa(x: NDArray[np.float64]) -> object:
        a1 = nk.fractal_dfa(x, scale=np.arange(4, 17), overlap=False)[0]
        a2 = nk.fractal_dfa(x, scale=np.arange(16, 65), overlap=False)[0]
        return (a1, a2)

    def nk_hrv_nonlinear(x: NDArray[np.float64]) -> object:
        # peaks as 1 kHz sample indices: NeuroKit2's HRV functions take beats, not intervals
        peaks = np.concatenate([[0], np.cumsum(np.round(x))]).astype(np.int64)
        frame = nk.hrv_nonlinear(peaks, sampling_rate=1000)
        return {k: float(frame[c].iloc[0]) for k, c in NK_KEYS.items()}

    peers: dict[str, Callable[[NDArray[np.float64]], object]] = {
        "hrv_nonlinear": nk_hrv_nonlinear,
        "sampen": lambda x: nk.entropy_sample(x, delay=1, dimension=2, tolerance="sd")[0],
        "apen": lambda x: nk.entropy_approximate(x, delay=1, dimension=2, tolerance="sd")[0],
        "dfa_a1+a2": nk_dfa,
    }
    return peers[metric]


def run_job(library: str, metric: str, key: str) -> None:
    """Child process: run one job and print one JSON line."""
    rr = load_rr_ms(key)
    func = job_function(library, metric)
    rss_before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    value = func(rr)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "value": json.loads(json.dumps(value, default=float)),
                "seconds": seconds,
                "peak_rss_mb": peak_mb,
                "rss_before_mb": rss_before_mb,
            }
        )
    )


def spawn(
    library: str, metric: str, key: str, timeout_s: float, mem_gb: float
) -> dict[str, object]:
    limit = int(mem_gb * 2**30)

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    cmd = [sys.executable, __file__, "--job", library, metric, key]
    row: dict[str, object] = {"file": key, "library": library, "metric": metric}
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout_s, preexec_fn=limit_memory, env=env
        )
    except subprocess.TimeoutExpired:
        return {**row, "status": f"timed out (> {timeout_s:g} s)"}
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"]
        reason = lines[-1]
        if "MemoryError" in proc.stderr or "Unable to allocate" in proc.stderr:
            reason = f"MemoryError ({lines[-1][:80]})"
        return {**row, "status": f"failed: {reason}"}
    return {**row, "status": "ok", **json.loads(proc.stdout.strip().splitlines()[-1])}


def fmt_value(value: object) -> str:
    if isinstance(value, dict):
        keys = ("sampen", "apen", "dfa_alpha1", "dfa_alpha2")
        return " ".join(
            f"{v:.4f}" if isinstance(v, float) else str(v) for v in map(value.get, keys)
        )
    if isinstance(value, list):
        return " ".join(f"{v:.4f}" for v in value)
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per job")
    parser.add_argument("--mem-gb", type=float, default=4.0, help="address-space limit per job")
    parser.add_argument("--job", nargs=3, metavar=("LIBRARY", "METRIC", "FILE"), help="internal")
    args = parser.parse_args()
    if args.job:
        run_job(*args.job)
        return
    rows = []
    header = f"{'file':<16} {'beats':>7} {'library':<12} {'metric':<18} {'seconds':>8} "
    header += f"{'peak RSS MB':>11} {'(before)':>8}  value / status"
    print(header)
    print("-" * len(header))
    for key in FILES:
        beats = load_rr_ms(key).size
        for library, metric in JOBS:
            row = {"beats": beats, **spawn(library, metric, key, args.timeout, args.mem_gb)}
            rows.append(row)
            if row["status"] == "ok":
                numbers = f"{row['seconds']:>8.3f} {row['peak_rss_mb']:>11.0f} "
                numbers += f"{row['rss_before_mb']:>8.0f}  {fmt_value(row['value'])}"
            else:
                numbers = f"{'':>8} {'':>11} {'':>8}  {row['status']}"
            print(f"{key:<16} {beats:>7} {library:<12} {metric:<18} {numbers}", flush=True)
    out = HERE / "results" / "nonlinear.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"timeout_s": args.timeout, "mem_limit_gb": args.mem_gb, "python": sys.version}
    out.write_text(json.dumps({"settings": meta, "rows": rows}, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
