"""Calibration of the block-so-far interval on simulated sessions (the bench runs the full table).

Units are blocks (block-seconds of one block are correlated). With ``n`` blocks and a true rate
``p`` the binomial SD is ``√(p(1 − p)/n)``; the tolerances below are 3 SDs:
- coverage (goal 93-97 %): 32 blocks, p = 0.95, SD 3.85 % → at least 83.4 %;
- a null block called changed at its end (goal ≤ 5 %), quiet person (no settling, drift or
  vagal noise, so the true change is 0): 32 blocks, SD 3.85 % → at most 16.6 %.
"""

from __future__ import annotations

import numpy as np

from tests.block_estimate_support import profile_with, run_session

N_SESSIONS = 16  # two blocks each


def _blocks(name: str, effect: float, quiet: bool) -> list:
    return [
        b
        for seed in range(N_SESSIONS)
        for b in run_session(profile_with(name, effect, quiet), seed)
    ]


def test_the_interval_covers_the_true_change_of_the_realistic_person() -> None:
    blocks = _blocks("responder", 0.2, quiet=False)
    per_block = np.array([b.covered().mean() for b in blocks if b.covered().size])
    assert per_block.size >= 28
    assert per_block.mean() >= 0.834
    finals = [b for b in blocks if b.final is not None and b.final.ln_rmssd.low is not None]
    hits = [b.final.ln_rmssd.low <= b.final_truth <= b.final.ln_rmssd.high for b in finals]
    assert np.mean(hits) >= 0.834


def test_a_null_block_is_rarely_called_changed() -> None:
    blocks = _blocks("responder", 0.0, quiet=True)
    called = [b.final.ln_rmssd.excludes_zero for b in blocks if b.final is not None]
    assert len(called) >= 28
    assert np.mean(called) <= 0.166
