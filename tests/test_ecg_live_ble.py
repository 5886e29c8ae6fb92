"""The simulated H10 through the fake BlueZ and bleak into the live pipeline (issue 18, item 3
live): PMD started on the heart-rate connection, ECG beats and chest breathing as messages;
the same strap without PMD has none. Paced at 25x on a real dbus-daemon."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from biofeedback.live.clock import SessionClock
from biofeedback.live.messages import BreathingEstimated, EcgProcessed, PipelineEvent
from biofeedback.live.pipeline import LivePipeline
from biofeedback.live.recorder import SessionMeta
from devices.events import Beat, Disconnected
from devices.fake_bluez import SimulatedBleSource
from devices.simulator import ArtifactRates, SimConfig
from tests.ble_fixtures import HANG_GUARD_S

SPEED = 25.0


async def run(source: SimulatedBleSource, speed: float = SPEED) -> list[PipelineEvent]:
    meta = SessionMeta(source="simulated", device={"name": "sim"})
    pipeline = LivePipeline(source, clock=SessionClock(speed=speed, origin_s=0.0), meta=meta)
    async with asyncio.timeout(HANG_GUARD_S):
        return [e async for e in pipeline.events()]


@pytest.mark.xdist_group("realtime-dbus")  # paces a fake strap on a real bus
async def test_the_fake_h10_streams_ecg_beside_the_rrs_through_bleak() -> None:
    source = SimulatedBleSource(SimConfig(duration_s=36.0, seed=5), speed=SPEED, h10=True)
    events = await run(source)
    assert sum(isinstance(e, Beat) for e in events) > 30
    ecg = [e for e in events if isinstance(e, EcgProcessed)]
    assert len(ecg) > 40
    # The samples are the simulated ones, sample for sample, in 73-sample frames.
    assert source.pmd is not None
    got = np.concatenate([e.samples_uv for e in ecg])
    sent = source.pmd.ecg.samples_uv
    windows = np.lib.stride_tricks.sliding_window_view(sent, 20)
    start = int(np.flatnonzero((windows == got[:20]).all(axis=1))[0])
    np.testing.assert_array_equal(got[:1000], sent[start : start + 1000])
    # The beats found are the simulated R-peaks: each interval within a sample of the true
    # one (absolute times carry the sensor clock's offset, learnt from arrival times).
    t = np.array([b.t_s for e in ecg for b in e.beats])
    assert len(t) > 25
    offset = float(ecg[0].samples_t_s[0]) - start / 130.0
    truth = source.pmd.ecg.r_peak_t_s + offset
    nearest = np.abs(truth[:, None] - t[None, :]).argmin(axis=0)
    assert np.all(np.diff(nearest) == 1)  # one detection per true beat, none missed
    np.testing.assert_allclose(np.diff(t), np.diff(truth[nearest]), atol=1 / 130)
    assert any(isinstance(e, BreathingEstimated) and e.chest is not None for e in events)


@pytest.mark.xdist_group("realtime-dbus")
async def test_the_fake_strap_without_pmd_streams_rrs_only() -> None:
    source = SimulatedBleSource(SimConfig(duration_s=15.0, seed=5), speed=SPEED)
    events = await run(source)
    assert sum(isinstance(e, Beat) for e in events) > 8
    assert not any(isinstance(e, EcgProcessed | BreathingEstimated) for e in events)


@pytest.mark.xdist_group("realtime-dbus")
async def test_after_a_dropped_link_the_ecg_restarts_as_a_new_segment() -> None:
    # Seed 2 drops the link once, at 24 s, for about 12 s (the fake strap drops it; bleak
    # reconnects when it is back).
    rates = ArtifactRates(disconnects_per_h=150)
    config = SimConfig(duration_s=50.0, seed=2, artifacts=rates)
    # At 10x: the link is back at about 36 s, and the ECG restarts after real D-Bus round trips
    # (discovery, PMD settings, start); at 40x the 14 s left were 0.35 s of wall time, and on a
    # loaded machine (the suite at -n 8) the stream sometimes ended before the ECG was back.
    events = await run(SimulatedBleSource(config, speed=10.0, h10=True), speed=10.0)
    assert any(isinstance(e, Disconnected) for e in events)
    ecg = [e for e in events if isinstance(e, EcgProcessed)]
    segments = [e.segment for e in ecg]
    assert segments == sorted(segments)
    assert set(segments) == {0, 1}
    # The streams were started again on the new connection, and beats are found after it;
    # no interval spans the gap.
    after = [b for e in ecg if e.segment == 1 for b in e.beats]
    assert len(after) >= 3
    assert after[0].rr_ms is None
