"""Turn mpv's raw IPC events into :mod:`~biofeedback.playback.events` (pure, no I/O).

mpv reports a file's life as ``start-file`` → ``file-loaded`` → ``playback-restart`` (audio is
flowing) → ``end-file`` with a reason; ``seek`` starts a jump; observed properties
(``pause``, ``playback-time``, ``duration``, ``idle-active``) arrive as ``property-change``.
A playlist ends its own entry with ``redirect`` and starts its items one after the other; it is
one media: it ends (``eof``) when mpv goes idle after its last item, as an ``error`` if its
first item fails, and as an ``error`` when mpv goes idle without an item (an empty playlist),
so no block waits for it forever.
``Started`` is stamped from mpv's own clock (see :class:`MpvEventTranslator`), not at
``file-loaded``.
"""

from __future__ import annotations

from typing import Final

from biofeedback.playback.events import (
    Ended,
    EndReason,
    Paused,
    PlayerEvent,
    Resumed,
    Seeked,
    Started,
)
from biofeedback.playback.ipc import Message

OBSERVED_PROPERTIES: Final = ("pause", "playback-time", "duration", "idle-active")
# Media progress that confirms playback has begun; mpv reports about every 0.1-0.25 s.
START_CONFIRM_S: Final = 0.2

_END_REASONS: Final[dict[str, EndReason]] = {
    "eof": "eof",
    "stop": "stopped",
    "quit": "stopped",
    "error": "error",
}


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class MpvEventTranslator:
    """State machine over one mpv instance's events; :meth:`feed` returns what happened.

    ``Started`` is stamped on mpv's own media clock: once mpv reports a position of at least
    :data:`START_CONFIRM_S`, the start is the report's time minus that position (never before
    ``playback-restart``). Opening the audio output, or a loaded machine, can delay the sound
    after ``playback-restart``; that delay is then not counted as played. Any other event of
    the file first emits a pending ``Started``, stamped at ``playback-restart``.
    """

    def __init__(self) -> None:
        self.paused = False
        self.duration_s: float | None = None
        self._media = ""
        self._entry: object = None
        self._loaded = False
        self._playing = False
        self._pending_start_t_s: float | None = None
        self._pos_s: float | None = None
        self._pos_t_s = 0.0
        self._seek_from: tuple[float, float | None] | None = None
        self._playlist = False
        self._between: tuple[float, EndReason, str] | None = None
        self._item_played = False

    def expect(self, media: str) -> None:
        """Name the media of the next file mpv starts (call before ``loadfile``)."""
        self._media = media
        self._playlist = self._item_played = False
        self._between = None

    def position_at(self, t_s: float) -> float | None:
        """Seconds into the media at clock time ``t_s``, extrapolated from the last report."""
        if not self._playing or self._pos_s is None:
            return None
        if self.paused or self._seek_from is not None:
            return self._pos_s
        position_s = self._pos_s + max(0.0, t_s - self._pos_t_s)
        return position_s if self.duration_s is None else min(position_s, self.duration_s)

    def feed(self, message: Message, t_s: float) -> list[PlayerEvent]:
        name = message.get("event")
        if name == "property-change":
            return self._property(message.get("name"), message.get("data"), t_s)
        if name == "start-file":
            self._entry = message.get("playlist_entry_id", True)
            self._loaded = self._playing = False
            self._between = None  # the playlist goes on
        elif name == "file-loaded":
            self._loaded = True
        elif name == "playback-restart" and self._loaded and not self._playing:
            self._playing = True
            self._pending_start_t_s = t_s
            self._pos_s = None
        elif name == "seek" and self._playing:
            events = self._flush_start()
            self._seek_from = (t_s, self.position_at(t_s))
            return events
        elif name == "end-file":
            return self._end(message, t_s)
        return []

    def _flush_start(self, t_s: float | None = None) -> list[PlayerEvent]:
        if self._pending_start_t_s is None:
            return []
        start_t_s = self._pending_start_t_s if t_s is None else max(self._pending_start_t_s, t_s)
        started = Started(start_t_s, self._media)
        self._pending_start_t_s = None
        return [started]

    def _property(self, name: object, value: object, t_s: float) -> list[PlayerEvent]:
        if name == "pause" and isinstance(value, bool):
            return self._pause(value, t_s)
        if name == "idle-active" and value is True and self._entry is not None:
            if self._between is not None:  # the playlist's last item has ended
                end_t_s, reason, detail = self._between
                self._between, self._entry = None, None
                return [Ended(end_t_s, "eof" if self._item_played else reason, detail)]
            # Idle while an entry is open: it was redirected to nothing (an empty playlist).
            self._playlist = False
            return self._end({"reason": "error", "file_error": "nothing to play"}, t_s)
        if name == "duration":
            self.duration_s = _number(value)
        elif name == "playback-time":
            return self._progress(_number(value), t_s)
        return []

    def _progress(self, position_s: float | None, t_s: float) -> list[PlayerEvent]:
        self._pos_s, self._pos_t_s = position_s, t_s
        if position_s is None:
            return []
        if self._seek_from is not None:
            seek_t_s, from_s = self._seek_from
            self._seek_from = None
            return [Seeked(seek_t_s, from_s, position_s)]
        if self._pending_start_t_s is None or self.paused or position_s < START_CONFIRM_S:
            return []
        # mpv notifies a change when it happens, so the report dates the media's zero.
        return self._flush_start(t_s - position_s)

    def _pause(self, paused: bool, t_s: float) -> list[PlayerEvent]:
        if paused == self.paused:
            return []
        position_s = self.position_at(t_s)
        self.paused = paused
        if not self._playing:
            return []
        # Freeze (on pause) or restart (on resume) the extrapolation at this instant.
        self._pos_s, self._pos_t_s = position_s, t_s
        event = Paused(t_s, position_s) if paused else Resumed(t_s, position_s)
        return [*self._flush_start(), event]

    def _end(self, message: Message, t_s: float) -> list[PlayerEvent]:
        reason = _END_REASONS.get(str(message.get("reason")))
        if reason is None or self._entry is None:
            # "redirect": a playlist or stream hook replaced the entry; more follows.
            self._playlist = self._playlist or message.get("reason") == "redirect"
            return []
        events = self._flush_start()
        self._loaded = self._playing = False
        self._pos_s = self._seek_from = None
        detail = str(message.get("file_error", "")) if reason == "error" else ""
        if self._playlist and (reason == "eof" or (reason == "error" and self._item_played)):
            # An item of a playlist ended: the next one starts, or mpv goes idle (the end).
            # A playlist whose first item fails ends at once, as a file that fails.
            self._item_played = True
            self._between = (t_s, reason, detail)
            return events
        self._entry = None
        return [*events, Ended(t_s, reason, detail)]
