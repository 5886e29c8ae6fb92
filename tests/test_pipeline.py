"""The live pipeline end to end on the simulated strap, as fast as possible, into a real store."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np

from biofeedback.live.replay import ReplaySource
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
