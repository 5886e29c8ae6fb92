"""Calibration of the block-so-far interval on simulated sessions (the bench runs the full table).

The truth is the simulator's: the mean true vagal tone over the block's analysed batches minus
that over the baseline's (settling, drift and slow breathing move it, so a "null" block is
defined by its truth, not by its trigger). Sessions run without the once-a-second spectra
(``NO_SPECTRA``: the lnRMSSD estimate does not use them; a quarter of the cost).

Units are blocks (block-seconds of one block are correlated). With ``n`` blocks and a true rate
``p`` the binomial SD is ``√(p(1 − p)/n)``; the tolerances below are 3 SDs:
- coverage (goal 93-97 %), the realistic responder, and the tingles person whose trigger carries
  its tingles (HR bursts of ~6 bpm, 3/min: non-vagal successive differences that raise lnRMSSD;
  the block's own variance widens its lower bound): 60 blocks each, p = 0.95, SD 2.81 % → at
  least 86.6 % (at this scale the test cannot tell 95 % from 90 %; it guards against a
  collapse, the bench measures the level: 95.9 % for the tingles person with its tingles, 97.9 %
  for the responder with +0.2 ln ms, per block-second after the first minute);
- a null block called changed at its end (goal ≤ 5 %), the quiet person (no settling, drift,
  vagal noise or slow breathing, so the true change is exactly 0): 60 blocks, SD 2.81 % → at
  most 13.4 %.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.block_estimate_support import NO_SPECTRA, BlockTrace, profile_with, run_session

N_SESSIONS = 30  # two blocks each


def _blocks(name: str, effect: float, quiet: bool, tingles: bool = False) -> list[BlockTrace]:
    profile = profile_with(name, effect, quiet, tingles=tingles)
    return [
        b for seed in range(N_SESSIONS) for b in run_session(profile, seed, settings=NO_SPECTRA)
    ]


@pytest.mark.parametrize(
    ("name", "tingles"), [("responder", False), ("tingles", True)], ids=["responder", "tingles"]
)
def test_the_interval_covers_the_true_change_of_the_realistic_person(
    name: str, tingles: bool
) -> None:
    blocks = _blocks(name, 0.2 if name == "responder" else 0.0, quiet=False, tingles=tingles)
    per_block = np.array([b.covered().mean() for b in blocks if b.covered().size])
    assert per_block.size >= 56
    assert per_block.mean() >= 0.866
    finals = [b for b in blocks if b.final is not None and b.final.ln_rmssd.low is not None]
    hits = [b.final.ln_rmssd.low <= b.final_truth <= b.final.ln_rmssd.high for b in finals]  # type: ignore[union-attr,operator]
    assert np.mean(hits) >= 0.866


def test_a_null_block_is_rarely_called_changed() -> None:
    blocks = _blocks("responder", 0.0, quiet=True)
    assert all(abs(b.final_truth) < 1e-9 for b in blocks)  # truly null
    called = [b.final.ln_rmssd.excludes_zero for b in blocks if b.final is not None]
    assert len(called) >= 56
    assert np.mean(called) <= 0.134


def _half_widths(blocks: list[BlockTrace], elapsed_s: np.ndarray) -> np.ndarray:
    """(upper, lower) half-width of each block's interval at each block time (NaN after it)."""
    out = np.full((len(blocks), elapsed_s.size, 2), np.nan)
    for i, b in enumerate(blocks):
        e = np.asarray(b.elapsed_s)
        for j, k in enumerate(np.searchsorted(e, elapsed_s)):
            if k < e.size:
                out[i, j] = (b.high[k] - b.change[k], b.change[k] - b.low[k])
    return out


def test_the_interval_narrows_batch_by_batch_on_a_stationary_block() -> None:
    """The issue's "narrows monotonically on a stationary simulated block", as the expectation
    it is: one block's interval may widen when a batch is noisier than the ones before (its
    variance is re-estimated), but the median over blocks of the quiet person (constant vagal
    tone, no drift) narrows at every batch, each side. Before the block's own variance needed
    6 batches it widened the lower side at the third (here median 0.150 -> 0.155 ln ms; 0.130
    now). The realistic
    person's blocks are not stationary (drift, slow vagal noise, 6/min segments): theirs narrow
    from minute to minute."""
    batches = np.arange(61.0, 180.0, 15.0)  # just after each 15-s batch closes, from the onset
    quiet = _half_widths(_blocks("responder", 0.0, quiet=True), batches)
    for side in (0, 1):
        median = np.nanmedian(quiet[:, :, side], axis=0)
        assert np.all(np.diff(median) < 0), median
    realistic = _half_widths(_blocks("responder", 0.0, quiet=False), np.array([61.0, 121.0, 166.0]))
    median = np.nanmedian(realistic.sum(axis=2), axis=0)
    assert np.all(np.diff(median) < 0), median
