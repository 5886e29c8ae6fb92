"""The beat timeline against the simulator's ground truth (latency, outages, malformed bursts)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from biofeedback.live.simulation import Recording, record_simulation
from biofeedback.live.sources import SourceOptions


def simulate(**kw: object) -> Recording:
    opts = SourceOptions(simulate="sim", segments="baseline:1200", duration_s=1200.0, **kw)  # type: ignore[arg-type]
    return asyncio.run(record_simulation(opts))


def delivered(rec: Recording) -> tuple[np.ndarray, np.ndarray]:
    truth = rec.truth
    mask = truth.delivered
    return truth.sent_t_s[mask], truth.rr_sent_ms[mask]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rebuilt_beat_times_match_truth_within_10ms_with_latency(seed: int) -> None:
    rec = simulate(seed=seed, latency_s=4.0)
    true_t, true_rr = delivered(rec)
    t = np.array([b.t_s for b in rec.beats])
    rr = np.array([b.rr_ms for b in rec.beats])
    assert len(t) == len(true_t)
    np.testing.assert_array_equal(rr, true_rr)
    assert {b.segment for b in rec.beats} == {0}
    offset = t - true_t
    # One segment, one anchor: the offset is the first packet's delivery latency (0-4 s) and
    # everything after it is exact to the strap's clock.
    assert -0.01 <= np.median(offset) <= 4.0 + 1.0
    assert np.max(np.abs(offset - np.median(offset))) <= 0.010


def test_each_outage_is_exactly_one_gap_and_no_beat_outside_is_lost() -> None:
    rec = simulate(seed=5, artifacts="disconnects_per_h=10", latency_s=1.0)
    outages = rec.truth.outages_s
    assert len(outages) >= 3
    segments = [b.segment for b in rec.beats]
    # Each outage ends one continuity segment and starts the next.
    assert len(set(segments)) == len(outages) + 1
    assert segments == sorted(segments)
    _, true_rr = delivered(rec)
    np.testing.assert_array_equal([b.rr_ms for b in rec.beats], true_rr)


def test_malformed_packets_are_skipped_and_good_beats_kept() -> None:
    rec = simulate(seed=7, artifacts="malformed=0.05")
    assert sum(rec.truth.packet_malformed) > 20
    _, true_rr = delivered(rec)
    np.testing.assert_array_equal([b.rr_ms for b in rec.beats], true_rr)
