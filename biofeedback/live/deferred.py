"""A live pipeline built on first use, in a worker thread: the dashboard paints first.

Building a session imports the simulator and the HRV maths (numpy, scipy: most of a second on a
small machine). ``biofeedback monitor`` and ``demo`` check the user's input and open the store
first (``prepare_session``: a bad protocol or store is still a one-line error before any screen),
then hand the dashboard this wrapper; its first ``events()`` builds the pipeline off the event
loop, so the first frame does not wait for the imports. A control pressed while it builds waits
for it. A build that fails ends the event stream with its error, as a failing pipeline does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from biofeedback.live.messages import PipelineEvent
    from biofeedback.live.pipeline import LivePipeline


class DeferredPipeline:
    """``build()`` on first use (in a thread); then every call goes to the pipeline it made."""

    def __init__(self, build: Callable[[], LivePipeline]) -> None:
        self._build = build
        self._pipeline: LivePipeline | None = None
        self._building: asyncio.Task[LivePipeline] | None = None
        self._hold_ratings = False

    @property
    def built(self) -> LivePipeline | None:
        """The pipeline, once built."""
        return self._pipeline

    async def pipeline(self) -> LivePipeline:
        if self._pipeline is None:
            if self._building is None:
                self._building = asyncio.create_task(asyncio.to_thread(self._build))
            pipeline = await asyncio.shield(self._building)
            hold = getattr(pipeline, "hold_ratings", None)  # every LivePipeline has it
            if self._hold_ratings and hold is not None:
                hold()
            self._pipeline = pipeline
        return self._pipeline

    # What the command reads after the dashboard closed.
    @property
    def summaries(self) -> list[dict[str, Any]]:
        return self._pipeline.summaries if self._pipeline is not None else []

    @property
    def last_summary(self) -> dict[str, Any]:
        return self._pipeline.last_summary if self._pipeline is not None else {}

    # PipelineLike and HoldsRatings, delegated.
    async def events(self) -> AsyncIterator[PipelineEvent]:
        pipeline = await self.pipeline()
        async for event in pipeline.events():
            yield event

    def hold_ratings(self) -> None:
        self._hold_ratings = True
        hold = getattr(self._pipeline, "hold_ratings", None)
        if hold is not None:
            hold()

    async def skip_rating(self, label: str) -> None:
        await (await self.pipeline()).skip_rating(label)

    async def start_recording(self) -> None:
        await (await self.pipeline()).start_recording()

    async def stop_recording(self, status: str | None = None) -> None:
        if self._pipeline is None and self._building is None:
            return  # nothing was built, so nothing is recording
        await (await self.pipeline()).stop_recording(status)

    async def next_segment(self) -> None:
        await (await self.pipeline()).next_segment()

    async def previous_segment(self) -> None:
        await (await self.pipeline()).previous_segment()

    async def toggle_pause(self) -> None:
        await (await self.pipeline()).toggle_pause()

    async def mark_trigger_start(self) -> None:
        await (await self.pipeline()).mark_trigger_start()

    async def mark_trigger_stop(self) -> None:
        await (await self.pipeline()).mark_trigger_stop()

    async def mark_tingle(self) -> None:
        await (await self.pipeline()).mark_tingle()

    async def record_rating(self, label: str, relaxation: int, tingles: int) -> None:
        await (await self.pipeline()).record_rating(label, relaxation, tingles)
