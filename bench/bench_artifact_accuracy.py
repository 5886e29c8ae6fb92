"""Artifact detection accuracy on real ectopy (LTDB 14046) and false flags on clean records.

Run: ``.venv/bin/python bench/bench_artifact_accuracy.py``. Prints tables and writes
bench/results/artifact_accuracy.json; no assertions (the test suite holds the thresholds).

Truth (reference MANIFEST): an RR interval that ends or starts on a V or F beat is ectopic.
Besides that per-interval count, a per-beat count is printed: a V/F beat is found when either
interval around it is flagged; specificity is over N beats with no V/F neighbour.

The oracle bound: a detector that *knows* which intervals are normal compares every interval
with the mean of its nearest normal neighbours and flags both intervals around a V/F beat when
either deviates by more than a threshold; normal intervals are flagged when they deviate by more
than the same threshold. No detector that judges timing against the surrounding sinus rhythm can
beat this curve, because it is given the rhythm it would otherwise have to estimate.
"""

from __future__ import annotations

import csv
import importlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from biofeedback.hrv.artifacts import OnlineArtifactDetector, correct_artifacts, detect_artifacts

RESULTS = Path(__file__).resolve().parent / "results" / "artifact_accuracy.json"
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "physionet"
ECTOPIC = {"V", "F"}
BoolArray = NDArray[np.bool_]


def load_ltdb() -> tuple[NDArray[np.float64], BoolArray, BoolArray]:
    with (REFERENCE / "ltdb_14046_labelled.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    rr = np.array([float(r["rr_ms"]) for r in rows])
    beat_ectopic = np.array([r["beat_symbol"] in ECTOPIC for r in rows])
    truth = beat_ectopic | np.array([r["prev_symbol"] in ECTOPIC for r in rows])
    return rr, truth, beat_ectopic


def online_labels(rr: NDArray[np.float64], *, robust: bool) -> NDArray[np.int8]:
    det = OnlineArtifactDetector(robust=robust)
    beats = [b for value in rr.tolist() for b in det.push(value)] + det.flush()
    return np.array([b.label for b in beats], dtype=np.int8)


def neurokit_flags(rr: NDArray[np.float64]) -> BoolArray | None:
    try:
        module = importlib.import_module("neurokit2.signal.signal_fixpeaks")
    except ImportError:
        return None
    found, _ = module._find_artifacts(np.r_[0.0, np.cumsum(rr)], sampling_rate=1000)
    flags = np.zeros(rr.size, dtype=bool)
    for indices in found.values():
        idx = np.asarray(indices, dtype=np.intp) - 1  # NeuroKit2 indexes the peak ending it
        flags[idx[(idx >= 0) & (idx < rr.size)]] = True
    return flags


def interval_scores(flags: BoolArray, truth: BoolArray) -> tuple[float, float]:
    return float(flags[truth].mean()), float((~flags[~truth]).mean())


def beat_scores(flags: BoolArray, beat_ectopic: BoolArray) -> tuple[float, float]:
    """Beat i ends interval i and starts interval i + 1."""
    touched = flags | np.r_[flags[1:], False]
    neighbour = np.r_[beat_ectopic[1:], False] | np.r_[False, beat_ectopic[:-1]]
    normal = ~beat_ectopic & ~neighbour
    return float(touched[beat_ectopic].mean()), float((~touched[normal]).mean())


def oracle_curve(
    rr: NDArray[np.float64], truth: BoolArray, beat_ectopic: BoolArray
) -> list[dict[str, float]]:
    idx = np.arange(rr.size)
    clean = np.flatnonzero(~truth)
    before = clean[np.clip(np.searchsorted(clean, idx) - 1, 0, clean.size - 1)]
    after = clean[np.clip(np.searchsorted(clean, idx, side="right"), 0, clean.size - 1)]
    deviation = np.abs(rr / ((rr[before] + rr[after]) / 2.0) - 1.0)
    beat_deviation = np.maximum(deviation, np.r_[deviation[1:], 0.0])
    rows = []
    for threshold in (0.06, 0.08, 0.09, 0.10, 0.12, 0.15):
        found = beat_ectopic & (beat_deviation > threshold)
        flags = found | np.r_[False, found[:-1]] | (~truth & (deviation > threshold))
        sensitivity, specificity = interval_scores(flags, truth)
        invisible = int((beat_ectopic & (beat_deviation <= threshold)).sum())
        rows.append(
            {
                "threshold": threshold,
                "sensitivity": sensitivity,
                "specificity": specificity,
                "ectopic_beats_within_threshold": invisible,
            }
        )
    return rows


def density_table(flags: dict[str, BoolArray], truth: BoolArray) -> list[dict[str, Any]]:
    density = np.convolve(truth.astype(float), np.ones(91) / 91, mode="same")
    rows = []
    for lo, hi in ((0.0, 0.05), (0.05, 0.1), (0.1, 0.3), (0.3, 0.5), (0.5, 1.01)):
        band = (density >= lo) & (density < hi)
        row: dict[str, Any] = {"density": f"{lo:.2f}-{min(hi, 1.0):.2f}"}
        row["ectopic_intervals"] = int((truth & band).sum())
        row["normal_intervals"] = int((~truth & band).sum())
        for name, f in flags.items():
            row[name] = interval_scores(f[band], truth[band])
        rows.append(row)
    return rows


def push_timing_us(rr: NDArray[np.float64], *, robust: bool) -> dict[str, float]:
    det = OnlineArtifactDetector(robust=robust)
    clock = time.perf_counter_ns
    out = np.empty(rr.size)
    for i, value in enumerate(rr.tolist()):
        start = clock()
        det.push(value)
        out[i] = clock() - start
    p50, p99 = np.percentile(out / 1000.0, [50, 99])
    return {"p50_us": float(p50), "p99_us": float(p99)}


def main() -> None:
    rr, truth, beat_ectopic = load_ltdb()
    detectors: dict[str, BoolArray] = {
        "published one pass": detect_artifacts(rr) != 0,
        "published iterative": correct_artifacts(rr).labels != 0,
        "published online": online_labels(rr, robust=False) != 0,
        "robust (batch = online)": online_labels(rr, robust=True) != 0,
    }
    nk = neurokit_flags(rr)
    if nk is not None:
        detectors["NeuroKit2 0.2.13 _find_artifacts"] = nk
    print(f"LTDB 14046: {rr.size} intervals, {int(truth.sum())} ectopic, "
          f"{int(beat_ectopic.sum())} V/F beats")  # fmt: skip
    print(f"{'detector':<36}{'interval sens':>14}{'spec':>9}{'beat sens':>11}{'spec':>9}")
    results: dict[str, Any] = {"detectors": {}}
    for name, flags in detectors.items():
        si, pi = interval_scores(flags, truth)
        sb, pb = beat_scores(flags, beat_ectopic)
        results["detectors"][name] = {
            "interval_sensitivity": si,
            "interval_specificity": pi,
            "beat_sensitivity": sb,
            "beat_specificity": pb,
        }
        print(f"{name:<36}{si:>14.1%}{pi:>9.2%}{sb:>11.1%}{pb:>9.2%}")
    agree = float((online_labels(rr, robust=False) == detect_artifacts(rr)).mean())
    results["published_online_batch_agreement"] = agree
    print(f"published online/batch label agreement: {agree:.2%} (robust: identical by design)")

    print("\nBy ectopic density (share of ectopic intervals among the 91 around), sens / spec:")
    table = density_table(
        {k: detectors[k] for k in ("published one pass", "robust (batch = online)")}, truth
    )
    results["by_density"] = table
    for row in table:
        cells = "  ".join(
            f"{k.split(' ')[0]} {v[0]:.1%}/{v[1]:.2%}"
            for k, v in row.items()
            if isinstance(v, tuple)
        )
        print(f"  {row['density']}  ectopic {row['ectopic_intervals']:>5}  {cells}")

    print("\nOracle bound (knows the normal beats; threshold on deviation from them):")
    curve = oracle_curve(rr, truth, beat_ectopic)
    results["oracle_bound"] = curve
    for row in curve:
        print(f"  {row['threshold']:.0%}: sensitivity {row['sensitivity']:.1%}, "
              f"specificity {row['specificity']:.2%}, V/F beats within it on both sides "
              f"{row['ectopic_beats_within_threshold']}")  # fmt: skip

    print("\nFlagged share on clean records (no truth; the published rule for reference):")
    results["clean_records"] = {}
    clean_records = {
        "rr_healthy_000": np.loadtxt(REFERENCE / "rr_healthy_000_ms.txt"),
        "nsr2db_nsr001": np.loadtxt(REFERENCE / "nsr2db_nsr001_rr_s.txt")[1:] * 1000.0,
    }
    for name, series in clean_records.items():
        shares = {
            "published": float((detect_artifacts(series) != 0).mean()),
            "robust": float((detect_artifacts(series, robust=True) != 0).mean()),
        }
        results["clean_records"][name] = shares
        print(f"  {name:<16} published {shares['published']:.2%}  robust {shares['robust']:.2%}")

    print("\nOnline push() per beat (µs):")
    results["push"] = {}
    for name, series in (("ltdb_14046", rr), ("rr_healthy_000", clean_records["rr_healthy_000"])):
        for robust in (False, True):
            key = f"{name} {'robust' if robust else 'published'}"
            results["push"][key] = push_timing_us(series, robust=robust)
            t = results["push"][key]
            print(f"  {key:<28} p50 {t['p50_us']:6.1f}  p99 {t['p99_us']:6.1f}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
