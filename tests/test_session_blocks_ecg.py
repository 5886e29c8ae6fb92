"""A Polar H10 session's blocks, recomputed from the store, are the live summary's (issue 15
item 3, issue 18 item 3): live, the strap's intervals took the ECG's beat shapes first; the
replay behind ``show ID --json`` and the report asks the stored ECG the same question
(biofeedback/ecg/replay.py), so ectopic beats that RR timing alone misses are handled alike."""

from __future__ import annotations

import asyncio
import functools

import numpy as np
import pytest

from biofeedback.analysis.session_blocks import session_blocks
from biofeedback.ecg.matching import StrapShapes
from biofeedback.hrv.block_estimate import block_record
from biofeedback.hrv.processor import HrvProcessor
from biofeedback.live.clock import SessionClock
from biofeedback.live.messages import EcgProcessed
from biofeedback.live.pipeline import LivePipeline
from biofeedback.live.recorder import SessionMeta
from biofeedback.sessions.bundle import SessionBundle
from biofeedback.sessions.store_waves import ENCODING, Chunk, encode
from devices.events import Beat
from devices.simulator import ArtifactRates, SimConfig, SimulatedStrap
from devices.simulator.h10 import SimulatedH10Source

SEGMENTS = (("settling", "settling", 0.0, 30.0), ("baseline", "baseline", 30.0, 180.0),
            ("whispering", "trigger", 180.0, 330.0))  # fmt: skip
KEYS = ("change", "low", "high", "n_beats", "artifact_share", "reason")
pytestmark = pytest.mark.xdist_group("tests.test_session_blocks_ecg._events")
"""One worker for the module: its tests share the cached 330-s H10 session (about 5 s to make)."""


@functools.cache
def _events() -> tuple[list[Beat], list[EcgProcessed]]:
    config = SimConfig(duration_s=330.0, seed=5, artifacts=ArtifactRates(ectopic=0.04))
    source = SimulatedH10Source(SimulatedStrap(config), speed=None)
    meta = SessionMeta(source="simulated", device={"name": "sim"})
    pipeline = LivePipeline(source, clock=SessionClock(speed=None, origin_s=0.0), meta=meta)

    async def run() -> list[object]:
        return [e async for e in pipeline.events()]

    events = asyncio.run(run())
    beats = [e for e in events if isinstance(e, Beat)]
    return beats, [e for e in events if isinstance(e, EcgProcessed)]


def _live(beats: list[Beat], frames: list[EcgProcessed], *, ecg: bool) -> list[dict[str, object]]:
    """The live processor over the beats in the live order (each strap beat after the ECG of the
    next 2 s: in real time the ECG leads), segments applied as the pipeline does."""
    processor = HrvProcessor()
    shapes = StrapShapes()
    if ecg:
        processor.use_shapes(shapes)
    pending = [b for f in frames for b in f.beats]
    events = sorted([(a, 1, kind, label) for label, kind, a, _ in SEGMENTS]
                    + [(b, 0, "", "") for *_, b in SEGMENTS])  # fmt: skip
    k = 0
    for beat in beats:
        while k < len(events) and events[k][0] <= beat.t_s:
            at, starts, kind, label = events[k]
            if starts:
                processor.begin_segment(kind, label, at)
            else:
                processor.end_segment(at)
            k += 1
        shapes.add([b for b in pending if b.t_s <= beat.t_s + 2.0])
        pending = [b for b in pending if b.t_s > beat.t_s + 2.0]
        processor.push(beat)
    for at, starts, kind, label in events[k:]:
        if starts:
            processor.begin_segment(kind, label, at)
        else:
            processor.end_segment(at)
    assert not ecg or shapes.matched >= 0.9 * len(beats)
    return [block_record(e, "ln_rmssd") for e in processor.finish()]


def _bundle(beats: list[Beat], frames: list[EcgProcessed], *, ecg: bool) -> SessionBundle:
    waveforms = []
    if ecg:
        t = np.concatenate([f.samples_t_s for f in frames])
        uv = np.concatenate([f.samples_uv for f in frames]).astype(np.int64)
        for lo in range(0, t.size, 7800):  # the recorder's chunks, each with its fitted rate
            part, times = uv[lo : lo + 7800, None], t[lo : lo + 7800]
            fs = (times.size - 1) / (times[-1] - times[0])
            chunk = Chunk("ecg", 0, float(t[lo]), fs, part.shape[0], 1, ENCODING, encode(part))
            waveforms.append(chunk.to_json())
    segments = [{"label": label, "kind": kind, "start_s": a, "end_s": b}
                for label, kind, a, b in SEGMENTS]  # fmt: skip
    columns = {
        "t_s": [b.t_s for b in beats],
        "rr_ms": [b.rr_ms for b in beats],
        "segment": [b.segment for b in beats],
        "flags": [0] * len(beats),
    }
    settings = {"correction": "automatic", **({"artifact_source": "ecg_shape"} if ecg else {})}
    return SessionBundle(session={}, device={}, segments=segments, beats=columns,
                         settings=settings, waveforms=waveforms)  # fmt: skip


def test_the_stored_ecg_gives_the_live_summarys_blocks() -> None:
    beats, frames = _events()
    live = _live(beats, frames, ecg=True)
    shown = session_blocks(_bundle(beats, frames, ecg=True))
    assert shown.replayed_with["artifact_source"] == "ecg_shape"
    matched = shown.replayed_with["ecg_intervals_matched"]
    assert isinstance(matched, int)
    assert matched >= 0.9 * len(beats)
    assert [b["label"] for b in shown.blocks] == ["whispering"]
    for a, b in zip(live, shown.blocks, strict=True):
        assert {k: a[k] for k in KEYS} == {k: b[k] for k in KEYS}
    # RR timing alone reads the same session differently (the ectopic beats it misses): the
    # replay without the ECG is the RR-only live run, not the one the person watched.
    rr_only = _live(beats, frames, ecg=False)
    without = session_blocks(_bundle(beats, frames, ecg=False))
    assert without.replayed_with["artifact_source"] == "rr"
    assert [b["change"] for b in without.blocks] == [b["change"] for b in rr_only]
    assert rr_only[0]["artifact_share"] != live[0]["artifact_share"]


def test_compare_takes_the_stored_ecgs_shapes_too() -> None:
    from biofeedback.analysis.load import bundle_responses
    from biofeedback.analysis.session_blocks import recorded_shapes
    from biofeedback.hrv.artifacts_shape import IntervalShape

    beats, frames = _events()
    with_ecg, rr_only = _bundle(beats, frames, ecg=True), _bundle(beats, frames, ecg=False)
    shapes = recorded_shapes(with_ecg)
    assert shapes.shape is not None
    assert shapes.matched >= 0.9 * len(beats)
    assert int((shapes.shape == IntervalShape.ECTOPIC).sum()) >= 10  # 4 % ectopy, two each
    assert recorded_shapes(rr_only).shape is None
    by_shape = bundle_responses(with_ecg, metrics=("lnrmssd",)).blocks[0]
    by_rr = bundle_responses(rr_only, metrics=("lnrmssd",)).blocks[0]
    assert by_shape.block.corrected_share > by_rr.block.corrected_share  # what RR timing missed


def test_a_segments_chunks_are_one_signal_whatever_their_fitted_rates() -> None:
    """The recorder fits each chunk's rate to the frames' times (130.0004 Hz, 129.9998 Hz, ...):
    a continuity segment is still one signal, searched once (not once per chunk and rate), and
    gives the beats and shapes a single rate gives."""
    from biofeedback.analysis.session_blocks import _ecg_beats, recorded_shapes

    beats, frames = _events()
    bundle = _bundle(beats, frames, ecg=True)
    one, one_beats = recorded_shapes(bundle), _ecg_beats(bundle)
    for k, record in enumerate(bundle.waveforms):
        record["fs_hz"] *= 1.0 + (-1) ** k * 2e-6
    fitted, fitted_beats = recorded_shapes(bundle), _ecg_beats(bundle)
    assert [b.label for b in fitted_beats] == [b.label for b in one_beats]
    assert max(abs(a.t_s - b.t_s) for a, b in zip(fitted_beats, one_beats, strict=True)) < 0.002
    assert fitted.shape is not None
    assert one.shape is not None
    assert (fitted.shape == one.shape).all()
