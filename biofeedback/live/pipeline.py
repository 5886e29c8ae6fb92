"""The live pipeline: source → recorder → processor → subscribers, on one asyncio loop.

One consumer iterates :meth:`LivePipeline.events` (the dashboard's worker or the headless
printer). Inside, a task pumps the source; every event is written to the store *before*
anything else happens, then beats go to the HRV processor. The protocol runner is advanced
synchronously with each source event (so segment boundaries land between the right beats at
any speed) and by a ticker in real time; player events reach it through their own task. A dead
player or a lost strap is a :class:`Notice`, never the end of the recording.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from biofeedback.hrv.processor import HrvProcessor
from biofeedback.live.clock import SessionClock
from biofeedback.live.messages import (
    MarkerRecorded,
    Notice,
    PipelineEvent,
    RecordingChanged,
    SegmentEnded,
    SegmentKind,
    SegmentStarted,
    SessionFinished,
    SnapshotComputed,
)
from biofeedback.live.protocol_runner import Output, PlayerCommand, ProtocolRunner
from biofeedback.live.summary import SessionTally
from biofeedback.playback.errors import PlaybackError
from devices.events import Beat, Disconnected, StreamEvent
from devices.source import HeartRateSource, with_beats

if TYPE_CHECKING:
    from biofeedback.playback.player import Player
    from biofeedback.sessions.protocol import ProtocolPlan
    from biofeedback.sessions.store import SessionStore
    from biofeedback.sessions.store_writer import SessionWriter

_END = object()
TICK_S = 0.1


@dataclass(slots=True)
class SessionMeta:
    """What is stored with the session besides the data."""

    source: str
    device: dict[str, Any]
    profile: str | None = None
    protocol: object = None
    order_used: object = None
    extra: dict[str, Any] = field(default_factory=dict)


class LivePipeline:
    """Run a source (and optionally a protocol with a player) and yield pipeline events."""

    def __init__(
        self,
        source: HeartRateSource,
        *,
        clock: SessionClock,
        meta: SessionMeta,
        processor: HrvProcessor | None = None,
        store: SessionStore | None = None,
        plan: ProtocolPlan | None = None,
        player: Player | None = None,
        record: bool = True,
        truth: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.source = source
        self.clock = clock
        self.meta = meta
        self.processor = processor or HrvProcessor()
        self.store = store
        self.plan = plan
        self.player = player
        self.runner = ProtocolRunner(plan.segments, player is not None) if plan else None
        self.tally = SessionTally()
        self._want_record = record
        self._truth = truth
        self._writer: SessionWriter | None = None
        self._last_session_id: int | None = None
        self._segment_handles: dict[int, int] = {}
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._paused = False

    # -- recording -------------------------------------------------------------------------
    @property
    def recording(self) -> bool:
        return self._writer is not None

    @property
    def session_id(self) -> int | None:
        return self._writer.session_id if self._writer is not None else None

    async def start_recording(self) -> None:
        if self._writer is not None or self.store is None:
            return
        from biofeedback.sessions.store_writer import SessionWriter

        writer = SessionWriter(self.store)
        writer.begin(
            device=self.meta.device,
            source=self.meta.source,
            profile=self.meta.profile,
            protocol=self.meta.protocol,
            order_used=self.meta.order_used,
            settings=self.processor.settings.to_dict(),
            extra=self.meta.extra,
        )
        self._writer = writer
        self._put(RecordingChanged(self.clock.now(), True, writer.session_id))

    async def stop_recording(self, status: str = "complete") -> None:
        writer, self._writer = self._writer, None
        if writer is None:
            return
        if self._truth is not None:
            writer.set_truth(self._truth())
        writer.finish(status)
        self._last_session_id = writer.session_id
        self._put(RecordingChanged(self.clock.now(), False, writer.session_id))

    # -- controls (the dashboard's keys) ----------------------------------------------------
    async def next_segment(self) -> None:
        await self._apply_runner(lambda r, t: r.skip(t, +1))

    async def previous_segment(self) -> None:
        await self._apply_runner(lambda r, t: r.skip(t, -1))

    async def toggle_pause(self) -> None:
        if self.player is None:
            return
        with contextlib.suppress(PlaybackError):
            if self._paused:
                await self.player.resume()
            else:
                await self.player.pause()
            self._paused = not self._paused

    async def mark_trigger_start(self) -> None:
        self._marker(MarkerRecorded(self.clock.now(), "manual", "trigger-start", self._block()))

    async def mark_trigger_stop(self) -> None:
        self._marker(MarkerRecorded(self.clock.now(), "manual", "trigger-stop", self._block()))

    def _block(self) -> str | None:
        """The protocol block running now, so a manual mark says which trigger it belongs to."""
        current = self.runner.current if self.runner is not None else None
        return current.label if current is not None else None

    async def mark_tingle(self) -> None:
        self._marker(MarkerRecorded(self.clock.now(), "tingle", "key"))

    async def record_rating(self, label: str, relaxation: int, tingles: int) -> None:
        """The self-report after a block: 0-10 relaxation and tingle ratings, as a marker."""
        ratings = {"relaxation": relaxation, "tingles": tingles}
        for name, value in ratings.items():
            if not 0 <= value <= 10:
                raise ValueError(f"{name} rating must be 0-10, got {value}")
        self._marker(MarkerRecorded(self.clock.now(), "rating", label, ratings))

    # -- the run ----------------------------------------------------------------------------
    async def events(self) -> AsyncGenerator[PipelineEvent, None]:
        status = "complete"
        try:
            if self.player is not None:
                await self._start_player()
            if self._want_record:
                await self.start_recording()
            self._tasks.append(asyncio.create_task(self._pump_source()))
            if self.runner is not None and self.clock.speed is not None:
                self._tasks.append(asyncio.create_task(self._tick()))
            while True:
                item = await self._queue.get()
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    status = "interrupted"
                    raise item
                yield item  # type: ignore[misc]
        finally:
            await self._shutdown(status)

    async def _shutdown(self, status: str) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.runner is not None and not self.runner.finished:
            # Stopped before the protocol's end: the open segment is closed as incomplete.
            self._handle(self.runner.skip(self.clock.now(), len(self.runner.plan)))
        if self.player is not None:
            with contextlib.suppress(Exception):
                await self.player.close()
        if self._writer is not None:
            await self.stop_recording(status)
        sid = self._last_session_id
        summary = self.tally.summary()
        if sid is not None:
            summary["session_id"] = sid
        summary["status"] = status
        self.last_summary = summary

    def _put(self, item: object) -> None:
        self._queue.put_nowait(item)

    def _marker(self, marker: MarkerRecorded) -> None:
        if self._writer is not None:
            self._writer.add_marker(marker.t_s, marker.kind, marker.label, marker.value)
        self.tally.add(marker)
        self._put(marker)

    async def _apply_runner(self, step: Callable[[ProtocolRunner, float], list[Output]]) -> None:
        if self.runner is not None:
            self._handle(step(self.runner, self.clock.now()))

    def _handle(self, outputs: list[Output]) -> None:
        for out in outputs:
            if isinstance(out, PlayerCommand):
                self._tasks.append(asyncio.create_task(self._command(out)))
            elif isinstance(out, MarkerRecorded):
                self._marker(out)
            else:
                self._segment_event(out)
                self._put(out)

    def _segment_event(self, event: PipelineEvent) -> None:
        if isinstance(event, SegmentStarted):
            if event.kind is SegmentKind.BASELINE:
                self.processor.begin_baseline()
            if self._writer is not None:
                self._segment_handles[event.index] = self._writer.start_segment(
                    event.label, event.kind.value, event.t_s, category=event.category
                )
        elif isinstance(event, SegmentEnded):
            seg = self.runner.plan[event.index] if self.runner is not None else None
            if seg is not None and seg.kind == SegmentKind.BASELINE.value:
                self.processor.end_baseline()
            handle = self._segment_handles.pop(event.index, None)
            if self._writer is not None and handle is not None:
                self._writer.end_segment(handle, event.t_s, complete=event.complete)
        self.tally.add(event)

    async def _command(self, command: PlayerCommand) -> None:
        if self.player is None:
            return
        try:
            if command.action == "load" and command.media is not None:
                self._paused = False
                await self.player.load(command.media)
            elif command.action == "stop":
                await self.player.stop()
        except PlaybackError as exc:
            self._put(Notice(self.clock.now(), f"player: {exc}"))

    async def _start_player(self) -> None:
        assert self.player is not None
        try:
            await self.player.start()
        except PlaybackError as exc:
            self._put(Notice(self.clock.now(), f"{exc}; continuing without playback"))
            self.player = None
            if self.runner is not None:
                self.runner.player_available = False
            return
        self._tasks.append(asyncio.create_task(self._pump_player()))

    async def _pump_player(self) -> None:
        assert self.player is not None
        async for event in self.player.events():
            if self.runner is not None:
                self._handle(self.runner.on_player(event))

    async def _tick(self) -> None:
        assert self.runner is not None
        while not self.runner.finished:
            await asyncio.sleep(TICK_S)
            self._handle(self.runner.advance_to(self.clock.now()))

    async def _pump_source(self) -> None:
        started = False
        try:
            async for event in with_beats(self.source):
                t_s = getattr(event, "t_s", None)
                if isinstance(t_s, float):
                    self.clock.advance(t_s)
                    if self.runner is not None:
                        if not started:
                            started = True
                            self._handle(self.runner.start(t_s))
                        self._handle(self.runner.advance_to(t_s))
                self._on_stream_event(event)
                if self.runner is not None and self.runner.finished:
                    break
        except Exception as exc:  # a source failure ends the run but keeps what was recorded
            self._put(exc)
            return
        self._put(_END)

    def _on_stream_event(self, event: StreamEvent) -> None:
        if self._writer is not None:
            self._writer.add_event(event)
        self.tally.add(event)
        self._put(event)
        if isinstance(event, Disconnected):
            self._put(Notice(event.t_s, f"strap lost ({event.reason.value}); reconnecting"))
        if isinstance(event, Beat):
            snapshot = self.processor.push(event)
            if snapshot is not None:
                self.tally.add_snapshot(snapshot)
                self._put(SnapshotComputed(snapshot))

    def finished_event(self) -> SessionFinished:
        return SessionFinished(time.time(), self.session_id, getattr(self, "last_summary", {}))
