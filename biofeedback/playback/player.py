"""The interface every player shares, and the event channel behind it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from biofeedback.playback.events import PlayerEvent, Tingle

Clock = Callable[[], float]
EventCallback = Callable[[PlayerEvent], None]


class Player(Protocol):
    """What the protocol runner drives: :class:`MpvPlayer` or :class:`ManualPlayer`."""

    async def start(self) -> None: ...
    async def load(self, media: str) -> None: ...
    async def pause(self) -> None: ...
    async def resume(self) -> None: ...
    async def stop(self) -> None: ...
    async def close(self) -> None: ...
    def position_s(self) -> float | None: ...
    def mark_tingle(self) -> Tingle: ...
    def events(self) -> AsyncIterator[PlayerEvent]: ...


class EventChannel:
    """Fan events out to an optional callback and to one ``async for`` consumer.

    The iterator ends (without raising) once :meth:`finish` has been called and every event
    emitted before it has been delivered. The callback runs synchronously and must not raise.
    """

    def __init__(self, clock: Clock = time.monotonic, on_event: EventCallback | None = None):
        self.clock = clock
        self._on_event = on_event
        self._queue: asyncio.Queue[PlayerEvent | None] = asyncio.Queue()
        self._finished = False
        self._drained = False

    def emit(self, event: PlayerEvent) -> None:
        if self._finished:
            return
        if self._on_event is not None:
            self._on_event(event)
        self._queue.put_nowait(event)

    def finish(self) -> None:
        if not self._finished:
            self._finished = True
            self._queue.put_nowait(None)

    async def events(self) -> AsyncIterator[PlayerEvent]:
        while not self._drained:
            event = await self._queue.get()
            if event is None:
                self._drained = True
                return
            yield event
