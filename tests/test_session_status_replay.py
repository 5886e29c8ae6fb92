"""Per-session summaries after the record key, and replays that keep the recording's order."""

from __future__ import annotations

import asyncio
import io
import json
from contextlib import aclosing
from pathlib import Path

import pytest

from biofeedback.errors import InputError
from biofeedback.live.headless_session import run_headless
from biofeedback.live.messages import SegmentStarted, SnapshotComputed
from biofeedback.live.session_builder import SessionOptions, build_session
from biofeedback.live.sources import SourceOptions
from biofeedback.live.summary import summary_lines
from biofeedback.sessions.store import SessionStore

RANDOMISED = """
name = "shuffled"
settling_s = 10
baseline_s = 20
washout_s = 10
order = "randomised"

[[block]]
label = "tapping"
duration_s = 20

[[block]]
label = "whispering"
duration_s = 20

[[block]]
label = "crinkling"
duration_s = 20

[[block]]
label = "brushing"
duration_s = 20
"""


def _options(db: Path, protocol: str, *, fast: bool = True, **source: object) -> SessionOptions:
    return SessionOptions(
        source=SourceOptions(**source),  # type: ignore[arg-type]
        protocol=protocol,
        player="none",
        db=db,
        fast=fast,
    )


@pytest.mark.slow  # the quick protocol in real time at 100x: 2.4 s
def test_the_record_key_gives_each_session_its_own_summary(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    # In real time (sped up): as fast as possible, the source would run ahead of the keys.
    # At 40x the 60-s tapping block lasts 1.5 s of wall time; the keys come 3 and 8 beats into
    # it (about 0.2 s), so a loaded machine's lag cannot push "r on" past the block's end.
    pipeline = build_session(_options(db, "quick", fast=False, simulate="sim", seed=2, speed=40.0))

    async def drive() -> None:
        in_tapping = -1
        async with aclosing(pipeline.events()) as events:
            async for event in events:
                if isinstance(event, SegmentStarted):
                    in_tapping = 0 if event.label == "tapping" else -1
                elif isinstance(event, SnapshotComputed) and in_tapping >= 0:
                    in_tapping += 1
                    if in_tapping == 3 and pipeline.recording:
                        await pipeline.stop_recording()  # r off
                    if in_tapping == 8 and not pipeline.recording:
                        await pipeline.start_recording()  # r on

    asyncio.run(drive())
    first, second = pipeline.summaries
    assert (first["session_id"], first["status"]) == (1, "stopped")
    assert (second["session_id"], second["status"]) == (2, "complete")
    assert [s["label"] for s in first["segments"]] == ["settling", "baseline", "tapping"]
    assert first["segments"][-1]["complete"] is False
    assert [s["label"] for s in second["segments"]] == ["tapping", "washout", "whispering"]
    assert pipeline.last_summary == second
    lines = summary_lines(pipeline.last_summary)
    assert lines[0].startswith("session 2: complete")
    segment_rows = [line.split()[0] for line in lines[2 : 2 + len(second["segments"])]]
    assert segment_rows == ["tapping", "washout", "whispering"]
    # What each summary says matches what each session stored.
    with SessionStore(db) as store:
        rows = store.list_sessions()
        assert [r.status for r in rows] == ["stopped", "complete"]
        for row, summary in zip(rows, pipeline.summaries, strict=True):
            stored = store.load_bundle(row.id)
            assert [s["label"] for s in stored.segments] == [
                s["label"] for s in summary["segments"]
            ]
            assert row.beat_count == summary["beats"]


def _record_and_export(tmp_path: Path, protocol: Path) -> tuple[Path, dict[str, object]]:
    db = tmp_path / "original.db"
    pipeline = build_session(_options(db, str(protocol), simulate="sim", seed=6))
    asyncio.run(run_headless(pipeline, io.StringIO(), duration_s=None, as_json=True, ask=None))
    with SessionStore(db) as store:
        bundle = store.load_bundle(store.list_sessions()[0].id)
    path = tmp_path / "original.json"
    path.write_text(json.dumps(bundle.to_json()))
    return path, bundle.session


def test_a_replay_through_a_randomised_protocol_keeps_the_recorded_order(tmp_path: Path) -> None:
    protocol = tmp_path / "shuffled.toml"
    protocol.write_text(RANDOMISED)
    path, original = _record_and_export(tmp_path, protocol)
    with SessionStore(tmp_path / "original.db") as store:
        recorded = store.load_bundle(1).segments
    db = tmp_path / "replayed.db"
    pipeline = build_session(_options(db, str(protocol), replay=str(path)))
    asyncio.run(run_headless(pipeline, io.StringIO(), duration_s=None, as_json=True, ask=None))
    with SessionStore(db) as store:
        (row,) = store.list_sessions()
        replayed = store.load_bundle(row.id)
    assert replayed.session["order_used"] == original["order_used"]
    assert [s["label"] for s in replayed.segments] == [s["label"] for s in recorded]
    # Each block's beats are the same beats, under the same label, at the same times.
    shift = recorded[0]["start_s"] - replayed.segments[0]["start_s"]
    for got, want in zip(replayed.segments, recorded, strict=True):
        assert got["start_s"] + shift == pytest.approx(want["start_s"], abs=1.5)


def test_a_replay_through_a_protocol_with_other_blocks_is_refused(tmp_path: Path) -> None:
    protocol = tmp_path / "shuffled.toml"
    protocol.write_text(RANDOMISED)
    path, _ = _record_and_export(tmp_path, protocol)
    with pytest.raises(InputError, match="replay it with the protocol it was recorded with"):
        build_session(_options(tmp_path / "other.db", "quick", replay=str(path)))
