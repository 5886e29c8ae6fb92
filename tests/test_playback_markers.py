"""Manual markers, played intervals and mpv event translation: pure, no player process."""

from __future__ import annotations

import doctest
from collections.abc import Callable

import biofeedback.playback.intervals
from biofeedback.playback import (
    Crashed,
    Ended,
    ManualPlayer,
    Paused,
    PlayerEvent,
    Resumed,
    Seeked,
    Started,
    Tingle,
    played_completely,
    played_duration_s,
    played_intervals,
)
from biofeedback.playback.mpv_events import MpvEventTranslator


def fake_clock(*times_s: float) -> Callable[[], float]:
    values = iter(times_s)
    return lambda: next(values)


def test_intervals_doctests_hold() -> None:
    assert doctest.testmod(biofeedback.playback.intervals).failed == 0


async def test_manual_marks_give_the_same_shapes_as_mpv() -> None:
    received: list[PlayerEvent] = []
    player = ManualPlayer(
        clock=fake_clock(100.0, 101.5, 103.0, 104.0, 106.5, 107.0), on_event=received.append
    )
    await player.start()
    assert player.mark_start("whispering") == Started(100.0, "whispering")
    assert player.mark_pause() == Paused(101.5, 1.5)
    assert player.mark_resume() == Resumed(103.0, 1.5)
    assert player.mark_tingle() == Tingle(104.0, 2.5)
    assert player.mark_stop() == Ended(106.5, "stopped")
    await player.close()

    streamed = [event async for event in player.events()]
    assert streamed == received
    assert [type(event) for event in received] == [Started, Paused, Resumed, Tingle, Ended]
    assert played_intervals(received) == [(100.0, 101.5), (103.0, 106.5)]
    assert played_duration_s(received) == 5.0
    assert played_completely(received)


async def test_manual_keys_out_of_order_change_nothing() -> None:
    player = ManualPlayer(clock=fake_clock(0.0, 1.0, 2.0, 3.0))
    assert player.mark_stop() is None
    assert player.mark_pause() is None
    assert player.mark_resume() is None
    assert player.position_s() is None
    await player.load("tapping")
    await player.pause()
    assert player.mark_pause() is None
    assert player.position_s() == 1.0


async def test_a_new_manual_start_stops_the_running_block() -> None:
    received: list[PlayerEvent] = []
    async with ManualPlayer(clock=fake_clock(0.0, 5.0, 5.0, 8.0), on_event=received.append) as p:
        p.mark_start("tapping")
        p.mark_start("brushing")
    assert received == [
        Started(0.0, "tapping"),
        Ended(5.0, "stopped"),
        Started(5.0, "brushing"),
        Ended(8.0, "stopped"),
    ]


def test_seeks_and_tingles_do_not_interrupt_playing() -> None:
    events: list[PlayerEvent] = [
        Started(0.0, "a.wav"),
        Seeked(1.0, 1.0, 30.0),
        Tingle(2.0, 31.0),
        Ended(4.0, "eof"),
    ]
    assert played_intervals(events) == [(0.0, 4.0)]


def test_a_crash_closes_the_interval_and_marks_the_block_incomplete() -> None:
    events: list[PlayerEvent] = [Started(0.0, "a.wav"), Crashed(2.5, "mpv was killed by SIGKILL")]
    assert played_intervals(events) == [(0.0, 2.5)]
    assert not played_completely(events)


def test_an_open_interval_closes_at_the_block_end_only_when_given() -> None:
    events: list[PlayerEvent] = [Started(0.0, "a.wav"), Paused(1.0, 1.0), Resumed(3.0, 1.0)]
    assert played_intervals(events) == [(0.0, 1.0)]
    assert played_intervals(events, until_s=10.0) == [(0.0, 1.0), (3.0, 10.0)]


def test_resumed_while_not_playing_opens_nothing() -> None:
    events: list[PlayerEvent] = [Ended(1.0, "error", "loading failed"), Resumed(2.0, None)]
    assert played_intervals(events, until_s=5.0) == []
    assert not played_completely(events)
    assert not played_completely([])


# Message sequences as mpv 0.35 sends them (recorded with --ao=null).
def property_change(name: str, data: object = None) -> dict[str, object]:
    message: dict[str, object] = {"event": "property-change", "name": name}
    if data is not None:
        message["data"] = data
    return message


def feed_all(
    translator: MpvEventTranslator, timed: list[tuple[float, dict[str, object]]]
) -> list[PlayerEvent]:
    return [event for t_s, message in timed for event in translator.feed(message, t_s)]


def test_translator_follows_a_file_through_pause_seek_and_end() -> None:
    translator = MpvEventTranslator()
    translator.expect("/m/a.wav")
    events = feed_all(
        translator,
        [
            (0.0, property_change("pause", False)),
            (0.0, {"event": "start-file", "playlist_entry_id": 1}),
            (0.0, {"event": "file-loaded"}),
            (0.0, property_change("duration", 6.0)),
            (0.0, {"event": "playback-restart"}),
            (0.0, property_change("playback-time", 0.0)),
            (1.0, property_change("playback-time", 1.0)),
            (1.5, property_change("pause", True)),
            (3.5, property_change("pause", False)),
            (4.0, {"event": "seek"}),
            (4.0, {"event": "playback-restart"}),
            (4.25, property_change("playback-time", 5.0)),
            (5.0, {"event": "end-file", "reason": "eof", "playlist_entry_id": 1}),
        ],
    )
    assert events == [
        Started(0.0, "/m/a.wav"),
        Paused(1.5, 1.5),
        Resumed(3.5, 1.5),
        Seeked(4.0, 2.0, 5.0),
        Ended(5.0, "eof"),
    ]
    assert translator.position_at(6.0) is None


def test_translator_reports_load_errors_and_ignores_redirects() -> None:
    translator = MpvEventTranslator()
    translator.expect("https://example.org/playlist")
    events = feed_all(
        translator,
        [
            (0.0, {"event": "start-file", "playlist_entry_id": 1}),
            (0.5, {"event": "end-file", "reason": "redirect", "playlist_entry_id": 1}),
            (0.6, {"event": "start-file", "playlist_entry_id": 2}),
            (0.9, {"event": "end-file", "reason": "error", "file_error": "loading failed"}),
            (1.0, {"event": "end-file", "reason": "stop"}),
        ],
    )
    assert events == [Ended(0.9, "error", "loading failed")]


def test_translator_ends_the_old_file_before_starting_its_replacement() -> None:
    translator = MpvEventTranslator()
    translator.expect("a.wav")
    first = feed_all(
        translator,
        [
            (0.0, {"event": "start-file", "playlist_entry_id": 1}),
            (0.0, {"event": "file-loaded"}),
            (0.0, {"event": "playback-restart"}),
            (0.0, property_change("playback-time", 0.0)),
            (0.5, property_change("playback-time", 0.5)),
        ],
    )
    translator.expect("b.wav")
    second = feed_all(
        translator,
        [
            (2.0, {"event": "end-file", "reason": "stop", "playlist_entry_id": 1}),
            (2.0, {"event": "start-file", "playlist_entry_id": 2}),
            (2.1, {"event": "file-loaded"}),
            (2.1, {"event": "playback-restart"}),
            (2.2, {"event": "end-file", "reason": "stop", "playlist_entry_id": 2}),
        ],
    )
    assert first == [Started(0.0, "a.wav")]
    assert second == [Ended(2.0, "stopped"), Started(2.1, "b.wav"), Ended(2.2, "stopped")]


def test_a_stalled_start_is_not_counted_as_played() -> None:
    translator = MpvEventTranslator()
    translator.expect("a.wav")
    events = feed_all(
        translator,
        [
            (10.0, {"event": "start-file", "playlist_entry_id": 1}),
            (10.0, {"event": "file-loaded"}),
            (10.0, {"event": "playback-restart"}),
            (10.0, property_change("playback-time", 0.0)),
            (10.375, property_change("playback-time", 0.125)),
            (10.5, property_change("playback-time", 0.25)),
        ],
    )
    assert events == [Started(10.25, "a.wav")]
    assert translator.position_at(10.75) == 0.5


def test_position_is_extrapolated_while_playing_and_frozen_when_paused() -> None:
    translator = MpvEventTranslator()
    opening: list[tuple[float, dict[str, object]]] = [
        (0.0, {"event": "start-file"}),
        (0.0, {"event": "file-loaded"}),
        (0.0, property_change("duration", 3.0)),
        (0.0, {"event": "playback-restart"}),
        (0.0, property_change("playback-time", 0.0)),
    ]
    feed_all(translator, opening)
    assert translator.position_at(0.25) == 0.25
    assert translator.position_at(9.0) == 3.0
    translator.feed(property_change("pause", True), 1.0)
    assert translator.position_at(5.0) == 1.0
