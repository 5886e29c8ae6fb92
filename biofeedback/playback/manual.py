"""Manual mode: the user plays media elsewhere and presses keys; the same events result.

The dashboard binds keys to :meth:`ManualPlayer.mark_start`, :meth:`~ManualPlayer.mark_stop`,
:meth:`~ManualPlayer.mark_pause`, :meth:`~ManualPlayer.mark_resume` and
:meth:`~ManualPlayer.mark_tingle`. The async methods of :class:`Player` map onto them, so a
protocol runner drives both players alike. Positions are the time played since the start mark.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from types import TracebackType

from biofeedback.playback.events import Ended, Paused, PlayerEvent, Resumed, Started, Tingle
from biofeedback.playback.player import Clock, EventCallback, EventChannel


class ManualPlayer:
    """Markers from key presses, on the same clock and with the same shapes as mpv's."""

    def __init__(self, *, clock: Clock = time.monotonic, on_event: EventCallback | None = None):
        self._channel = EventChannel(clock, on_event)
        self._started_t_s: float | None = None
        self._paused_t_s: float | None = None
        self._paused_total_s = 0.0

    def mark_start(self, label: str) -> Started:
        """The user started playing ``label``; a block still running is stopped first."""
        if self._started_t_s is not None:
            self.mark_stop()
        event = Started(self._channel.clock(), label)
        self._started_t_s, self._paused_t_s, self._paused_total_s = event.t_s, None, 0.0
        self._channel.emit(event)
        return event

    def mark_stop(self) -> Ended | None:
        """The user stopped the media; None when nothing was playing."""
        if self._started_t_s is None:
            return None
        event = Ended(self._channel.clock(), "stopped")
        self._started_t_s = None
        self._channel.emit(event)
        return event

    def mark_pause(self) -> Paused | None:
        """The user paused the media; None when nothing plays or it is already paused."""
        if self._started_t_s is None or self._paused_t_s is not None:
            return None
        t_s = self._channel.clock()
        event = Paused(t_s, self._position_at(t_s))
        self._paused_t_s = t_s
        self._channel.emit(event)
        return event

    def mark_resume(self) -> Resumed | None:
        """The user resumed the media; None unless it was paused."""
        if self._paused_t_s is None:
            return None
        t_s = self._channel.clock()
        event = Resumed(t_s, self._position_at(t_s))
        self._paused_total_s += t_s - self._paused_t_s
        self._paused_t_s = None
        self._channel.emit(event)
        return event

    def mark_tingle(self) -> Tingle:
        """The user felt a tingle (FACTS §1.6): a marker at the current position."""
        t_s = self._channel.clock()
        event = Tingle(t_s, self._position_at(t_s))
        self._channel.emit(event)
        return event

    def position_s(self) -> float | None:
        """Seconds played since the start mark, pauses excluded; None when nothing plays."""
        return self._position_at(self._channel.clock())

    def _position_at(self, t_s: float) -> float | None:
        if self._started_t_s is None:
            return None
        until_s = t_s if self._paused_t_s is None else self._paused_t_s
        return until_s - self._started_t_s - self._paused_total_s

    async def start(self) -> None:
        """Nothing to start: the media plays elsewhere."""

    async def load(self, media: str) -> None:
        self.mark_start(media)

    async def pause(self) -> None:
        self.mark_pause()

    async def resume(self) -> None:
        self.mark_resume()

    async def stop(self) -> None:
        self.mark_stop()

    async def close(self) -> None:
        """End the event stream; a block still running is stopped."""
        self.mark_stop()
        self._channel.finish()

    def events(self) -> AsyncIterator[PlayerEvent]:
        return self._channel.events()

    async def __aenter__(self) -> ManualPlayer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
