"""Block-so-far estimate: calibration on simulated sessions with known vagal tone, and cost.

For each case (profile × true effect; ``quiet`` = the person without settling, drift, vagal
noise, slow breathing or carry-over, so a null block truly does not change), N simulated
sessions of settling 60 s, baseline 180 s and two 3-min blocks (1-min washout) go beat by beat
through the live processor (``tests/block_estimate_support.py``). Printed and stored:

- coverage of the 95 % interval over block-seconds, per minute into the block (goal 93-97 %
  after the first minute) and at the block's end;
- the median half-width at 2 min into a block (ln ms, and in units of the baseline's 60-s
  lnRMSSD SD, the unit of the old relaxation score; floored at 0.11 as it was);
- detection (interval excludes 0) within 90 s of block onset and at the end;
- the per-beat cost of ``HrvProcessor.push`` with the estimate (p50/p99/p99.9, goal p99 ≤ 1 ms).

Writes bench/results/estimate.json. Measures; asserts nothing.
Usage: .venv/bin/python bench/bench_estimate.py [--sessions N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from biofeedback.hrv.processor import HrvProcessor  # noqa: E402
from tests.block_estimate_support import BlockTrace, profile_with, run_session  # noqa: E402
from tests.test_hrv_processor import simulate  # noqa: E402

SD_FLOOR = 0.11


def _covered_between(block: BlockTrace, lo: float, hi: float) -> np.ndarray:
    e = np.asarray(block.elapsed_s)
    keep = (e >= lo) & (e < hi)
    lo_, hi_, tr = (np.asarray(x)[keep] for x in (block.low, block.high, block.truth))
    return np.asarray((lo_ <= tr) & (tr <= hi_))


def case(name: str, effect: float, quiet: bool, n: int) -> dict[str, object]:
    blocks = [b for seed in range(n) for b in run_session(profile_with(name, effect, quiet), seed)]
    minutes: dict[str, float] = {}
    for lo, hi in ((60, 120), (120, 180)):
        hits = np.concatenate([_covered_between(b, lo, hi) for b in blocks])
        minutes[f"{lo // 60}-{hi // 60} min"] = float(hits.mean())
    after_first = float(np.concatenate([b.covered(60) for b in blocks]).mean())
    finals = [b for b in blocks if b.final is not None and b.final.ln_rmssd.low is not None]
    end_cov = float(
        np.mean([b.final.ln_rmssd.low <= b.final_truth <= b.final.ln_rmssd.high for b in finals])  # type: ignore[union-attr,operator]
    )
    hw = np.array([b.half_width_at(120.0) for b in blocks])
    sd = np.array([b.baseline_sd_60s for b in blocks])
    return {
        "profile": name,
        "effect_ln_ms": effect,
        "quiet": quiet,
        "blocks": len(blocks),
        "coverage_after_1_min": after_first,
        "coverage_by_minute": minutes,
        "coverage_at_end": end_cov,
        "half_width_2min_ln_ms": float(np.nanmedian(hw)),
        "baseline_sd_60s_ln_ms": float(np.nanmedian(sd)),
        "half_width_2min_in_sd": float(np.nanmedian(hw / sd)),
        "half_width_2min_in_floored_sd": float(np.nanmedian(hw / np.maximum(sd, SD_FLOOR))),
        "detected_within_90s": float(np.mean([b.detected_by(90.0) for b in blocks])),
        "called_changed_at_end": float(np.mean([b.final.ln_rmssd.excludes_zero for b in finals])),  # type: ignore[union-attr]
        "mean_true_change_at_end": float(np.mean([b.final_truth for b in finals])),
    }


class _Beat:
    def __init__(self, t_s: float, rr_ms: float) -> None:
        self.t_s, self.rr_ms, self.segment = t_s, rr_ms, 0


def push_cost() -> dict[str, float]:
    processor = HrvProcessor()
    processor.begin_segment("baseline", "baseline", 0.0)
    t, rr = simulate(3600.0, seed=5)
    costs = []
    for i, (t_s, rr_ms) in enumerate(zip(t.tolist(), rr.tolist(), strict=True)):
        if i and i % 200 == 0:
            processor.end_segment(t_s)
            processor.begin_segment("trigger", "x", t_s)
        start = time.perf_counter()
        processor.push(_Beat(t_s, rr_ms))
        costs.append(time.perf_counter() - start)
    c = np.asarray(costs[100:]) * 1000.0
    return {f"p{q}_ms": float(np.percentile(c, q)) for q in (50, 99, 99.9)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=100)
    args = parser.parse_args()
    n = args.sessions
    cases = []
    for name in ("responder", "non-responder", "tingles"):
        for effect, quiet in (
            (0.0, False),
            (0.0, True),
            (0.05, False),
            (0.1, False),
            (0.2, False),
            (0.35, False),
        ):
            if name != "responder" and (quiet or effect not in (0.0, 0.2)):
                continue
            start = time.perf_counter()
            row = case(name, effect, quiet, n)
            row["seconds"] = time.perf_counter() - start
            cases.append(row)
    cost = push_cost()
    header = (
        f"{'profile':<14} {'effect':>6} {'quiet':>5} {'blocks':>6} {'cov>1min':>8} {'1-2min':>7} "
        f"{'2-3min':>7} {'cov end':>7} {'hw 2min':>7} {'SD60':>6} {'hw/SD':>6} {'hw/fSD':>6} "
        f"{'det 90s':>7} {'chg end':>7} {'true':>6}"
    )
    print(f"block-so-far estimate, {n} simulated sessions per case (2 blocks each)")
    print(header)
    for r in cases:
        m = r["coverage_by_minute"]
        assert isinstance(m, dict)
        print(
            f"{r['profile']:<14} {r['effect_ln_ms']:>6.2f} {'yes' if r['quiet'] else 'no':>5} "
            f"{r['blocks']:>6} {r['coverage_after_1_min']:>8.1%} {m['1-2 min']:>7.1%} "
            f"{m['2-3 min']:>7.1%} {r['coverage_at_end']:>7.1%} {r['half_width_2min_ln_ms']:>7.3f} "
            f"{r['baseline_sd_60s_ln_ms']:>6.3f} {r['half_width_2min_in_sd']:>6.2f} "
            f"{r['half_width_2min_in_floored_sd']:>6.2f} {r['detected_within_90s']:>7.1%} "
            f"{r['called_changed_at_end']:>7.1%} {r['mean_true_change_at_end']:>+6.3f}"
        )
    print(
        "push() per beat with the estimate: " + ", ".join(f"{k} {v:.3f}" for k, v in cost.items())
    )
    out = ROOT / "bench" / "results" / "estimate.json"
    out.write_text(json.dumps({"sessions": n, "cases": cases, "push_cost": cost}, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
