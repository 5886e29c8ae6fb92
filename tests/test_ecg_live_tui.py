"""The dashboard's ECG strip, beat-label counts and chest breathing on the simulated H10 (issue 18,
item 4 live): shown only when the strap streams ECG; the UI draws what the pipeline sent."""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

import numpy as np
import pytest

from biofeedback.live.clock import SessionClock
from biofeedback.live.messages import EcgProcessed, PipelineEvent, SessionFinished
from biofeedback.live.pipeline import LivePipeline
from biofeedback.live.recorder import SessionMeta
from biofeedback.tui.app import BiofeedbackApp, make_app
from biofeedback.tui.widgets import BrailleChart
from devices.simulator import ArtifactRates, SimConfig, SimulatedStrap
from devices.simulator.h10 import SimulatedH10Source
from tests.test_tui_app import FakeSessions, panel_text, settle, settled
from tests.test_tui_support import FakePipeline, seeded_session


@cache
def h10_events(duration_s: float = 45.0) -> tuple[PipelineEvent, ...]:
    """What the live pipeline yields for 45 s of the simulated H10 (seeded: the same each run)."""
    config = SimConfig(duration_s=duration_s, seed=11, artifacts=ArtifactRates(ectopic=0.03))
    source = SimulatedH10Source(SimulatedStrap(config), speed=None)
    meta = SessionMeta(source="simulated", device={"name": "sim"})
    pipeline = LivePipeline(source, clock=SessionClock(speed=None, origin_s=0.0), meta=meta)

    async def run() -> list[PipelineEvent]:
        return [e async for e in pipeline.events() if not isinstance(e, SessionFinished)]

    return tuple(asyncio.run(run()))


@pytest.fixture
def events() -> tuple[PipelineEvent, ...]:
    return h10_events()  # outside the test's event loop


def h10_app(events: tuple[PipelineEvent, ...]) -> tuple[BiofeedbackApp, FakePipeline]:
    fake = FakePipeline(events)
    return make_app(fake, sessions=FakeSessions(), title="snapshot"), fake


async def test_the_ecg_strip_shows_the_last_5_s_with_the_beats_found(
    events: tuple[PipelineEvent, ...],
) -> None:
    app, fake = h10_app(events)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, fake)
        strip = app.screen.query_one("#ecg", BrailleChart)
        assert strip.display
        data = strip.data
        assert data is not None
        assert data.x_range[1] - data.x_range[0] == 5.0
        # The beats marked are the ones the pipeline reported in those 5 s.
        reported = [b.t_s for e in events if isinstance(e, EcgProcessed) for b in e.beats]
        shown = [t for t in reported if t >= data.x_range[0]]
        np.testing.assert_allclose(data.marks, shown)
        assert 3 <= len(data.marks) <= 8
        quality = panel_text(app, "#quality")
        assert "ECG beats: N " in quality
        assert "ECG breathing" in quality
        estimates = panel_text(app, "#estimates")
        assert "chest " in estimates
        assert "/min" in estimates
        assert strip.region.height == 7


async def test_a_strap_without_ecg_has_no_strip() -> None:
    fake = FakePipeline(seeded_session(140.0))
    app = make_app(fake, sessions=FakeSessions(), title="t")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, fake)
        assert not app.screen.query_one("#ecg", BrailleChart).display
        assert "ECG" not in panel_text(app, "#quality")
        assert "chest" not in panel_text(app, "#estimates")


def test_monitor_with_the_ecg_strip_at_120x40(
    snap_compare: Any, events: tuple[PipelineEvent, ...]
) -> None:
    app, fake = h10_app(events)
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled(fake))


def test_monitor_with_the_ecg_strip_at_80x24(
    snap_compare: Any, events: tuple[PipelineEvent, ...]
) -> None:
    app, fake = h10_app(events)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled(fake))


def test_the_strip_keeps_6_s_and_breaks_where_the_pmd_segment_changes() -> None:
    from biofeedback.tui.model import DashboardModel

    model = DashboardModel()
    for k in range(20):  # 20 frames of 73 samples (11 s); the PMD segment changes at frame 15
        t = (k * 73 + np.arange(73)) / 130.0
        segment = 0 if k < 15 else 1
        model.apply(EcgProcessed(float(t[-1]), t, np.zeros(73, np.int32), segment, (), ()))
    assert model.ecg is not None
    assert len(model.ecg.t_s) <= 6 * 130 + 73
    t, uv, beats = model.ecg.strip(5.0)
    assert t[-1] - t[0] <= 5.0
    assert np.isnan(uv).sum() == 1  # one break, at the first sample of segment 1
    assert t[np.flatnonzero(np.isnan(uv))[0]] == pytest.approx(15 * 73 / 130.0)
    assert beats.size == 0
