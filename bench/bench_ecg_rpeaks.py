"""Benchmark: R-peaks at 130 Hz on MIT-BIH Arrhythmia (DS1 + paced), AAMI EC57 150-ms window.

Lead MLII, 360 Hz, resampled to 130 Hz with ``resample_poly(x, 13, 36)`` (bench/mitdb.py).
Sensitivity and positive predictivity per record and pooled; median |timing error| against the
annotations; beside NeuroKit2's ``ecg_peaks`` on the same signal when it is installed. Beats and
detections inside ventricular flutter episodes (``[``..``]``, record 207) are not scored (EC57).
Also: the batch detector's speed on a day of 130 Hz ECG (median of 3 runs), and the online
detector's agreement with the batch one.

Usage: ``.venv/bin/python bench/bench_ecg_rpeaks.py``; writes ``bench/results/ecg_rpeaks.json``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mitdb import DS1, MITDB, PACED, load

from biofeedback.ecg import OnlineRPeakDetector, detect_r_peaks, match_beats

RESULTS = Path(__file__).resolve().parent / "results" / "ecg_rpeaks.json"


def _neurokit(ecg: np.ndarray) -> np.ndarray | None:
    try:
        import neurokit2 as nk
    except ImportError:
        return None
    _, info = nk.ecg_peaks(ecg, sampling_rate=130)
    return np.asarray(info["ECG_R_Peaks"], dtype=np.float64) / 130.0


def _score(rec, t_s: np.ndarray) -> dict[str, float]:  # type: ignore[no-untyped-def]
    ref = rec.beat_t_s[rec.scored(rec.beat_t_s)]
    det = t_s[rec.scored(t_s)]
    m = match_beats(ref, det)
    return {
        "beats": len(ref),
        "tp": m.tp,
        "fn": m.fn,
        "fp": m.fp,
        "se": 100 * m.sensitivity,
        "ppv": 100 * m.positive_predictivity,
        "median_abs_err_ms": float(1000 * np.median(np.abs(m.error_s))),
        "errors_ms": (1000 * m.error_s).tolist(),
    }


def _pooled(rows: list[dict[str, float]]) -> dict[str, float]:
    tp, fn, fp = (sum(r[k] for r in rows) for k in ("tp", "fn", "fp"))
    errors = np.concatenate([np.asarray(r["errors_ms"]) for r in rows])
    return {
        "beats": tp + fn,
        "se": 100 * tp / (tp + fn),
        "ppv": 100 * tp / (tp + fp),
        "median_abs_err_ms": float(np.median(np.abs(errors))),
        "p95_abs_err_ms": float(np.percentile(np.abs(errors), 95)),
    }


def main() -> int:
    if not MITDB.is_dir():
        print(f"skipped: {MITDB} missing")
        return 0
    ours: list[dict[str, float]] = []
    nk_rows: list[dict[str, float]] = []
    print(f"{'record':>6} {'beats':>6} {'Se %':>7} {'+P %':>7} {'|err| ms':>8}   NeuroKit2 Se/+P")
    for name in DS1 + PACED:
        rec = load(name)
        row = {"record": name, **_score(rec, detect_r_peaks(rec.ecg_uv, 130).t_s)}
        ours.append(row)
        nk_t = _neurokit(rec.ecg_uv)
        nk_text = "not installed"
        if nk_t is not None:
            nk_row = {"record": name, **_score(rec, nk_t)}
            nk_rows.append(nk_row)
            nk_text = f"{nk_row['se']:.2f} / {nk_row['ppv']:.2f}"
        print(
            f"{name:>6} {row['beats']:>6} {row['se']:7.2f} {row['ppv']:7.2f} "
            f"{row['median_abs_err_ms']:8.1f}   {nk_text}"
        )
    sets = {"DS1": [r for r in ours if r["record"] in DS1], "DS1+paced": ours}
    pooled = {k: _pooled(v) for k, v in sets.items()}
    for k, v in pooled.items():
        print(
            f"pooled {k}: Se {v['se']:.2f} %, +P {v['ppv']:.2f} %, median |err| "
            f"{v['median_abs_err_ms']:.2f} ms (p95 {v['p95_abs_err_ms']:.1f}), {v['beats']} beats"
        )
    nk_pooled = (
        {
            k: _pooled([r for r in nk_rows if r["record"] in {x["record"] for x in v}])
            for k, v in sets.items()
        }
        if nk_rows
        else None
    )
    if nk_pooled:
        for k, v in nk_pooled.items():
            print(f"NeuroKit2 pooled {k}: Se {v['se']:.2f} %, +P {v['ppv']:.2f} %")
    # Speed: a day of 130 Hz ECG (11.2 M samples), made of one record repeated.
    rec = load(118)
    day = np.tile(rec.ecg_uv, int(np.ceil(86400 * 130 / len(rec.ecg_uv))))[: 86400 * 130]
    day_runs = []
    for _ in range(3):
        start = time.perf_counter()
        detect_r_peaks(day, 130)
        day_runs.append(time.perf_counter() - start)
    day_s = float(np.median(day_runs))
    # Online: frames of 73 samples, as the H10 sends them.
    rec = load(100 if (MITDB / "100.hea").exists() else 101)
    online = OnlineRPeakDetector(130)
    start = time.perf_counter()
    found = [online.feed(rec.ecg_uv[i : i + 73]).t_s for i in range(0, len(rec.ecg_uv), 73)]
    online_s = time.perf_counter() - start
    online_t = np.concatenate(found)
    online_row = _score(rec, online_t)
    cpu_share = online_s / (len(rec.ecg_uv) / 130)
    runs_text = ", ".join(f"{t:.2f}" for t in day_runs)
    print(f"a day of ECG (11.2 M samples) through detect_r_peaks: median {day_s:.2f} s "
          f"(runs {runs_text})")  # fmt: skip
    print(
        f"online (73-sample frames, record {rec.name}): Se {online_row['se']:.2f} %, "
        f"+P {online_row['ppv']:.2f} %, {100 * cpu_share:.2f} % of a core"
    )
    for row in ours + nk_rows:
        del row["errors_ms"]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "resampling": "MLII 360 Hz -> 130 Hz, scipy.signal.resample_poly(x, 13, 36)",
                "window_ms": 150,
                "records": ours,
                "pooled": pooled,
                "neurokit2": {"records": nk_rows, "pooled": nk_pooled},
                "day_detect_s": day_s,
                "day_detect_runs_s": day_runs,
                "online": {
                    "record": rec.name,
                    "se": online_row["se"],
                    "ppv": online_row["ppv"],
                    "core_share": cpu_share,
                },
            },
            indent=1,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
