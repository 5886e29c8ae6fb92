"""HRV engine benchmarks: whole record, sliding windows and live push, against peer libraries.

Run: ``.venv/bin/python bench/bench_hrv.py`` (peers come from the ``bench`` extra). Prints a table
and writes ``bench/results/hrv.json``. Workload: the 24-hour PhysioNet files in
``../shared/reference/physionet``. Timings are wall-clock medians on this machine; nothing here
is asserted.

Fairness notes printed with the results:
- whole record "time+freq" runs the same steps in every library: time-domain metrics and a
  Welch spectrum on the uncorrected series (no artifact correction in any of them); this
  project's full ``analyze_record`` (with correction and respiration) is a separate row;
- NeuroKit2 is called with ``normalize=False, interpolation_rate=4`` (ms², Kubios-style 4 Hz);
- NeuroKit2 sliding windows are timed on a subset of windows and extrapolated to all windows;
- numpy 2 removed ``np.trapz``, which hrv-analysis 1.0.5 still calls: the alias
  ``np.trapz = np.trapezoid`` is installed for the peers only; nolds >= 0.6 fails to import on
  Python 3.11, so the bench extra needs ``nolds<0.6`` for hrv-analysis.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from biofeedback.hrv.analysis import TimeDomain, analyze_record  # noqa: E402
from biofeedback.hrv.frequency import frequency_domain  # noqa: E402
from biofeedback.hrv.processor import HrvProcessor  # noqa: E402
from biofeedback.hrv.settings import HrvSettings  # noqa: E402
from biofeedback.hrv.windows import sliding_windows  # noqa: E402

REFERENCE = REPO.parent / "shared" / "reference" / "physionet"
RESULTS = REPO / "bench" / "results" / "hrv.json"
WINDOW_S = 300.0
STEP_S = 30.0
NEUROKIT_WINDOW_SAMPLE = 40


@dataclass(frozen=True)
class Beat:
    t_s: float
    rr_ms: float
    segment: int


def load_records() -> dict[str, np.ndarray]:
    healthy = np.loadtxt(REFERENCE / "rr_healthy_000_ms.txt", dtype=np.float64)
    nsr_s = np.loadtxt(REFERENCE / "nsr2db_nsr001_rr_s.txt", dtype=np.float64)
    return {"rr_healthy_000": healthy, "nsr2db_nsr001": nsr_s[1:] * 1000.0}  # first: offset


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(first run, median of ``repeat`` runs) in seconds."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return runs[0], statistics.median(runs)


def peer(name: str) -> Any:
    try:
        if not hasattr(np, "trapz"):
            np.trapz = np.trapezoid  # type: ignore[attr-defined]
        if name == "neurokit2":
            import neurokit2

            return neurokit2
        import hrvanalysis

        return hrvanalysis
    except Exception as exc:  # a peer that cannot load is reported, not fatal
        return f"failed: {type(exc).__name__}: {exc}"


def run_peer(fn: Callable[[], tuple[float, float]]) -> dict[str, Any]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            first, median = fn()
        return {"first_s": first, "median_s": median}
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def ours_time_freq(rr: np.ndarray) -> None:
    seg = np.zeros(rr.size, np.int64)
    TimeDomain.compute(rr, seg, HrvSettings())
    frequency_domain(rr)


def whole_record(rr: np.ndarray, nk: Any, hrva: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"beats": int(rr.size)}
    first, median = timed(lambda: ours_time_freq(rr), 5)
    out["ours_time_freq"] = {"first_s": first, "median_s": median}
    first, median = timed(lambda: analyze_record(rr), 3)
    out["ours_analyze_record"] = {"first_s": first, "median_s": median}
    if isinstance(hrva, str):
        out["hrv_analysis"] = {"error": hrva}
    else:
        rr_list = rr.tolist()

        def hrva_run() -> None:
            hrva.get_time_domain_features(rr_list)
            hrva.get_frequency_domain_features(rr_list)

        out["hrv_analysis"] = run_peer(lambda: timed(hrva_run, 3))
    if isinstance(nk, str):
        out["neurokit2"] = {"error": nk}
    else:
        peaks = nk.intervals_to_peaks(rr, sampling_rate=1000)

        def nk_run() -> None:
            nk.hrv_time(peaks, sampling_rate=1000)
            nk.hrv_frequency(peaks, sampling_rate=1000, normalize=False, interpolation_rate=4)

        out["neurokit2"] = run_peer(lambda: timed(nk_run, 1))
    return out


def sliding(rr: np.ndarray, nk: Any) -> dict[str, Any]:
    t = np.cumsum(rr) / 1000.0
    out: dict[str, Any] = {}
    table = sliding_windows(t, rr, window_s=WINDOW_S, step_s=STEP_S, correct=False)
    out["windows"] = len(table)
    first, median = timed(
        lambda: sliding_windows(t, rr, window_s=WINDOW_S, step_s=STEP_S, correct=False), 3
    )
    out["ours_uncorrected"] = {"first_s": first, "median_s": median}
    first, median = timed(lambda: sliding_windows(t, rr, window_s=WINDOW_S, step_s=STEP_S), 1)
    out["ours_with_correction"] = {"first_s": first, "median_s": median}
    if isinstance(nk, str):
        out["neurokit2"] = {"error": nk}
        return out
    picks = np.linspace(0, len(table) - 1, NEUROKIT_WINDOW_SAMPLE).astype(int)

    def nk_loop() -> tuple[float, float]:
        start = time.perf_counter()
        for k in picks:
            inside = (t > table.t_start_s[k]) & (t <= table.t_end_s[k])
            peaks = nk.intervals_to_peaks(rr[inside], sampling_rate=1000)
            nk.hrv_time(peaks, sampling_rate=1000)
            nk.hrv_frequency(peaks, sampling_rate=1000, normalize=False, interpolation_rate=4)
        per_window = (time.perf_counter() - start) / picks.size
        return per_window * len(table), per_window * len(table)

    result = run_peer(nk_loop)
    if "error" not in result:
        result = {
            "extrapolated_s": result["median_s"],
            "timed_windows": int(picks.size),
            "per_window_s": result["median_s"] / len(table),
        }
    out["neurokit2"] = result
    return out


def push_latency(rr: np.ndarray) -> dict[str, Any]:
    t = np.cumsum(rr) / 1000.0
    beats = [Beat(float(a), float(b), 0) for a, b in zip(t, rr, strict=True)]
    processor = HrvProcessor()
    lat = np.empty(len(beats))
    clock = time.perf_counter_ns
    for i, beat in enumerate(beats):
        start = clock()
        processor.push(beat)
        lat[i] = clock() - start
    lat_us = lat / 1000.0
    return {
        "beats": len(beats),
        "p50_us": float(np.percentile(lat_us, 50)),
        "p99_us": float(np.percentile(lat_us, 99)),
        "p999_us": float(np.percentile(lat_us, 99.9)),
        "max_us": float(lat_us.max()),
        "total_s": float(lat.sum() / 1e9),
    }


def fmt(entry: dict[str, Any], key: str = "median_s") -> str:
    if "error" in entry:
        return f"failed ({entry['error'][:60]})"
    return f"{entry[key]:.3f} s"


def main() -> None:
    nk = peer("neurokit2")
    hrva = peer("hrvanalysis")
    records = load_records()
    results: dict[str, Any] = {"whole_record": {}, "sliding_5min_30s": {}, "push": {}}
    results["load_average_start"] = os.getloadavg()
    for name, rr in records.items():
        results["whole_record"][name] = whole_record(rr, nk, hrva)
        results["sliding_5min_30s"][name] = sliding(rr, nk)
    results["push"]["rr_healthy_000"] = push_latency(records["rr_healthy_000"])

    print("\nWhole record, time + frequency domain (median wall time)")
    print(
        f"{'record':<16}{'beats':>8}  {'ours':>10}  {'hrv-analysis':>14}  {'NeuroKit2':>12}"
        f"  {'speed-up vs hrva':>16}  {'ours full analyze':>18}"
    )
    for name, r in results["whole_record"].items():
        ours = r["ours_time_freq"]["median_s"]
        hrva_r = r["hrv_analysis"]
        ratio = f"{hrva_r['median_s'] / ours:.1f}x" if "error" not in hrva_r else "-"
        print(
            f"{name:<16}{r['beats']:>8}  {ours:>8.3f} s  {fmt(hrva_r):>14}  "
            f"{fmt(r['neurokit2']):>12}  {ratio:>16}  {fmt(r['ours_analyze_record']):>18}"
        )
    print("\n5-min windows every 30 s (NeuroKit2: a subset timed, extrapolated to all windows)")
    print(
        f"{'record':<16}{'windows':>8}  {'ours':>10}  {'ours+correction':>16}  "
        f"{'NeuroKit2 (extrap.)':>20}  {'speed-up':>9}"
    )
    for name, r in results["sliding_5min_30s"].items():
        ours = r["ours_uncorrected"]["median_s"]
        nk_r = r["neurokit2"]
        nk_s = f"{nk_r['extrapolated_s']:.1f} s" if "error" not in nk_r else fmt(nk_r)
        ratio = f"{nk_r['extrapolated_s'] / ours:.0f}x" if "error" not in nk_r else "-"
        print(
            f"{name:<16}{r['windows']:>8}  {ours:>8.3f} s  "
            f"{fmt(r['ours_with_correction']):>16}  {nk_s:>20}  {ratio:>9}"
        )
    p = results["push"]["rr_healthy_000"]
    print(
        f"\npush() over {p['beats']} beats: p50 {p['p50_us']:.0f} us, p99 {p['p99_us']:.0f} us, "
        f"p99.9 {p['p999_us']:.0f} us, max {p['max_us']:.0f} us (goal p99 <= 1000 us)"
    )
    results["load_average_end"] = os.getloadavg()
    print(
        f"load average (1/5/15 min) at start {results['load_average_start']}, "
        f"end {results['load_average_end']} on {os.cpu_count()} CPUs: tails grow with load"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
