"""The live pipeline end to end on the simulated strap, as fast as possible, into a real store."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from biofeedback.live.replay import ReplaySource
from biofeedback.live.session_builder import SessionOptions, build_session
from biofeedback.live.sources import SourceOptions
from biofeedback.sessions.store import SessionStore
from devices.events import Beat
from devices.source import with_beats
from tests.recording_support import record_simulated


def record(db: Path, *, duration_s: float | None = None, seed: int = 1) -> dict[str, Any]:
    return record_simulated(db, seed=seed, protocol="quick", duration_s=duration_s)


def test_a_whole_protocol_is_recorded_with_segments_truth_and_settings(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    summary = record(db)
    assert summary["status"] == "complete"
    labels = [s["label"] for s in summary["segments"]]  # type: ignore[index]
    assert labels == ["settling", "baseline", "tapping", "washout", "whispering"]
    with SessionStore(db) as store:
        (row,) = store.list_sessions()
        bundle = store.load_bundle(row.id)
    assert row.status == "complete"
    assert row.protocol == "quick"
    stored = [(s["label"], s["start_s"], s["end_s"], s["complete"]) for s in bundle.segments]
    assert stored == [
        ("settling", 0.0, 30.0, True),
        ("baseline", 30.0, 90.0, True),
        ("tapping", 90.0, 150.0, True),
        ("washout", 150.0, 180.0, True),
        ("whispering", 180.0, 240.0, True),
    ]
    assert bundle.settings["window_s"] == 60.0
    assert bundle.truth is not None
    # Every delivered ground-truth beat is stored, exactly.
    sent = np.asarray(bundle.truth["detections"]["rr_sent_ms"])
    delivered = np.asarray(bundle.truth["detections"]["sent_packet_index"]) >= 0
    np.testing.assert_array_equal(np.asarray(bundle.beats["rr_ms"]), sent[delivered])
    assert len(bundle.packets["hex"]) >= 240


def test_stopping_early_closes_the_open_segment_as_incomplete(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    summary = record(db, duration_s=100.0)
    segments = summary["segments"]
    assert [s["label"] for s in segments] == ["settling", "baseline", "tapping"]  # type: ignore[index]
    assert segments[-1]["complete"] is False  # type: ignore[index]
    with SessionStore(db) as store:
        bundle = store.load_bundle(store.list_sessions()[0].id)
    assert bundle.segments[-1]["complete"] is False


def test_replaying_a_recorded_session_gives_back_its_beats(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    record(db, duration_s=200.0)
    with SessionStore(db) as store:
        bundle = store.load_bundle(store.list_sessions()[0].id)

    async def replay() -> list[Beat]:
        source = ReplaySource(bundle, speed=None)
        return [e async for e in with_beats(source) if isinstance(e, Beat)]

    beats = asyncio.run(replay())
    assert [b.rr_ms for b in beats] == bundle.beats["rr_ms"]
    original = np.asarray(bundle.beats["t_s"])
    shifted = np.asarray([b.t_s for b in beats]) + bundle.packets["t_s"][0]
    np.testing.assert_allclose(shifted, original, atol=1e-9)


@pytest.mark.slow  # the quick protocol in real time at 100x: 2.4 s
def test_recording_started_and_stopped_mid_block_keeps_segments_closed(tmp_path: Path) -> None:
    from contextlib import aclosing

    from biofeedback.live.messages import SegmentStarted, SnapshotComputed

    db = tmp_path / "s.db"
    opts = SessionOptions(
        source=SourceOptions(simulate="sim", seed=2, speed=100.0),
        protocol="quick",
        player="none",
        db=db,
        record=False,
    )
    pipeline = build_session(opts)
    marks: dict[str, float] = {}

    async def drive() -> None:
        snapshots_in_tapping = 0
        async with aclosing(pipeline.events()) as events:
            async for event in events:
                if isinstance(event, SegmentStarted) and event.label == "tapping":
                    marks["tapping"] = event.t_s
                    snapshots_in_tapping = 0
                elif isinstance(event, SnapshotComputed) and "tapping" in marks:
                    snapshots_in_tapping += 1
                    if snapshots_in_tapping == 10 and not pipeline.recording:
                        marks["start_before"] = pipeline.clock.now()
                        await pipeline.start_recording()
                        marks["start_after"] = pipeline.clock.now()
                    if snapshots_in_tapping == 30 and pipeline.recording:
                        marks["stop_before"] = pipeline.clock.now()
                        await pipeline.stop_recording()
                        marks["stop_after"] = pipeline.clock.now()

    asyncio.run(drive())
    with SessionStore(db) as store:
        (row,) = store.list_sessions()
        bundle = store.load_bundle(row.id)
    (segment,) = bundle.segments
    assert segment["label"] == "tapping"
    # The block running when recording began is stored from that moment, and closed (as
    # incomplete) when recording stopped.
    assert marks["start_before"] <= segment["start_s"] <= marks["start_after"]
    assert marks["stop_before"] <= segment["end_s"] <= marks["stop_after"]
    assert segment["complete"] is False
    assert marks["tapping"] < segment["start_s"] < segment["end_s"]
    assert 15 <= row.beat_count <= 25


@pytest.mark.slow  # the quick protocol in real time at 100x: 2.4 s
def test_manual_marks_are_stored_as_the_same_playback_markers_as_mpv(tmp_path: Path) -> None:
    from contextlib import aclosing

    from biofeedback.live.messages import SegmentStarted, SnapshotComputed

    db = tmp_path / "s.db"
    opts = SessionOptions(
        source=SourceOptions(simulate="sim", seed=3, speed=100.0),
        protocol="quick",
        player="manual",
        db=db,
    )
    pipeline = build_session(opts)

    async def drive() -> None:
        in_tapping = -1
        async with aclosing(pipeline.events()) as events:
            async for event in events:
                if isinstance(event, SegmentStarted):
                    in_tapping = 0 if event.label == "tapping" else -1
                elif isinstance(event, SnapshotComputed) and in_tapping >= 0:
                    in_tapping += 1
                    if in_tapping == 3:
                        await pipeline.mark_trigger_start()
                        await pipeline.mark_tingle()
                    if in_tapping == 20:
                        await pipeline.mark_trigger_stop()

    asyncio.run(drive())
    with SessionStore(db) as store:
        bundle = store.load_bundle(store.list_sessions()[0].id)
    marks = [(m["kind"], m.get("label"), m.get("value")) for m in bundle.markers]
    assert ("playback", "started", "tapping") in marks
    assert ("playback", "ended:stopped", "tapping") in marks
    assert ("tingle", "key", None) in marks
    (tapping,) = [s for s in bundle.segments if s["label"] == "tapping"]
    starts = [m["t_s"] for m in bundle.markers if m.get("label") == "started"]
    assert tapping["start_s"] < starts[0] < tapping["end_s"]


def test_a_stored_session_trend_replays_the_live_processor(tmp_path: Path) -> None:
    from biofeedback.live.session_trend import StoredSessions

    db = tmp_path / "s.db"
    record_simulated(db, seed=5)  # the default protocol: 60 s settling, 180 s baseline
    with SessionStore(db) as store:
        sessions = StoredSessions(store)
        (row,) = sessions.list_sessions()
        trend = sessions.trend(sessions.load_bundle(row.id))
    assert len(trend.t_s) > 30
    assert all(b - a >= 5.0 for a, b in zip(trend.t_s, trend.t_s[1:], strict=False))
    # No relaxation score before the baseline has ended (it is measured against it), then values.
    baseline_end = 240.0
    assert all(
        z is None for t, z in zip(trend.t_s, trend.relaxation, strict=True) if t < baseline_end
    )
    assert any(z is not None for z in trend.relaxation)
    assert any(v is not None for v in trend.ln_rmssd)
