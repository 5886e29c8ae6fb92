"""Benchmark: beat labels from shape and timing on MIT-BIH (DS1 + paced), and what they do for
the RR artifact stage; the day-long speed of detection + labelling; the online latency.

Ventricular beats (reference V or E) found among the detected beats: sensitivity over every
reference V/E beat (a beat the detector missed counts as missed), positive predictivity over
the detections labelled V (strict: a fusion beat F or a detection without a reference beat
labelled V counts as false; the EC57 form, which leaves fusion beats out, is printed beside).
DS1 is the de Chazal et al. (2004) training half; EC57 leaves the paced records out of the
classification statistics, so DS1 alone is the figure to compare; DS1 + paced is printed too.
The thresholds in biofeedback/ecg/labels.py were set on these records: in-sample figures (the
beat-type memory's CHAIN_R, DOMINANT_BEATS, DOMINANT_AGE_BEATS and the final-label rules'
ON_TIME, R_ON_TIME, R_CLOSE, REFRACTORY and the noise-burst check's SPIKY were chosen on DS1
pooled V Se/+P, see IN_SAMPLE; DS2 was not used).

Artifact table (the HRV-correctness bench's truth, bench_labelled.py: an interval that ends or
starts on a V or F beat is ectopic, intervals withheld as irregular rhythm not counted; a second
specificity also counts intervals next to S, A, a, J or E beats as ectopic): per-interval
sensitivity / specificity of the labels ``analyze`` uses (``correct_artifacts``, any label but
normal counts as flagged) on the detected beats' RR, RR-only (automatic, robust) against the ECG
shapes fed through the HRV stage's hook (``correct_artifacts(..., shape=interval_shapes(...))``,
biofeedback/hrv/artifacts_shape.py: V and S beats by shape ectopic, normal-shaped intervals not
ectopic by timing, RR-only where the shape is unknown), and the shapes with V beats only.
The RR-only rule on the reference beats' RR is printed beside. Intervals touching a detection
with no reference beat, or inside ventricular flutter, are not scored. Pooled over DS1, DS1 +
paced, and DS1 without the two atrial-fibrillation records (201, 203), where the labeller calls
many irregular AF beats supraventricular premature.

Usage: ``.venv/bin/python bench/bench_ecg_labels.py``; writes ``bench/results/ecg_labels.json``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mitdb import DS1, MITDB, PACED, load

from biofeedback.ecg import (
    BeatClass,
    OnlineBeatLabeller,
    OnlineRPeakDetector,
    detect_and_label,
    ecg_intervals,
    match_beats,
)
from biofeedback.ecg.artifacts import interval_shapes
from biofeedback.ecg.rpeaks import _sos
from biofeedback.hrv.artifacts import correct_artifacts, detect_artifacts
from biofeedback.hrv.rhythm import withheld_mask

RESULTS = Path(__file__).resolve().parent / "results" / "ecg_labels.json"
V_TRUTH = frozenset("VE")
ARTIFACT_TRUTH = frozenset("VF")
SUPRAVENTRICULAR_TRUTH = frozenset("SAaJE")
AF_RECORDS = (201, 203)
IN_SAMPLE = (
    "all labelling thresholds chosen on DS1 + paced (these records): in-sample; the beat-type "
    "memory (CHAIN_R, DOMINANT_BEATS, DOMINANT_AGE_BEATS), the final-label rules (ON_TIME, "
    "R_ON_TIME, R_CLOSE, REFRACTORY) and the noise-burst check (SPIKY) on DS1 pooled V Se/+P"
)


def _record(name: int) -> dict[str, Any]:
    rec = load(name)
    peaks, labels = detect_and_label(rec.ecg_uv, 130)
    keep = rec.scored(rec.beat_t_s)
    ref_t, ref_sym = rec.beat_t_s[keep], rec.beat_symbol[keep]
    m = match_beats(ref_t, peaks.t_s)
    det_sym = np.full(len(peaks.t_s), "X", dtype="<U1")
    det_sym[m.matched_detection] = ref_sym[m.matched_reference]
    det_sym[~rec.scored(peaks.t_s)] = "-"
    scored = det_sym != "-"
    is_v = np.isin(det_sym, list(V_TRUTH))
    said_v = (labels.label == BeatClass.VENTRICULAR) & scored
    missed_v = int((np.isin(ref_sym, list(V_TRUTH)) & ~m.matched_reference).sum())
    row: dict[str, Any] = {
        "record": name,
        "v_beats": int(np.isin(ref_sym, list(V_TRUTH)).sum()),
        "tp": int((is_v & said_v).sum()),
        "fn": int((is_v & ~said_v & scored).sum()) + missed_v,
        "fp": int((~is_v & said_v).sum()),
        "fp_fusion_or_unmatched": int((said_v & np.isin(det_sym, ["F", "X"])).sum()),
        "unknown": int((labels.label == BeatClass.UNKNOWN).sum()),
    }
    # Artifact table.
    ref_rr = np.diff(ref_t) * 1000.0
    ref_truth = np.isin(ref_sym[1:], list(ARTIFACT_TRUTH)) | np.isin(
        ref_sym[:-1], list(ARTIFACT_TRUTH)
    )
    ref_ok = np.diff(ref_t) < 3.0  # not across a flutter episode left out
    det_rr = np.diff(peaks.t_s) * 1000.0
    truth_beat = np.isin(det_sym, list(ARTIFACT_TRUTH))
    det_truth = truth_beat[1:] | truth_beat[:-1]
    sve_beat = np.isin(det_sym, list(SUPRAVENTRICULAR_TRUTH))
    sve = (sve_beat[1:] | sve_beat[:-1]) & ~det_truth
    bad = ~np.isin(det_sym, list("X-"))
    det_ok = bad[1:] & bad[:-1] & ~withheld_mask(det_rr)
    shapes = interval_shapes(labels.label)
    v_only = interval_shapes(labels.label, supraventricular=False)
    flagged = {
        "rr_only_automatic": correct_artifacts(det_rr).labels != 0,
        "rr_only_robust": correct_artifacts(det_rr, robust=True).labels != 0,
        "ecg_shape_automatic": correct_artifacts(det_rr, shape=shapes).labels != 0,
        "ecg_shape_robust": correct_artifacts(det_rr, robust=True, shape=shapes).labels != 0,
        "ecg_shape_v_only_automatic": correct_artifacts(det_rr, shape=v_only).labels != 0,
    }
    ecg = ecg_intervals(peaks.t_s, labels.label)
    row["artifacts"] = {
        "rr_only_reference_beats": _counts(detect_artifacts(ref_rr) != 0, ref_truth, ref_ok),
        **{key: _counts(f, det_truth, det_ok, sve) for key, f in flagged.items()},
        "ecg_from_shape_share": float(ecg.from_shape[det_ok].mean()),
    }
    return row


def _counts(
    flags: np.ndarray, truth: np.ndarray, ok: np.ndarray, sve: np.ndarray | None = None
) -> dict[str, int]:
    out = {
        "tp": int((flags & truth & ok).sum()),
        "fn": int((~flags & truth & ok).sum()),
        "fp": int((flags & ~truth & ok).sum()),
        "tn": int((~flags & ~truth & ok).sum()),
    }
    if sve is not None:  # of the false positives, those next to a supraventricular ectopic
        out["fp_next_to_sve"] = int((flags & ~truth & ok & sve).sum())
        out["next_to_sve"] = int((~truth & ok & sve).sum())
    return out


def _v_scores(rows: list[dict[str, Any]]) -> dict[str, float]:
    tp, fn, fp, fx = (sum(r[k] for r in rows) for k in ("tp", "fn", "fp", "fp_fusion_or_unmatched"))
    return {
        "v_beats": tp + fn,
        "se": 100 * tp / (tp + fn) if tp + fn else float("nan"),
        "ppv": 100 * tp / (tp + fp) if tp + fp else float("nan"),
        "ppv_without_fusion_or_unmatched": 100 * tp / (tp + fp - fx) if tp + fp - fx else 0.0,
    }


def _artifact_scores(rows: list[dict[str, Any]], key: str) -> dict[str, float]:
    c = {k: sum(r["artifacts"][key].get(k, 0) for r in rows) for k in COUNT_KEYS}
    tp, fn, fp, tn = c["tp"], c["fn"], c["fp"], c["tn"]
    out = {
        "sensitivity": 100 * tp / max(1, tp + fn),
        "specificity": 100 * tn / max(1, tn + fp),
        "ectopic_intervals": tp + fn,
        "intervals": tp + fn + fp + tn,
    }
    if key != "rr_only_reference_beats":
        # S/A/a/J/E-adjacent intervals counted as ectopic: out of the negatives.
        fp_s, n_s = c["fp_next_to_sve"], c["next_to_sve"]
        tn_s = tn - (n_s - fp_s)
        out["specificity_sve_as_ectopic"] = 100 * tn_s / max(1, tn_s + fp - fp_s)
    return out


COUNT_KEYS = ("tp", "fn", "fp", "tn", "fp_next_to_sve", "next_to_sve")
ARTIFACT_KEYS = (
    "rr_only_reference_beats",
    "rr_only_automatic",
    "rr_only_robust",
    "ecg_shape_automatic",
    "ecg_shape_robust",
    "ecg_shape_v_only_automatic",
)
PER_RECORD_KEYS = ("rr_only_automatic", "rr_only_robust", "ecg_shape_automatic", "ecg_shape_robust")


def _speed(runs: int = 5) -> dict[str, Any]:
    """A day of 130 Hz ECG (11.2 M samples: record 118 repeated) through detection + labels.

    Wall and CPU (process) time per run; the first run pays the page faults of the day's
    arrays (about 90 MB each). The machine is shared: the median is the figure, the best and
    the CPU time show how much of the spread is other processes."""
    rec = load(118)
    day = np.tile(rec.ecg_uv, int(np.ceil(86400 * 130 / len(rec.ecg_uv))))[: 86400 * 130]
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        detect_and_label(day, 130)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {
        "samples": len(day),
        "median_s": float(np.median(wall)),
        "best_s": min(wall),
        "runs_s": wall,
        "cpu_median_s": float(np.median(cpu)),
        "cpu_runs_s": cpu,
    }


def _latency(name: int = 119, seconds: float = 300.0) -> dict[str, float]:
    """Online latency, fed one H10 frame (73 samples, 0.56 s) at a time.

    A beat is complete once the sample 250 ms (the detector's lookahead) after its R-peak has
    arrived; a frame's samples arrive together, with its last one. So the latency from the
    sample that completes a beat is the CPU time of ``feed()`` + labelling for the frame that
    holds that sample, when the beat is reported in that frame (``late_beats`` counts those
    that were not: reported one or more frames later). ``signal_delay`` is the R-peak to the
    newest sample at the report, in signal time.
    """
    from scipy.signal import sosfiltfilt

    rec = load(name, seconds=seconds)
    det = OnlineRPeakDetector(130)
    lab = OnlineBeatLabeller(130)
    lookahead = round(0.25 * 130)
    delays, cpu, late = [], [], 0
    x = rec.ecg_uv
    for i in range(0, len(x), 73):
        frame = x[i : i + 73]
        newest = i + len(frame) - 1
        start = time.perf_counter()
        found = det.feed(frame)
        if len(found.position):
            lo = max(0, newest - 8 * 130)
            wide = sosfiltfilt(_sos(130, 0.5, 40.0), x[lo : newest + 1])
            for p in found.position:
                lab.push(wide, lo, round(p))
        took = time.perf_counter() - start
        for p in found.position:
            delays.append((newest - p) / 130)
            cpu.append(took)
            late += int(round(p) + lookahead < i)
    d, c = np.asarray(delays), np.asarray(cpu)
    return {
        "record": name,
        "beats": len(d),
        "late_beats": late,
        "signal_delay_max_ms": 1000 * float(d.max()),
        "signal_delay_median_ms": 1000 * float(np.median(d)),
        "cpu_per_report_p95_ms": 1000 * float(np.percentile(c, 95)),
        "cpu_per_report_max_ms": 1000 * float(c.max()),
    }


def main(argv: list[str] | None = None) -> int:
    """``--records 106,119``: only those, artifact tables only, nothing written (iterating)."""
    args = sys.argv[1:] if argv is None else argv
    if not MITDB.is_dir():
        print(f"skipped: {MITDB} missing")
        return 0
    subset = args[1].split(",") if args[:1] == ["--records"] and len(args) > 1 else None
    names = [int(n) for n in subset] if subset else list(DS1 + PACED)
    rows = [_record(name) for name in names]
    print(f"{'record':>6} {'V':>5} {'Se %':>7} {'+P %':>7}  artifact Se/Sp % (V/F truth): "
          "RR-only auto   RR-only robust   ECG shape auto   ECG shape robust")  # fmt: skip
    for r in rows:
        v = _v_scores([r])
        cells = "  ".join(
            f"{a['sensitivity']:6.1f}/{a['specificity']:6.2f}"
            for a in (_artifact_scores([r], k) for k in PER_RECORD_KEYS)
        )
        print(f"{r['record']:>6} {r['v_beats']:>5} {v['se']:7.2f} {v['ppv']:7.2f}  {cells}")
    sets = {
        "DS1": [r for r in rows if r["record"] in DS1],
        "DS1+paced": rows,
        "DS1 without AF (201, 203)": [
            r for r in rows if r["record"] in DS1 and r["record"] not in AF_RECORDS
        ],
    }
    pooled: dict[str, Any] = {}
    print(f"({IN_SAMPLE})")
    for k, v in sets.items():
        s = _v_scores(v)
        art = {key: _artifact_scores(v, key) for key in ARTIFACT_KEYS}
        pooled[k] = {"ventricular": s, "artifacts": art}
        ec57 = s["ppv_without_fusion_or_unmatched"]
        print(f"pooled {k}: V Se {s['se']:.2f} %, +P {s['ppv']:.2f} % (fusion and unmatched "
              f"left out: {ec57:.2f} %), {s['v_beats']} V/E beats")  # fmt: skip
        for key, a in art.items():
            sve = a.get("specificity_sve_as_ectopic")
            sve_text = "" if sve is None else f", Sp {sve:6.2f} % with S/A/a/J/E as ectopic"
            print(f"   artifacts {key:<26} Se {a['sensitivity']:6.2f} %  "
                  f"Sp {a['specificity']:6.2f} %{sve_text}  ({a['ectopic_intervals']} "
                  f"ectopic of {a['intervals']} intervals)")  # fmt: skip
    if subset:
        return 0
    speed = _speed()
    runs = ", ".join(f"{t:.2f}" for t in speed["runs_s"])
    print(f"a day of ECG ({speed['samples'] / 1e6:.1f} M samples) through detect_and_label: "
          f"median {speed['median_s']:.2f} s, best {speed['best_s']:.2f} s (runs {runs}; "
          f"CPU median {speed['cpu_median_s']:.2f} s)")  # fmt: skip
    lat = _latency()
    print(f"online (record {lat['record']}, 73-sample frames): R-peak to report "
          f"median {lat['signal_delay_median_ms']:.0f} ms, max {lat['signal_delay_max_ms']:.0f}; "
          f"{lat['late_beats']} of {lat['beats']} beats not reported with the frame holding "
          f"R + 250 ms; CPU of that frame's feed + labels p95 {lat['cpu_per_report_p95_ms']:.1f} "
          f"ms, max {lat['cpu_per_report_max_ms']:.1f}")  # fmt: skip
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "thresholds": IN_SAMPLE,
                "records": rows,
                "pooled": pooled,
                "day": speed,
                "online_latency": lat,
            },
            indent=1,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
