"""Benchmark: the live artifact labels with an H10's ECG (the strap's RR labelled by the ECG's
beat shapes where matched) against RR-only live, on MIT-BIH DS1.

An H10 is emulated from each record: the *strap* sends the cardiologists' beats (the reference
annotations) as RR in 1/1024 s, its beat times the running sum of those RRs running
:data:`STRAP_LATE_S` late (a strap's times are anchored at a notification's arrival), each beat
reaching the processor :data:`STRAP_DELAY_S` of ECG time after it happened; the *ECG* is lead MLII
at 130 Hz (bench/mitdb.py) in the H10's 73-sample frames through the live ECG stage
(biofeedback.ecg.online.EcgStage), its beats into biofeedback.ecg.matching.StrapShapes. Each strap
interval goes through the online detector as HrvProcessor pushes it (shape asked when the label
is decided); RR-only is the same detector without shapes.

Truth and scoring as bench_ecg_labels.py (an interval next to a V or F beat is ectopic; withheld
intervals and ventricular flutter left out; a second specificity counting S, A, a, J, E as
ectopic). ``matched`` is the share of scored intervals whose shapes were known.

Usage: ``.venv/bin/python bench/bench_ecg_live_artifacts.py [--minutes M] [--records 106,119]``;
the full run (DS1, whole records) writes ``bench/results/ecg_live_artifacts.json``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mitdb import DS1, MITDB, load

from biofeedback.ecg.matching import StrapShapes
from biofeedback.ecg.online import EcgStage
from biofeedback.hrv.artifacts import BeatLabel, OnlineArtifactDetector
from biofeedback.hrv.rhythm import withheld_mask

RESULTS = Path(__file__).resolve().parent / "results" / "ecg_live_artifacts.json"
FRAME = 73
STRAP_LATE_S = 0.7
STRAP_DELAY_S = 1.0
TRUTH = frozenset("VF")
SVE = frozenset("SAaJE")


def _record(name: int, seconds: float | None) -> dict[str, Any]:
    rec = load(name, seconds=seconds)
    ref_t, sym = rec.beat_t_s, rec.beat_symbol
    rr = np.round(np.diff(ref_t) * 1024.0) / 1024.0 * 1000.0
    strap_t = ref_t[0] + STRAP_LATE_S + np.cumsum(rr) / 1000.0  # ends of intervals 1..n-1
    stage, shapes = EcgStage(), StrapShapes()
    with_shapes, plain = OnlineArtifactDetector(), OnlineArtifactDetector()
    got: dict[str, list[tuple[int, BeatLabel, bool]]] = {"ecg": [], "rr": []}
    fs = rec.fs_hz
    k = 0
    started = time.process_time()
    for i in range(0, len(rec.ecg_uv), FRAME):
        frame = rec.ecg_uv[i : i + FRAME]
        t = (i + np.arange(len(frame))) / fs
        shapes.add(stage.ecg(t, frame.astype(np.int64)))
        now = t[-1]
        while k < rr.size and strap_t[k] - STRAP_LATE_S + STRAP_DELAY_S <= now:
            t_end, value = float(strap_t[k]), float(rr[k])
            ask = lambda t_end=t_end, value=value: shapes.interval_shape(t_end, value, 0)  # noqa: E731
            got["ecg"] += [(b.index, b.label, b.by_shape) for b in with_shapes.push(value, ask)]
            got["rr"] += [(b.index, b.label, b.by_shape) for b in plain.push(value)]
            k += 1
    got["ecg"] += [(b.index, b.label, b.by_shape) for b in with_shapes.flush()]
    got["rr"] += [(b.index, b.label, b.by_shape) for b in plain.flush()]
    cpu_s = time.process_time() - started
    n = k
    truth_beat = np.isin(sym, list(TRUTH))
    truth = (truth_beat[1:] | truth_beat[:-1])[:n]
    sve_beat = np.isin(sym, list(SVE))
    sve = ((sve_beat[1:] | sve_beat[:-1])[:n]) & ~truth
    ok = (rec.scored(ref_t)[1:] & rec.scored(ref_t)[:-1] & (np.diff(ref_t) < 3.0))[:n]
    ok &= ~withheld_mask(rr[:n])
    row: dict[str, Any] = {"record": name, "intervals": int(ok.sum()), "cpu_s": cpu_s}
    for key, labels in got.items():
        flags = np.zeros(n, bool)
        by_shape = np.zeros(n, bool)
        for index, label, known in labels:
            if index < n:
                flags[index] = label != BeatLabel.NORMAL
                by_shape[index] = known
        row[key] = _counts(flags, truth, ok, sve)
        if key == "ecg":
            row["matched"] = int(by_shape[ok].sum())
    return row


def _counts(
    flags: np.ndarray, truth: np.ndarray, ok: np.ndarray, sve: np.ndarray
) -> dict[str, int]:
    return {
        "tp": int((flags & truth & ok).sum()),
        "fn": int((~flags & truth & ok).sum()),
        "fp": int((flags & ~truth & ok).sum()),
        "tn": int((~flags & ~truth & ok).sum()),
        "fp_next_to_sve": int((flags & ~truth & ok & sve).sum()),
        "next_to_sve": int((~truth & ok & sve).sum()),
    }


def _scores(rows: list[dict[str, Any]], key: str) -> dict[str, float]:
    c = {k: sum(r[key][k] for r in rows) for k in rows[0][key]}
    tp, fn, fp, tn = c["tp"], c["fn"], c["fp"], c["tn"]
    tn_s = tn - (c["next_to_sve"] - c["fp_next_to_sve"])
    return {
        "sensitivity": 100 * tp / max(1, tp + fn),
        "specificity": 100 * tn / max(1, tn + fp),
        "specificity_sve_as_ectopic": 100 * tn_s / max(1, tn_s + fp - c["fp_next_to_sve"]),
        "ectopic_intervals": tp + fn,
        "intervals": tp + fn + fp + tn,
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not MITDB.is_dir():
        print(f"skipped: {MITDB} missing")
        return 0
    opts = dict(zip(args[::2], args[1::2], strict=False))
    minutes = float(opts["--minutes"]) if "--minutes" in opts else None
    names = [int(n) for n in opts["--records"].split(",")] if "--records" in opts else list(DS1)
    rows = [_record(name, None if minutes is None else 60.0 * minutes) for name in names]
    print(f"{'record':>6} {'matched':>8}  Se/Sp %: RR-only live   ECG shapes live")
    for r in rows:
        cells = "  ".join(
            f"{s['sensitivity']:6.1f}/{s['specificity']:6.2f}"
            for s in (_scores([r], k) for k in ("rr", "ecg"))
        )
        share = 100 * r["matched"] / max(1, r["intervals"])
        print(f"{r['record']:>6} {share:7.1f}%  {cells}")
    pooled = {key: _scores(rows, key) for key in ("rr", "ecg")}
    intervals = sum(r["intervals"] for r in rows)
    matched = sum(r["matched"] for r in rows) / max(1, intervals)
    for key, name in (("rr", "RR-only live"), ("ecg", "ECG shapes live")):
        s = pooled[key]
        print(f"pooled {name:<16} Se {s['sensitivity']:6.2f} %  Sp {s['specificity']:6.2f} %, "
              f"Sp {s['specificity_sve_as_ectopic']:6.2f} % with S/A/a/J/E as ectopic "
              f"({s['ectopic_intervals']} ectopic of {s['intervals']})")  # fmt: skip
    print(f"matched by the ECG: {100 * matched:.1f} % of the scored intervals")
    if minutes is None and "--records" not in opts:
        RESULTS.parent.mkdir(exist_ok=True)
        doc = {"records": rows, "pooled": pooled, "matched_share": matched}
        doc["strap"] = {"late_s": STRAP_LATE_S, "delay_s": STRAP_DELAY_S}
        RESULTS.write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
