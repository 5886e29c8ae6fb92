"""The source contract shared by the simulator, the BLE strap and replay, and beat derivation."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Protocol

from devices.events import DeviceInfo, SourceEvent, StreamEvent
from devices.timeline import BeatTimeline


class HeartRateSource(Protocol):
    """Anything that yields source events on a monotonic clock."""

    @property
    def device(self) -> DeviceInfo: ...

    def events(self) -> AsyncGenerator[SourceEvent, None]: ...


async def with_beats(
    source: HeartRateSource, timeline: BeatTimeline | None = None
) -> AsyncGenerator[StreamEvent, None]:
    """Yield every source event, each followed by the beats (and unit verdicts) it completes."""
    timeline = timeline if timeline is not None else BeatTimeline()
    async with aclosing(source.events()) as events:
        async for event in events:
            yield event
            for derived in timeline.feed(event):
                yield derived
