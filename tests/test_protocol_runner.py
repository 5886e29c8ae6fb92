"""The protocol runner as a pure state machine: timing, skips, media blocks, player faults."""

from __future__ import annotations

import pytest

from biofeedback.live.messages import Notice, SegmentEnded, SegmentStarted
from biofeedback.live.protocol_runner import PlayerCommand, ProtocolRunner
from biofeedback.playback.events import Crashed, Ended, Paused, Resumed, Started, Tingle
from biofeedback.sessions.protocol import PlannedSegment

BASE = PlannedSegment("baseline", "baseline", None, None, 60.0)
WASH = PlannedSegment("washout", "washout", None, None, 30.0)
MANUAL = PlannedSegment("whispering", "trigger", "mouth sounds", "manual", 90.0)
MEDIA = PlannedSegment("tapping", "trigger", "repetitive sounds", "tap.wav", None)
TIMED_MEDIA = PlannedSegment("brushing", "trigger", "touching", "brush.wav", 40.0)


def of(kind: type, outputs: list[object]) -> list[object]:
    return [o for o in outputs if isinstance(o, kind)]


def test_timed_segments_end_exactly_on_plan_whatever_the_tick() -> None:
    runner = ProtocolRunner([BASE, MANUAL, WASH], player_available=False)
    out = runner.start(100.0)
    out += runner.advance_to(159.9)
    assert not of(SegmentEnded, out)
    out += runner.advance_to(1000.0)  # one late tick closes everything due
    ends = of(SegmentEnded, out)
    assert [(e.label, e.t_s, e.complete) for e in ends] == [  # type: ignore[attr-defined]
        ("baseline", 160.0, True),
        ("whispering", 250.0, True),
        ("washout", 280.0, True),
    ]
    assert runner.finished


def test_skip_marks_the_segment_left_incomplete_and_previous_goes_back() -> None:
    runner = ProtocolRunner([BASE, MANUAL, WASH], player_available=False)
    runner.start(0.0)
    out = runner.skip(10.0, +1)
    (end,) = of(SegmentEnded, out)
    (start,) = of(SegmentStarted, out)
    assert (end.label, end.complete, start.label, start.t_s) == (
        "baseline",
        False,
        "whispering",
        10.0,
    )  # type: ignore[attr-defined]
    out = runner.skip(20.0, -1)
    assert [s.label for s in of(SegmentStarted, out)] == ["baseline"]  # type: ignore[attr-defined]


def test_media_block_starts_when_media_plays_and_counts_only_played_time() -> None:
    runner = ProtocolRunner([BASE, MEDIA, WASH])
    runner.start(0.0)
    out = runner.advance_to(60.0)
    assert PlayerCommand("load", "tap.wav") in out
    assert not [s for s in of(SegmentStarted, out) if s.label == "tapping"]  # type: ignore[attr-defined]
    out = runner.on_player(Started(60.2, "tap.wav"))
    (start,) = of(SegmentStarted, out)
    assert start.t_s == 60.2  # type: ignore[attr-defined]
    runner.on_player(Paused(70.2, 10.0))
    runner.on_player(Resumed(90.2, 10.0))
    out = runner.on_player(Ended(110.2, "eof"))
    (end,) = of(SegmentEnded, out)
    assert end.complete  # type: ignore[attr-defined]
    assert end.played_s == pytest.approx(30.0)  # type: ignore[attr-defined]
    assert end.t_s - start.t_s == pytest.approx(50.0)  # type: ignore[attr-defined]


def test_timed_media_block_stops_the_player_after_its_played_duration() -> None:
    runner = ProtocolRunner([TIMED_MEDIA, WASH])
    runner.start(0.0)
    runner.on_player(Started(1.0, "brush.wav"))
    runner.on_player(Paused(11.0, 10.0))
    runner.on_player(Resumed(21.0, 10.0))
    assert not of(SegmentEnded, runner.advance_to(50.0))
    out = runner.advance_to(52.0)
    assert PlayerCommand("stop") in out
    (end,) = of(SegmentEnded, out)
    assert end.t_s == pytest.approx(51.0)  # type: ignore[attr-defined]
    assert end.played_s == pytest.approx(40.0)  # type: ignore[attr-defined]


def test_player_crash_ends_the_block_incomplete_and_the_protocol_goes_on() -> None:
    runner = ProtocolRunner([MEDIA, MEDIA, WASH])
    runner.start(0.0)
    runner.on_player(Started(0.5, "tap.wav"))
    out = runner.on_player(Crashed(5.0, "mpv exited with signal 9"))
    assert of(Notice, out)
    (end,) = of(SegmentEnded, out)
    assert not end.complete  # type: ignore[attr-defined]
    # Without a player the next media block runs as a timed (manual) block.
    assert not runner.player_available
    assert [s.label for s in of(SegmentStarted, out)] == ["tapping"]  # type: ignore[attr-defined]


def test_media_error_before_start_is_an_incomplete_block_with_a_notice() -> None:
    runner = ProtocolRunner([MEDIA, WASH])
    runner.start(0.0)
    out = runner.on_player(Ended(0.3, "error", "file not found"))
    assert of(Notice, out)
    labels = [(type(o).__name__, getattr(o, "label", "")) for o in out]
    assert ("SegmentStarted", "tapping") in labels
    assert ("SegmentEnded", "tapping") in labels
    (end,) = of(SegmentEnded, out)
    assert not end.complete  # type: ignore[attr-defined]


def test_tingle_is_a_marker_in_any_segment() -> None:
    runner = ProtocolRunner([BASE], player_available=False)
    runner.start(0.0)
    (marker,) = runner.on_player(Tingle(3.0, None))
    assert marker.kind == "tingle"  # type: ignore[union-attr]


def test_self_report_block_requests_a_rating_when_it_ends() -> None:
    from biofeedback.live.messages import RatingRequested

    rated = PlannedSegment("whispering", "trigger", "mouth sounds", "manual", 90.0, True)
    runner = ProtocolRunner([rated, WASH], player_available=False)
    runner.start(0.0)
    out = runner.advance_to(90.0)
    (request,) = of(RatingRequested, out)
    assert (request.label, request.t_s) == ("whispering", 90.0)  # type: ignore[attr-defined]
