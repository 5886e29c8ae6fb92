"""Benchmark: full HRV (time, frequency, nonlinear) of whole 24-hour records, ours and the peers.

Every (library, file) job runs in its own subprocess with a wall-clock time-out and an
address-space limit (RLIMIT_AS), so a peer that is quadratic in memory fails with MemoryError
instead of taking the machine down, and one that is quadratic in time is stopped. Reported: the
wall time of the call (imports and file reading excluded), the subprocess's peak RSS
(``ru_maxrss``, imports included) and the RSS before the call, and a few values side by side.

What "full" means for each library:
- biofeedback: ``analyze_record`` (artifact correction per chain, time domain, Welch spectrum,
  respiration, estimates, SampEn/ApEn, DFA α1/α2); plus, as a separate row, the 5-min/30-s
  ``sliding_windows`` table with its DFA α1 column;
- NeuroKit2 0.2.13: ``nk.hrv(peaks, sampling_rate=1000)`` (time, frequency, nonlinear);
- hrv-analysis 1.0.5: every ``get_*_features`` function and ``get_sampen`` (it has no DFA);
- pyHRV 0.5.0: ``pyhrv.hrv(nni=..., plot_ecg=False, plot_tachogram=False, show=False)``.
The peers get the uncorrected RR series (they do no correction); numpy 2 removed ``np.trapz``,
which hrv-analysis and pyHRV still call, so the alias ``np.trapz = np.trapezoid`` is installed in
their subprocesses only. hrv-analysis needs ``nolds<0.6``; pyHRV's biosppy also needs
``peakutils`` (undeclared).

Usage: ``.venv/bin/python bench/bench_full_day.py [--timeout 120] [--mem-gb 8]``; writes
``bench/results/full_day.json``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
REFERENCE = REPO.parent / "shared" / "reference" / "physionet"
FILES = {
    "rr_healthy_000": "rr_healthy_000_ms.txt",
    "nsr2db_nsr001": "nsr2db_nsr001_rr_s.txt",
    "ltdb_14046": "ltdb_14046_labelled.csv",
}
JOBS = [
    ("biofeedback", "analyze_record"),
    ("biofeedback", "sliding_windows"),
    ("neurokit2", "hrv"),
    ("hrv-analysis", "all features"),
    ("pyhrv", "hrv"),
]
PEER_MODULES = {"neurokit2": "neurokit2", "hrv-analysis": "hrvanalysis", "pyhrv": "pyhrv"}
VALUE_KEYS = ("rmssd_ms", "sampen", "dfa_alpha1")

sys.path.insert(0, str(REPO))


def load_rr_ms(key: str) -> NDArray[np.float64]:
    """RR in ms as the CLI reads it (the nsr2db file is in seconds after an offset line)."""
    from biofeedback.sessions.formats import read_recording

    return np.asarray(read_recording(REFERENCE / FILES[key]).rr_ms, dtype=np.float64)


def ours(metric: str) -> Callable[[NDArray[np.float64]], dict[str, Any]]:
    from biofeedback.hrv.analysis import analyze_record
    from biofeedback.hrv.windows import sliding_windows

    def record(rr: NDArray[np.float64]) -> dict[str, Any]:
        out = analyze_record(rr).to_dict()
        time_d, nonlinear = out["time"], out["nonlinear"]
        assert isinstance(time_d, dict)
        assert isinstance(nonlinear, dict)
        return {"rmssd_ms": time_d["rmssd_ms"], **nonlinear}

    def windows(rr: NDArray[np.float64]) -> dict[str, Any]:
        table = sliding_windows(None, rr, window_s=300.0, step_s=30.0)
        alpha = table.dfa_alpha1
        return {"windows": len(table), "dfa_alpha1_median": float(np.nanmedian(alpha))}

    return record if metric == "analyze_record" else windows


def neurokit(rr: NDArray[np.float64]) -> dict[str, Any]:
    import neurokit2 as nk  # type: ignore[import-not-found,import-untyped,unused-ignore]

    peaks = nk.intervals_to_peaks(rr, sampling_rate=1000)
    frame = nk.hrv(peaks, sampling_rate=1000)
    keys = {"rmssd_ms": "HRV_RMSSD", "sampen": "HRV_SampEn", "dfa_alpha1": "HRV_DFA_alpha1"}
    return {k: float(frame[c].iloc[0]) for k, c in keys.items()}


def hrv_analysis(rr: NDArray[np.float64]) -> dict[str, Any]:
    import hrvanalysis as ha  # type: ignore[import-not-found,import-untyped,unused-ignore]

    nn = rr.tolist()
    time_d = ha.get_time_domain_features(nn)
    ha.get_geometrical_features(nn)
    ha.get_frequency_domain_features(nn)
    ha.get_csi_cvi_features(nn)
    ha.get_poincare_plot_features(nn)
    sampen = ha.get_sampen(nn)
    return {"rmssd_ms": float(time_d["rmssd"]), "sampen": float(sampen["sampen"])}


def pyhrv_full(rr: NDArray[np.float64]) -> dict[str, Any]:
    import pyhrv  # type: ignore[import-not-found,import-untyped,unused-ignore]

    res = pyhrv.hrv(nni=rr, plot_ecg=False, plot_tachogram=False, show=False)
    keys = {"rmssd_ms": "rmssd", "sampen": "sampen", "dfa_alpha1": "dfa_alpha1"}
    return {k: float(res[c]) for k, c in keys.items()}


def job_function(library: str, metric: str) -> Callable[[NDArray[np.float64]], dict[str, Any]]:
    if library == "biofeedback":
        return ours(metric)
    if not hasattr(np, "trapz"):
        np.trapz = np.trapezoid  # type: ignore[attr-defined]
    # imported here so a missing peer is reported as such and import time is not timed
    importlib.import_module(PEER_MODULES[library])
    return {"neurokit2": neurokit, "hrv-analysis": hrv_analysis, "pyhrv": pyhrv_full}[library]


class _TimedOut(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _TimedOut


def run_job(library: str, metric: str, key: str, timeout_s: float) -> None:
    """Child process: run one job and print one JSON line (also on failure or time-out)."""
    rr = load_rr_ms(key)
    row: dict[str, Any] = {}
    try:
        func = job_function(library, metric)
    except Exception as exc:  # a peer that cannot be imported is a result, not a crash
        row["status"] = f"not installable: {type(exc).__name__}: {exc}"[:120]
        print(json.dumps(row))
        return
    row["rss_before_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row["value"] = func(rr)
        row["status"] = "ok"
    except _TimedOut:
        row["status"] = f"timed out (> {timeout_s:g} s)"
    except MemoryError as exc:
        row["status"] = f"MemoryError ({str(exc)[:70]})"
    except Exception as exc:
        row["status"] = f"failed: {type(exc).__name__}: {str(exc)[:70]}"
    signal.setitimer(signal.ITIMER_REAL, 0)
    row["seconds"] = time.perf_counter() - start
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(row, default=float))


def spawn(library: str, metric: str, key: str, timeout_s: float, mem_gb: float) -> dict[str, Any]:
    limit = int(mem_gb * 2**30)

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }
    cmd = [sys.executable, __file__, "--timeout", str(timeout_s), "--job", library, metric, key]
    row: dict[str, Any] = {"file": key, "library": library, "metric": metric}
    try:
        # the child stops itself at timeout_s; this margin catches a call stuck in C code
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout_s + 30.0,
            preexec_fn=limit_memory,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return {**row, "status": f"timed out (> {timeout_s:g} s, killed)"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        err = proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"]
        status = "MemoryError" if "MemoryError" in proc.stderr else f"failed: {err[-1][:80]}"
        return {**row, "status": status}
    return {**row, **json.loads(lines[-1])}


def fmt_values(value: object) -> str:
    if not isinstance(value, dict):
        return ""
    if "windows" in value:
        return f"{value['windows']} windows, median DFA α1 {value['dfa_alpha1_median']:.3f}"
    parts = []
    for key in VALUE_KEYS:
        v = value.get(key)
        parts.append(f"{key}={v:.4f}" if isinstance(v, float) else f"{key}=—")
    return " ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per job")
    parser.add_argument("--mem-gb", type=float, default=8.0, help="address-space limit per job")
    parser.add_argument("--job", nargs=3, metavar=("LIBRARY", "METRIC", "FILE"), help="internal")
    args = parser.parse_args()
    if args.job:
        library, metric, key = args.job
        run_job(library, metric, key, args.timeout)
        return
    load_start = os.getloadavg()
    header = f"{'file':<15} {'beats':>7} {'library':<12} {'job':<16} {'time s':>8} "
    header += f"{'peak RSS MB':>11} {'(before)':>8}  status / values"
    print(header)
    print("-" * len(header))
    rows = []
    for key in FILES:
        beats = load_rr_ms(key).size
        for library, metric in JOBS:
            row = {"beats": beats, **spawn(library, metric, key, args.timeout, args.mem_gb)}
            rows.append(row)
            ok = row["status"] == "ok"
            seconds = f"{row['seconds']:>8.2f}" if ok else f"{'—':>8}"
            peak = f"{row['peak_rss_mb']:>11.0f}" if "peak_rss_mb" in row else f"{'—':>11}"
            before = f"{row['rss_before_mb']:>8.0f}" if "rss_before_mb" in row else f"{'—':>8}"
            tail = fmt_values(row.get("value")) if ok else row["status"]
            line = f"{key:<15} {beats:>7} {library:<12} {metric:<16} {seconds} {peak} {before}"
            print(f"{line}  {tail}", flush=True)
    out = HERE / "results" / "full_day.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "timeout_s": args.timeout,
        "mem_limit_gb": args.mem_gb,
        "python": sys.version,
        "load_average_start": load_start,
        "load_average_end": os.getloadavg(),
    }
    out.write_text(json.dumps({"settings": meta, "rows": rows}, indent=2) + "\n")
    print(f"\nload average {load_start[0]:.2f} → {os.getloadavg()[0]:.2f} (shared machine)")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
