"""The source contract shared by the simulator, the BLE strap and replay, and beat derivation."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TYPE_CHECKING, Protocol, TypeAlias, runtime_checkable

from devices.events import DeviceInfo, SourceEvent, StreamEvent
from devices.timeline import BeatTimeline


class HeartRateSource(Protocol):
    """Anything that yields source events on a monotonic clock."""

    @property
    def device(self) -> DeviceInfo: ...

    def events(self) -> AsyncGenerator[SourceEvent, None]: ...


if TYPE_CHECKING:
    from devices.pmd_stream import AccSamples, EcgSamples, PmdGap

    WaveformEvent: TypeAlias = EcgSamples | AccSamples | PmdGap
    """Raw ECG and chest-acceleration samples on the session clock, and the gaps between them."""


@runtime_checkable
class WaveformSource(Protocol):
    """A source that also streams waveforms (a Polar H10's PMD ECG and ACC).

    :meth:`waveforms` runs beside :meth:`~HeartRateSource.events` (the heart-rate service's RRs
    keep flowing); it may end early (no PMD after all) without ending the session."""

    def waveforms(self) -> AsyncGenerator[WaveformEvent, None]: ...


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
