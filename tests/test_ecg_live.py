"""ECG and ACC in the live pipeline (issue 18, items 3-4): the online stage on the simulated H10,
the in-process H10 source, and the pipeline's messages; a strap without PMD has none."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from biofeedback.ecg.labels import BeatClass
from biofeedback.ecg.online import Breathing, EcgStage, LiveBeat
from biofeedback.ecg.scoring import match_beats
from biofeedback.live.clock import SessionClock
from biofeedback.live.messages import (
    BreathingEstimated,
    EcgProcessed,
    Notice,
    PipelineEvent,
    SessionFinished,
)
from biofeedback.live.pipeline import LivePipeline
from biofeedback.live.recorder import SessionMeta
from biofeedback.live.session_builder import SessionOptions, build_session
from biofeedback.live.sources import SourceOptions
from devices.events import Beat
from devices.pmd_stream import AccSamples, EcgSamples, PmdGap
from devices.simulator import ArtifactRates, SimConfig, SimulatedSource, SimulatedStrap
from devices.simulator.h10 import ECG_PER_FRAME, SimulatedH10Source
from devices.source import HeartRateSource

ECG_FS = 130


def h10(duration_s: float, seed: int = 3, **artifacts: float) -> SimulatedH10Source:
    config = SimConfig(duration_s=duration_s, seed=seed, artifacts=ArtifactRates(**artifacts))
    return SimulatedH10Source(SimulatedStrap(config), speed=None)


async def waveforms(source: SimulatedH10Source) -> list[object]:
    return [e async for e in source.waveforms()]


def feed(events: list[object]) -> tuple[EcgStage, list[LiveBeat], list[Breathing]]:
    stage = EcgStage()
    beats: list[LiveBeat] = []
    breathing: list[Breathing] = []
    for e in events:
        if isinstance(e, EcgSamples):
            beats += stage.ecg(e.t_s, e.samples_uv, e.segment)
        elif isinstance(e, AccSamples) and (b := stage.acc(e.t_s, e.samples_mg, e.segment)):
            breathing.append(b)
    return stage, beats, breathing


def test_the_h10_streams_the_simulated_waveforms_in_frames_on_the_session_clock() -> None:
    source = h10(40.0)
    events = asyncio.run(waveforms(source))
    ecg = [e for e in events if isinstance(e, EcgSamples)]
    assert {len(e.t_s) for e in ecg} == {ECG_PER_FRAME}
    t = np.concatenate([e.t_s for e in ecg])
    x = np.concatenate([e.samples_uv for e in ecg])
    assert source.ecg is not None
    np.testing.assert_array_equal(x, source.ecg.samples_uv[: len(x)])
    np.testing.assert_allclose(t, np.arange(len(t)) / ECG_FS, atol=1e-6)
    acc = [e for e in events if isinstance(e, AccSamples)]
    assert acc
    assert acc[0].samples_mg.shape[1] == 3
    # Frames come in time order of their last sample.
    ends = [float(e.t_s[-1]) for e in events if isinstance(e, EcgSamples | AccSamples)]
    assert ends == sorted(ends)


def test_a_link_outage_is_a_gap_in_the_pmd_streams_too() -> None:
    source = h10(120.0, seed=4, disconnects_per_h=90.0)
    events = asyncio.run(waveforms(source))
    gaps = [e for e in events if isinstance(e, PmdGap)]
    assert gaps, "the seed was chosen to have an outage"
    segments = {e.segment for e in events if isinstance(e, EcgSamples)}
    assert len(segments) > 1
    _, beats, _ = feed(events)
    assert {b.segment for b in beats} == segments
    # No interval spans the gap: the first beat of each segment has none.
    firsts = [b for i, b in enumerate(beats) if i == 0 or beats[i - 1].segment != b.segment]
    assert all(b.rr_ms is None for b in firsts)


def test_online_beats_are_the_simulated_beats_within_one_sample_with_their_latency() -> None:
    source = h10(90.0, ectopic=0.03)
    events = asyncio.run(waveforms(source))
    stage, beats, breathing = feed(events)
    assert source.ecg is not None
    t = np.array([b.t_s for b in beats])
    last = float(events[-1].t_s[-1])  # type: ignore[attr-defined]
    truth = source.ecg.r_peak_t_s[source.ecg.r_peak_t_s < last - 1.0]
    match = match_beats(truth, t[t < last - 1.0], window_s=1.0 / ECG_FS)
    assert (match.fn, match.fp) == (0, 0)
    assert np.max(np.abs(match.error_s)) < 1.0 / ECG_FS
    # RR at millisecond precision from the ECG's own beats.
    rr = np.array([b.rr_ms for b in beats[1:]])
    np.testing.assert_allclose(rr, 1000 * np.diff(t), atol=1e-9)
    # Latency on the sample clock: the lookahead, plus at most one frame's wait (after the
    # detector's first 2 s, which it needs before its first decision).
    lat = np.array([b.latency_s for b in beats if b.t_s > 2.5])
    assert lat.min() >= stage.lookahead_s - 1.0 / ECG_FS
    assert lat.max() <= stage.lookahead_s + ECG_PER_FRAME / ECG_FS + 1e-6
    # Labels by shape: the simulated ventricular beats are called ventricular.
    v_true = source.ecg.r_peak_t_s[source.ecg.ventricular]
    v_found = t[[b.label == BeatClass.VENTRICULAR for b in beats]]
    assert len(v_true) >= 2
    assert match_beats(v_true, v_found, window_s=0.05).tp >= len(v_true) - 1
    counts = stage.label_counts
    assert sum(counts.values()) == len(beats) == stage.beats_total
    # Chest breathing from ACC within 1/min of the truth, with an uncertainty.
    chest, edr = breathing[-1].chest, breathing[-1].edr
    assert chest is not None
    assert edr is not None
    truth_rate = 60 * float(np.mean(source.waveform_truth.breathing_rate_hz[-80:]))
    assert chest.rate_per_min == pytest.approx(truth_rate, abs=1.0)
    assert 0 < chest.se_per_min < 1.0


async def collect(pipeline: LivePipeline) -> list[PipelineEvent]:
    return [e async for e in pipeline.events()]


def pipeline_for(source: HeartRateSource) -> LivePipeline:
    meta = SessionMeta(source="simulated", device={"name": "sim"})
    return LivePipeline(source, clock=SessionClock(speed=None, origin_s=0.0), meta=meta)


def test_the_pipeline_yields_ecg_and_breathing_messages_for_an_h10() -> None:
    events = asyncio.run(collect(pipeline_for(h10(75.0))))
    ecg = [e for e in events if isinstance(e, EcgProcessed)]
    assert sum(len(e.beats) for e in ecg) > 60
    assert dict(ecg[-1].label_counts)[BeatClass.NORMAL] > 50
    breathing = [e for e in events if isinstance(e, BreathingEstimated)]
    assert breathing
    assert breathing[-1].chest is not None
    # The raw sample events stay inside the pipeline.
    assert not any(isinstance(e, EcgSamples | AccSamples) for e in events)


def test_a_strap_without_pmd_behaves_as_before() -> None:
    config = SimConfig(duration_s=30.0, seed=3)
    plain = asyncio.run(collect(pipeline_for(SimulatedSource(SimulatedStrap(config), speed=None))))
    assert not any(isinstance(e, EcgProcessed | BreathingEstimated) for e in plain)
    with_h10 = asyncio.run(collect(pipeline_for(h10(30.0))))
    rest = [e for e in with_h10 if not isinstance(e, EcgProcessed | BreathingEstimated)]
    # The same heart-rate events (the H10's name aside).
    assert [type(e) for e in rest] == [type(e) for e in plain]


def test_the_demo_strap_is_an_h10(tmp_path: Path) -> None:
    src = SourceOptions(simulate="sim", duration_s=5.0, strap="h10")
    opts = SessionOptions(src, protocol=None, db=tmp_path / "s.db", fast=True)
    assert isinstance(build_session(opts).source, SimulatedH10Source)
    plain = build_session(replace(opts, source=replace(src, strap="hr")))
    assert isinstance(plain.source, SimulatedSource)


def test_demo_simulates_an_h10_unless_told_otherwise() -> None:
    from biofeedback.cli.main import build_parser
    from biofeedback.cli.options import source_options

    parser = build_parser()
    assert source_options(parser.parse_args(["demo"])).strap == "h10"
    assert source_options(parser.parse_args(["demo", "--strap", "hr"])).strap == "hr"
    assert source_options(parser.parse_args(["record", "--simulate"])).strap == "hr"


class BrokenWaveforms(SimulatedH10Source):
    """An H10 whose ECG stream fails after a few frames (a bug, a decoding error)."""

    async def waveforms(self):  # type: ignore[no-untyped-def,override]
        n = 0
        async for event in super().waveforms():
            n += 1
            if n > 20:
                raise RuntimeError("bad frame")
            yield event


def test_a_failing_ecg_stream_is_a_notice_and_the_rrs_go_on() -> None:
    config = SimConfig(duration_s=30.0, seed=3)
    events = asyncio.run(collect(pipeline_for(BrokenWaveforms(SimulatedStrap(config), speed=None))))
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert notices == ["ECG stopped (RuntimeError: bad frame)"]
    assert sum(isinstance(e, Beat) for e in events) > 25
    assert isinstance(events[-1], SessionFinished)
    assert events[-1].summary["status"] == "complete"
