"""Blocks whose media never played are stored incomplete (issue 12, item 10): no player, mpv
missing or crashed in an earlier block, or a load that failed. They must not count as exposure."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from collections.abc import Sequence
from contextlib import aclosing
from pathlib import Path

import pytest

from biofeedback.live.messages import MarkerRecorded, Notice, SegmentEnded
from biofeedback.live.protocol_runner import DEFAULT_MEDIA_BLOCK_S, PlayerCommand, ProtocolRunner
from biofeedback.live.session_builder import SessionOptions, build_session
from biofeedback.live.sources import SourceOptions
from biofeedback.playback.events import Crashed, Ended, Started
from biofeedback.sessions.protocol import PlannedSegment
from biofeedback.sessions.store import SessionStore
from tests.media_support import write_sine

BASE = PlannedSegment("baseline", "baseline", None, None, 60.0)
MEDIA = PlannedSegment("tapping", "trigger", "repetitive sounds", "/m/tap.wav", None)
TIMED_MEDIA = PlannedSegment("brushing", "trigger", "touching", "/m/brush.wav", 40.0)
MANUAL = PlannedSegment("whispering", "trigger", "mouth sounds", "manual", 90.0)


def ends(outputs: Sequence[object]) -> list[tuple[str, float, bool, float | None]]:
    return [
        (o.label, o.t_s, o.complete, o.played_s) for o in outputs if isinstance(o, SegmentEnded)
    ]


def test_without_a_player_media_blocks_run_timed_and_end_incomplete() -> None:
    runner = ProtocolRunner([BASE, MEDIA, TIMED_MEDIA, MANUAL], player_available=False)
    out = runner.start(0.0) + runner.advance_to(10_000.0)
    after_media = 60.0 + DEFAULT_MEDIA_BLOCK_S
    assert ends(out) == [
        ("baseline", 60.0, True, None),
        ("tapping", after_media, False, 0.0),
        ("brushing", after_media + 40.0, False, 0.0),
        ("whispering", after_media + 130.0, True, None),
    ]
    notices = [o.message for o in out if isinstance(o, Notice)]
    assert len(notices) == 2
    assert "'tapping'" in notices[0]
    assert "incomplete" in notices[0]
    assert not any(isinstance(o, PlayerCommand) for o in out)


def test_after_a_crash_later_media_blocks_end_incomplete() -> None:
    runner = ProtocolRunner([MEDIA, TIMED_MEDIA, MANUAL])
    out = runner.start(0.0)
    assert out == [PlayerCommand("load", "/m/tap.wav")]
    out = runner.on_player(Started(0.5, "/m/tap.wav"))
    out += runner.on_player(Crashed(3.0, "mpv was killed by SIGKILL"))
    out += runner.advance_to(1000.0)
    assert ends(out) == [
        ("tapping", 3.0, False, pytest.approx(2.5)),
        ("brushing", 43.0, False, 0.0),
        ("whispering", 133.0, True, None),
    ]


def test_a_load_that_fails_ends_the_block_at_once_incomplete() -> None:
    runner = ProtocolRunner([TIMED_MEDIA, MANUAL])
    runner.start(0.0)
    out = runner.on_player(Ended(0.1, "error", "refusing to play 'av://x': ..."))
    assert ends(out) == [("brushing", 0.1, False, 0.0)]


# -- through the pipeline into the store -----------------------------------------------------

HEAD = 'name = "media-blocks"\nsettling_s = 0\nbaseline_s = 4\nwashout_s = 1\norder = "fixed"\n'


def stored_segments(db: Path) -> list[tuple[str, bool]]:
    with SessionStore(db) as store:
        (summary,) = store.list_sessions()
        bundle = store.load_bundle(summary.id)
    return [(s["label"], bool(s["complete"])) for s in bundle.segments]


def test_with_mpv_missing_media_blocks_are_stored_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_sine(tmp_path / "a.wav", 0.5)
    (tmp_path / "p.toml").write_text(
        HEAD
        + '\n[[block]]\nlabel = "tapping"\nmedia = "a.wav"\nduration_s = "until-media-ends"\n'
        + '\n[[block]]\nlabel = "brushing"\nmedia = "a.wav"\nduration_s = 20\n'
        + '\n[[block]]\nlabel = "whispering"\nmedia = "manual"\nduration_s = 20\n',
        encoding="utf-8",
    )
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no mpv to be found
    db = tmp_path / "s.db"
    opts = SessionOptions(
        source=SourceOptions(simulate="sim", seed=4),
        protocol=str(tmp_path / "p.toml"),
        player="mpv",
        db=db,
        fast=True,
    )
    pipeline = build_session(opts)

    async def run() -> list[object]:
        async with aclosing(pipeline.events()) as events:
            return [event async for event in events]

    seen = asyncio.run(run())
    assert any(isinstance(e, Notice) and "mpv not found" in e.message for e in seen)
    assert stored_segments(db) == [
        ("baseline", True),
        ("tapping", False),
        ("washout", True),
        ("brushing", False),
        ("washout", True),
        ("whispering", True),
    ]


@pytest.mark.skipif(shutil.which("mpv") is None, reason="mpv not installed")
@pytest.mark.slow  # a simulated session at --speed 1 with real mpv
def test_after_mpv_crashes_the_next_media_block_is_stored_incomplete(tmp_path: Path) -> None:
    write_sine(tmp_path / "long.wav", 30.0)
    write_sine(tmp_path / "short.wav", 0.5)
    (tmp_path / "p.toml").write_text(
        HEAD.replace("baseline_s = 4", "baseline_s = 1")
        + '\n[[block]]\nlabel = "tapping"\nmedia = "long.wav"\nduration_s = "until-media-ends"\n'
        + '\n[[block]]\nlabel = "brushing"\nmedia = "short.wav"\nduration_s = 1\n',
        encoding="utf-8",
    )
    db = tmp_path / "s.db"
    opts = SessionOptions(
        source=SourceOptions(simulate="sim", speed=1.0, seed=3),
        protocol=str(tmp_path / "p.toml"),
        player="mpv",
        db=db,
        silent_player=True,
    )
    pipeline = build_session(opts)

    async def run() -> list[object]:
        seen: list[object] = []
        async with aclosing(pipeline.events()) as events:
            async for event in events:
                seen.append(event)
                if isinstance(event, MarkerRecorded) and event.label == "started":
                    await asyncio.sleep(0.5)
                    pid = getattr(pipeline.player, "pid", None)
                    assert pid is not None
                    os.kill(pid, signal.SIGKILL)
        return seen

    seen = asyncio.run(asyncio.wait_for(run(), 60))
    assert any(isinstance(e, MarkerRecorded) and e.label == "crashed" for e in seen)
    assert stored_segments(db) == [
        ("baseline", True),
        ("tapping", False),
        ("washout", True),
        ("brushing", False),
    ]
