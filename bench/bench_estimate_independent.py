"""Block-so-far estimate: calibration on sessions of an independent RR model (ECGSYN's RR process).

``bench/bench_estimate.py`` calibrates the interval on the project's own simulator. This bench
feeds it sessions of a differently built model (``bench/independent_rr.py``: McSharry et al.
2003's bimodal-spectrum, random-phase tachogram, beats stepped by the tachogram's value, plus a
drift and an Ornstein-Uhlenbeck term of the mean RR, white beat noise and 1/1024-s quantisation)
whose true lnRMSSD is known analytically at every beat. Sessions: settling 60 s, baseline 180 s,
two blocks of 180 s with a 60-s washout; every beat goes through ``HrvProcessor`` as live (without
the once-a-second spectra, which the lnRMSSD estimate does not use), measured by the same code as
the simulator's calibration (``tests/block_estimate_support._measure``).

Truth of a block: the mean per-beat true lnRMSSD over its analysed batches minus that over the
baseline's batches (the estimate's estimand). The nominal Δ sets the blocks' HF power; drift and
the OU term (and a change of breathing) move the truth a little on top (``true`` column).

A second pass per case (30 sessions, with the spectra) scores the block's breathing interval
against the model's breathing rate (the HF peak's centre, averaged over the block): the share
of blocks with a rate whose interval holds it, and how many blocks give a rate (``breath``).

Printed and stored per case: coverage of the 95 % interval over block-seconds after the first
minute of each block, and of the final interval of each block (goal 93-97 %; binomial SE over
blocks ``√(p(1-p)/n)``); median half-width at 2 min (ln ms); the baseline's 60-s lnRMSSD SD;
called changed at the end (for null cases the false-change rate); mean true change; the share
of blocks with the 6/min caveat; and the analytic truth's check against a Monte Carlo of the
observed d² (ln-ratio ×½, i.e. in ln ms). Writes bench/results/estimate_independent.json.
Measures; asserts nothing.

Usage: .venv/bin/python bench/bench_estimate_independent.py [--sessions N]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


from independent_rr import CASES, TYPICAL, Case, monte_carlo_check, run_session  # noqa: E402

from tests.block_estimate_support import NO_SPECTRA, BlockTrace  # noqa: E402

MC_SESSIONS = 800
MC_CASES = (TYPICAL, replace(TYPICAL, delta=0.3), CASES[8], CASES[11])
"""The cases whose analytic truth is checked against a Monte Carlo of the observed d²."""
KEYS = ("baseline", "blocks", "delta")


SEED_STRIDE = 100_000
"""Case ``i`` runs seeds ``i · SEED_STRIDE …``: independent sessions per case, so rows can be
pooled (the same seeds would repeat the same phases and nuisances with another Δ)."""


def blocks_of(case: Case, n: int, seed0: int = 0) -> list[BlockTrace]:
    return [
        b
        for seed in range(seed0, seed0 + n)
        for b in run_session(case.spec(seed), seed, settings=NO_SPECTRA)
    ]


BREATHING_SESSIONS = 30
"""Sessions per case of the breathing pass (with the once-a-second spectra: slower)."""


def breathing(case: Case, n: int, seed0: int) -> dict[str, object]:
    """How often the block's breathing interval holds the true mean rate (the HF peak's centre,
    the model's breathing), over the blocks that give one, and how many give one."""
    blocks = [b for seed in range(seed0, seed0 + n) for b in run_session(case.spec(seed), seed)]
    hits = [
        iv[0] <= b.breathing_truth_per_min <= iv[1]
        for b in blocks
        if b.final is not None and (iv := b.final.breathing_interval) is not None
    ]
    return {
        "breathing_blocks": len(blocks),
        "breathing_blocks_with_rate": len(hits),
        "breathing_coverage": float(np.mean(hits)) if hits else None,
    }


def summary(case: Case, blocks: list[BlockTrace]) -> dict[str, object]:
    per_second = [b.covered(60.0) for b in blocks]
    per_second = [c for c in per_second if c.size]
    after_first = float(np.concatenate(per_second).mean()) if per_second else math.nan
    per_block = np.array([c.mean() for c in per_second])
    finals = [b for b in blocks if b.final is not None and b.final.ln_rmssd.low is not None]
    fin = [b.final.ln_rmssd for b in finals]  # type: ignore[union-attr]
    hits = [c.low <= b.final_truth <= c.high for b, c in zip(finals, fin, strict=True)]  # type: ignore[operator]
    n_end = len(hits)
    end_cov = float(np.mean(hits)) if hits else math.nan
    hw = np.array([b.half_width_at(120.0) for b in blocks])
    err2 = np.array([b.error_at(120.0) for b in blocks])
    called = float(np.mean([c.excludes_zero for c in fin])) if fin else math.nan
    return {
        "case": case.name,
        "nominal_delta_ln_ms": case.delta,
        "blocks": len(blocks),
        "coverage_after_1_min": after_first,
        "coverage_after_1_min_per_block_se": float(
            per_block.std(ddof=1) / math.sqrt(per_block.size)
        )
        if per_block.size > 1
        else math.nan,
        "coverage_at_end": end_cov,
        "coverage_at_end_binomial_se": math.sqrt(end_cov * (1 - end_cov) / n_end)
        if n_end
        else math.nan,
        "half_width_2min_ln_ms": float(np.nanmedian(hw)),
        "oracle_half_width_2min_ln_ms": float(np.nanquantile(np.abs(err2), 0.95)),
        "baseline_sd_60s_ln_ms": float(np.nanmedian([b.baseline_sd_60s for b in blocks])),
        "called_changed_at_end": called,
        "mean_true_change_at_end": float(np.mean([b.final_truth for b in finals])),
        "sd_true_change_at_end": float(np.std([b.final_truth for b in finals])),
        "mean_error_at_end": float(
            np.mean([c.change - b.final_truth for b, c in zip(finals, fin, strict=True)])  # type: ignore[operator]
        ),
        "six_per_min_caveat_share": float(np.mean([c.caveat is not None for c in fin])),
        "ranges": {
            "hr_bpm": case.hr_bpm,
            "breathing_per_min": case.breathing_per_min,
            "block_breathing_shift_per_min": case.block_breathing_shift_per_min,
            "lf_hf_ratio": case.lf_hf_ratio,
            "ln_rmssd": case.ln_rmssd,
            "drift_ms_per_min_abs_max": case.drift_ms_per_min,
            "ou_sd_ms": case.ou_sd_ms,
            "noise_sd_ms": case.noise_sd_ms,
            "noise_df": case.noise_df,
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=100)
    args = parser.parse_args()
    n = args.sessions
    rows = []
    for i, case in enumerate(CASES):
        start = time.perf_counter()
        row = summary(case, blocks_of(case, n, seed0=SEED_STRIDE * i))
        row |= breathing(case, min(n, BREATHING_SESSIONS), SEED_STRIDE * i + n)
        row["seconds"] = time.perf_counter() - start
        rows.append(row)
    mc = {f"{c.name} {c.delta:+.1f}": monte_carlo_check(c, MC_SESSIONS) for c in MC_CASES}
    print(f"block-so-far estimate on the independent (ECGSYN-type) RR model, {n} sessions per case")
    print(
        f"{'case':<36} {'Δ':>5} {'blocks':>6} {'cov>1min':>8} {'cov end':>7} {'±SE':>5} "
        f"{'hw 2min':>7} {'oracle':>6} {'SD60':>5} {'chg end':>7} {'true':>6} {'err':>6} "
        f"{'6/min':>5} {'breath':>9}"
    )
    for r in rows:
        print(
            f"{r['case']:<36} {r['nominal_delta_ln_ms']:>+5.2f} {r['blocks']:>6} "
            f"{r['coverage_after_1_min']:>8.1%} {r['coverage_at_end']:>7.1%} "
            f"{r['coverage_at_end_binomial_se']:>5.1%} {r['half_width_2min_ln_ms']:>7.3f} "
            f"{r['oracle_half_width_2min_ln_ms']:>6.3f} {r['baseline_sd_60s_ln_ms']:>5.3f} "
            f"{r['called_changed_at_end']:>7.1%} {r['mean_true_change_at_end']:>+6.3f} "
            f"{r['mean_error_at_end']:>+6.3f} {r['six_per_min_caveat_share']:>5.1%} "
            f"{_breath(r):>9}"
        )
    print(f"analytic truth minus Monte Carlo of d² ({MC_SESSIONS} sessions, ln ms, ± SE):")
    for k, v in mc.items():
        print(
            f"  {k:<40} "
            + "  ".join(f"{key} {-v[key]:+.4f} ± {v[key + '_se']:.4f}" for key in KEYS)
        )
    out = ROOT / "bench" / "results" / "estimate_independent.json"
    doc = {
        "sessions": n,
        "model": "ECGSYN RR process (McSharry et al. 2003, IEEE TBME 50:289) + drift, OU, "
        "white noise, 1/1024-s quantisation; bench/independent_rr.py",
        "truth": "analytic per-beat E[d²] of the random-phase spectrum at the local mean RR",
        "cases": rows,
        "analytic_truth_minus_monte_carlo_ln_ms": {
            k: {kk: (vv if kk.endswith("_se") else -vv) for kk, vv in v.items()}
            for k, v in mc.items()
        },
    }
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


def _breath(r: dict[str, object]) -> str:
    """Breathing coverage and blocks with a rate, e.g. ``97% 51/60``."""
    cov = r["breathing_coverage"]
    shown = "-" if not isinstance(cov, float) else f"{100 * cov:.0f}%"
    return f"{shown} {r['breathing_blocks_with_rate']}/{r['breathing_blocks']}"


if __name__ == "__main__":
    sys.exit(main())
