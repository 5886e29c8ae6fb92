"""Which stretches of wall time a trigger's media actually played (pure).

A trigger segment covers only the time its media played: ``Started`` or ``Resumed`` opens an
interval, ``Paused``, ``Ended`` or ``Crashed`` closes it. Seeks and tingles are markers that
do not interrupt playing. Times are seconds on the recording's monotonic clock.
"""

from __future__ import annotations

from collections.abc import Iterable

from biofeedback.playback.events import Crashed, Ended, Paused, PlayerEvent, Resumed, Started


def played_intervals(
    events: Iterable[PlayerEvent], until_s: float | None = None
) -> list[tuple[float, float]]:
    """``(start_s, end_s)`` intervals during which the media played, in time order.

    An interval still open at the last event is closed at ``until_s`` (the block's end) when
    given, and dropped otherwise.

    >>> played_intervals([Started(10.0, "a.wav"), Paused(12.0, 2.0), Resumed(15.0, 2.0),
    ...                   Ended(19.0, "eof")])
    [(10.0, 12.0), (15.0, 19.0)]
    """
    intervals: list[tuple[float, float]] = []
    open_s: float | None = None
    playing = False
    for event in events:
        if isinstance(event, Started):
            if open_s is not None:
                intervals.append((open_s, event.t_s))
            open_s, playing = event.t_s, True
        elif isinstance(event, Resumed) and playing and open_s is None:
            open_s = event.t_s
        elif isinstance(event, Paused | Ended | Crashed):
            if open_s is not None:
                intervals.append((open_s, event.t_s))
            open_s = None
            playing = playing and isinstance(event, Paused)
    if open_s is not None and until_s is not None and until_s > open_s:
        intervals.append((open_s, until_s))
    return intervals


def played_duration_s(events: Iterable[PlayerEvent], until_s: float | None = None) -> float:
    """Total seconds the media played (see :func:`played_intervals`).

    >>> played_duration_s([Started(0.0, "a.wav"), Paused(2.0, 2.0), Resumed(4.0, 2.0)], 5.0)
    3.0
    """
    return sum(end_s - start_s for start_s, end_s in played_intervals(events, until_s))


def played_completely(events: Iterable[PlayerEvent]) -> bool:
    """False when the block's media never started, failed, or its player crashed.

    A segment for which this is False is stored as incomplete.

    >>> played_completely([Started(0.0, "a.wav"), Crashed(3.0, "mpv was killed by SIGKILL")])
    False
    """
    started = False
    for event in events:
        if isinstance(event, Crashed) or (isinstance(event, Ended) and event.reason == "error"):
            return False
        started = started or isinstance(event, Started)
    return started
