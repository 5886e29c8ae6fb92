"""A simulated protocol recorded while a real mpv plays the trigger media (issue: sessions).

Scaled down to keep the suite short: 3-s media blocks instead of 3-min ones, in real time
(at --speed X mpv plays X times faster, so media seconds still equal session seconds).
"""

from __future__ import annotations

import asyncio
import shutil
from contextlib import aclosing
from pathlib import Path

import pytest

from biofeedback.live.messages import MarkerRecorded, SegmentEnded, SegmentStarted
from biofeedback.live.session_builder import SessionOptions, build_session
from biofeedback.live.sources import SourceOptions
from biofeedback.sessions.store import SessionStore
from tests.media_support import write_sine

pytestmark = [
    pytest.mark.skipif(shutil.which("mpv") is None, reason="mpv not installed"),
    pytest.mark.slow,  # a 20-s protocol with real mpv in real time
]

MEDIA_S = 3.0
SPEED = 1.0
PAUSE_S = 3.0  # seconds
MPV_STEP_S = 0.25


@pytest.fixture
def protocol(tmp_path: Path) -> Path:
    labels = ["whispering", "personal-attention", "tapping", "crinkling"]
    blocks = []
    for label in labels:
        write_sine(tmp_path / f"{label}.wav", MEDIA_S)
        blocks.append(
            f'[[block]]\nlabel = "{label}"\nmedia = "{label}.wav"\n'
            f'duration_s = "until-media-ends"\n'
        )
    path = tmp_path / "mpv.toml"
    path.write_text(
        'name = "mpv-test"\nsettling_s = 0\nbaseline_s = 2\nwashout_s = 1\norder = "fixed"\n\n'
        + "\n".join(blocks),
        encoding="utf-8",
    )
    return path


async def run_session(
    protocol: Path, db: Path
) -> tuple[list[object], list[tuple[float, float, float]]]:
    opts = SessionOptions(
        source=SourceOptions(simulate="sim", speed=SPEED, seed=3),
        protocol=str(protocol),
        player="mpv",
        db=db,
        silent_player=True,
    )
    pipeline = build_session(opts)
    seen: list[object] = []
    checks: list[tuple[float, float, float]] = []
    triggers_started = 0
    async with aclosing(pipeline.events()) as events:
        async for event in events:
            seen.append(event)
            if isinstance(event, SegmentStarted) and event.kind.value == "trigger":
                triggers_started += 1
            if (
                isinstance(event, MarkerRecorded)
                and event.label == "started"
                and triggers_started == 2
            ):
                # Compare mpv's own position with our clock, then pause for PAUSE_S.
                await asyncio.sleep(1.0)
                player = pipeline.player
                assert player is not None
                before_s = pipeline.clock.now() - event.t_s
                position = await player.get_property("playback-time")  # type: ignore[attr-defined]
                after_s = pipeline.clock.now() - event.t_s
                checks.append((float(position), before_s, after_s))
                await pipeline.toggle_pause()
                await asyncio.sleep(PAUSE_S / SPEED)
                await pipeline.toggle_pause()
    return seen, checks


def test_protocol_records_while_mpv_plays(protocol: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    seen, checks = asyncio.run(run_session(protocol, db))
    starts = [e for e in seen if isinstance(e, SegmentStarted)]
    ends = [e for e in seen if isinstance(e, SegmentEnded)]
    assert [s.label for s in starts] == [
        "baseline",
        "whispering",
        "washout",
        "personal-attention",
        "washout",
        "tapping",
        "washout",
        "crinkling",
    ]
    assert len(ends) == len(starts)
    # mpv's reported position agrees with the session clock within 100 ms, allowing for the
    # request's round trip (mpv answered between before and after) and for mpv updating its
    # playback-time in steps of about 0.25 s with the null audio output.
    ((position_s, before_s, after_s),) = checks
    assert before_s - MPV_STEP_S - 0.1 <= position_s <= after_s + 0.1
    triggers = [(s, e) for s, e in zip(starts, ends, strict=True) if s.kind.value == "trigger"]
    for _, end in triggers:
        assert end.complete
        assert end.played_s == pytest.approx(MEDIA_S, abs=0.1)
    paused_start, paused_end = triggers[1]
    span = paused_end.t_s - paused_start.t_s
    # The pause lengthens the block on the clock, not the time its media played.
    assert span - paused_end.played_s == pytest.approx(PAUSE_S, abs=0.15)
    for start, end in (triggers[0], triggers[2], triggers[3]):
        assert end.t_s - start.t_s == pytest.approx(MEDIA_S, abs=0.15)
    kinds = [(e.kind, e.label) for e in seen if isinstance(e, MarkerRecorded)]
    assert ("playback", "paused") in kinds
    assert ("playback", "resumed") in kinds

    with SessionStore(db) as store:
        (summary,) = store.list_sessions()
        bundle = store.load_bundle(summary.id)
    assert summary.status == "complete"
    stored = [(s["label"], s["start_s"], s["end_s"]) for s in bundle.segments]
    assert stored == [(s.label, s.t_s, e.t_s) for s, e in zip(starts, ends, strict=True)]
    assert {m["label"] for m in bundle.markers if m["kind"] == "playback"} >= {
        "started",
        "paused",
        "resumed",
        "ended:eof",
    }
    assert summary.duration_s is not None
    assert summary.beat_count >= 0.75 * summary.duration_s  # beats all along (>= 45/min)
