"""The live pipeline: source → recorder → processor → subscribers, on one asyncio loop.

One consumer iterates :meth:`LivePipeline.events` (the dashboard's worker or the headless
printer). Inside, a task pumps the source; every event is written to the store *before*
anything else happens, then beats go to the HRV processor. The protocol runner is advanced
synchronously with each source event (so segment boundaries land between the right beats at
any speed) and by a ticker in real time; player events reach it through their own task. A dead
player or a lost strap is a :class:`Notice`, never the end of the recording. A source that also
streams waveforms (:class:`~devices.source.WaveformSource`: a Polar H10's ECG and chest ACC) has
them pumped beside its events through the online ECG stage (:mod:`biofeedback.ecg.online`) into
:class:`EcgProcessed` and :class:`BreathingEstimated`; they are not stored, and a failing
waveform stream is a notice too. The ECG's beats are matched to the strap's
(:class:`~biofeedback.ecg.matching.StrapShapes`), and the processor's artifact stage takes their
shapes first for the beats matched, RR timing for the others.

The run is one :class:`asyncio.TaskGroup`: the source pump, the real-time ticker, the player's
event pump and the player's command worker are its children. A child that fails ends the run:
its siblings are cancelled, the session is stored ``interrupted`` with everything recorded
until then, and the error reaches the consumer (the dashboard shows it; the CLI prints it on
one line). A dead player (:class:`PlaybackError`, or its events stopping) is not a failure: it
is a notice and the protocol goes on without playback.

Queues are bounded. Player commands go through one worker, in order; at
:data:`COMMAND_QUEUE_MAX` pending the oldest is dropped (the newest command says where the
player should end up). The consumer's queue holds :data:`EVENT_QUEUE_MAX` display events: when
it is full a real-time source never waits (that would stall the strap and the recording); the
oldest snapshot is dropped first (a newer one supersedes it), then the oldest beat or packet,
with one notice that the screen fell behind. Nothing dropped is lost: every event was written
to the store, and the session summary is counted, before the queue. An as-fast-as-possible
source (replay, simulation) waits for room instead, so its consumer sees every event. Segment
events, markers, notices and rating requests are never dropped. Store writes never block the
loop (see :mod:`biofeedback.live.recorder`).

A session's final status says how it ended: ``complete`` when its protocol ran to the end (with
no protocol: when the user or the source ended it), ``stopped`` when the user ended it before
the protocol's end (the record key, quitting, the consumer closing the stream), ``interrupted``
on a cancellation (Ctrl-C, a signal), a source failure or any other exception.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any

from biofeedback.hrv.processor import HrvProcessor
from biofeedback.live.clock import SessionClock
from biofeedback.live.messages import (
    BreathingEstimated,
    EcgProcessed,
    MarkerRecorded,
    Notice,
    PipelineEvent,
    RatingRequested,
    RecordingChanged,
    SegmentEnded,
    SegmentStarted,
    SessionFinished,
    SnapshotComputed,
)
from biofeedback.live.protocol_runner import Output, PlayerCommand, ProtocolRunner
from biofeedback.live.recorder import Recorder, SessionMeta, WriterFactory
from biofeedback.live.summary import SessionTally
from biofeedback.playback.errors import PlaybackError
from biofeedback.playback.events import Crashed
from devices.events import (
    Beat,
    Disconnected,
    DisconnectReason,
    MalformedPacket,
    MeasurementReceived,
    StreamEvent,
)
from devices.source import HeartRateSource, WaveformSource, with_beats

if TYPE_CHECKING:
    from biofeedback.ecg.matching import StrapShapes
    from biofeedback.ecg.online import EcgStage
    from biofeedback.playback.player import Player
    from biofeedback.sessions.protocol import ProtocolPlan
    from biofeedback.sessions.store import SessionStore
    from devices.source import WaveformEvent

_END = object()
TICK_S = 0.1
END_STATUSES = ("complete", "stopped", "interrupted")
EVENT_QUEUE_MAX = 4096
"""Display events (beats, packets, snapshots) the consumer may lag behind by: over an hour of a
strap's beats and packets, so a drop means the consumer is stuck, not slow."""
COMMAND_QUEUE_MAX = 8
"""Player commands waiting for the player (a load takes a moment; keys can skip blocks fast)."""


class EventQueue:
    """The consumer's queue: bounded for display events, never blocking a real-time producer.

    ``paced`` (a real-time source): :meth:`put` never waits; when :data:`EVENT_QUEUE_MAX`
    display events are waiting, the oldest snapshot is dropped, else the oldest beat or
    packet. Unpaced producers ``await`` :meth:`room` before producing. Other items (segment
    events, markers, notices, errors, the end) are always queued."""

    def __init__(self, maxsize: int = EVENT_QUEUE_MAX, *, paced: bool = True) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize}")
        self.maxsize = maxsize
        self.paced = paced
        self.dropped_snapshots = 0
        self.dropped_events = 0
        self._items: deque[object] = deque()
        self._display = 0
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def full(self) -> bool:
        return self._display >= self.maxsize

    def put(self, item: object) -> bool:
        """Queue ``item``; True if something older was dropped to make room for it."""
        dropped = False
        if _is_display(item):
            if self.full:
                dropped = self._drop_oldest()
            self._display += 1
            if self.full:
                self._room.clear()
        self._items.append(item)
        self._ready.set()
        return dropped

    def _drop_oldest(self) -> bool:
        for kinds in ((SnapshotComputed,), _DISPLAY):
            for i, old in enumerate(self._items):
                if isinstance(old, kinds):
                    del self._items[i]
                    self._display -= 1
                    if isinstance(old, SnapshotComputed):
                        self.dropped_snapshots += 1
                    else:
                        self.dropped_events += 1
                    return True
        return False

    async def room(self) -> None:
        """Wait until the consumer has room for display events (unpaced producers)."""
        await self._room.wait()

    async def get(self) -> object:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        item = self._items.popleft()
        if _is_display(item):
            self._display -= 1
            if not self.full:
                self._room.set()
        return item


_DISPLAY = (
    SnapshotComputed,
    Beat,
    MeasurementReceived,
    MalformedPacket,
    EcgProcessed,
    BreathingEstimated,
)


def _is_display(item: object) -> bool:
    return isinstance(item, _DISPLAY)


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error that ended a task group (its first leaf that is not a cancellation)."""
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first_error(exc)
        if not isinstance(exc, asyncio.CancelledError):
            return exc
    return group


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
        writer: WriterFactory | None = None,
        queue_max: int = EVENT_QUEUE_MAX,
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
        """What the running session (or, before any, the run) has seen, for the summary."""
        self.summaries: list[dict[str, Any]] = []
        """The summary of every session recorded so far, in order (the record key can make
        several in one run)."""
        self.last_summary: dict[str, Any] = {}
        self._end_status: str | None = None
        self._pending_ratings: list[RatingRequested] = []
        self._ratings_changed = asyncio.Event()
        self._hold_ratings = False
        self._last_end_s: float | None = None
        self._want_record = record
        self._truth = truth
        self.recorder = (
            Recorder(store, meta, self.processor.settings.to_dict(), writer=writer)
            if store is not None
            else None
        )
        self._recording = False
        self._current: SegmentStarted | None = None
        self._shut_down = False
        self._queue = EventQueue(queue_max, paced=clock.speed is not None)
        self._commands: asyncio.Queue[PlayerCommand] = asyncio.Queue(COMMAND_QUEUE_MAX)
        self._run_task: asyncio.Task[None] | None = None
        self._behind_noted = False
        self._paused = False
        self.ecg: EcgStage | None = None
        """The online ECG/ACC stage, once the source has streamed a waveform (a Polar H10)."""
        self._matched_at_start = 0
        self.shapes: StrapShapes | None = None
        """The ECG's beats matched to the strap's, whose shapes the processor's artifact stage
        takes first (RR timing is the fallback), once the source has streamed ECG."""

    # -- recording -------------------------------------------------------------------------
    @property
    def recording(self) -> bool:
        return self._recording

    @property
    def session_id(self) -> int | None:
        return self.recorder.session_id if self.recorder is not None else None

    async def start_recording(self) -> None:
        if self._recording or self.recorder is None:
            return
        now = self.clock.now()
        sid = await self.recorder.start(now, self._current)
        self._recording = True
        self._matched_at_start = self.shapes.matched if self.shapes is not None else 0
        # The summary of this session covers this session only (not an earlier one's blocks).
        self.tally = SessionTally()
        if self._current is not None:
            self.tally.add(_restarted(self._current, now))
        self._put(RecordingChanged(now, True, sid))

    async def stop_recording(self, status: str | None = None) -> None:
        """End the session being recorded. ``status`` None: the user ended it, which is
        ``complete`` once the protocol has run to its end (or without one), else ``stopped``."""
        if not self._recording or self.recorder is None:
            return
        status = self.user_status() if status is None else status
        if status not in END_STATUSES:
            raise ValueError(f"status must be one of {', '.join(END_STATUSES)}: {status!r}")
        now = self.clock.now()
        truth = self._truth() if self._truth is not None else None
        self.tally.close_open(now)
        self.tally.add_blocks(self.processor.finish())
        self._recording = False
        sid = await self.recorder.stop(now, status, truth, used=self._used_settings())
        summary = self.tally.summary()
        summary["session_id"] = sid
        summary["status"] = status
        self.summaries.append(summary)
        self.tally = SessionTally()
        if self._current is not None:
            self.tally.add(_restarted(self._current, now))
        self._put(RecordingChanged(now, False, sid))

    def _used_settings(self) -> dict[str, Any] | None:
        """What the stored settings must add about this run: with the strap's ECG matched to
        its beats, ``artifact_source`` is ``ecg_shape`` (shapes first, RR timing where no ECG
        beat matched: :mod:`biofeedback.hrv.artifacts_shape`) and how many were matched."""
        matched = (self.shapes.matched if self.shapes is not None else 0) - self._matched_at_start
        if matched <= 0:
            return None
        return {"artifact_source": "ecg_shape", "ecg_intervals_matched": matched}

    def user_status(self) -> str:
        """The status of a session the user ends now: complete only after the protocol's end."""
        return "complete" if self.runner is None or self.runner.finished else "stopped"

    def end_as(self, status: str) -> None:
        """How the run ends if the consumer closes the stream (default: :meth:`user_status`).

        A consumer that fails (a closed stdout, an exception) says so before it closes."""
        if status not in END_STATUSES:
            raise ValueError(f"status must be one of {', '.join(END_STATUSES)}: {status!r}")
        self._end_status = status

    def hold_ratings(self) -> None:
        """Keep the session open at the protocol's end until every rating asked for is answered
        (:meth:`record_rating`) or skipped (:meth:`skip_rating`). For consumers that ask in the
        background (the dashboard); one that answers before reading on needs no hold."""
        self._hold_ratings = True

    @property
    def pending_ratings(self) -> tuple[RatingRequested, ...]:
        return tuple(self._pending_ratings)

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
        """Manual mode: the user started the media elsewhere; the same marker as mpv's start."""
        self._marker(MarkerRecorded(self.clock.now(), "playback", "started", self._block()))

    async def mark_trigger_stop(self) -> None:
        """Manual mode: the user stopped it; the same marker as a stop in mpv."""
        self._marker(MarkerRecorded(self.clock.now(), "playback", "ended:stopped", self._block()))

    def _block(self) -> str:
        """The protocol block running now (its media is "manual"), or "manual" without one."""
        current = self.runner.current if self.runner is not None else None
        return current.label if current is not None else "manual"

    async def mark_tingle(self) -> None:
        self._marker(MarkerRecorded(self.clock.now(), "tingle", "key"))

    async def record_rating(self, label: str, relaxation: int, tingles: int) -> None:
        """The self-report after a block: 0-10 relaxation and tingle ratings, as a marker.

        The marker is stamped at the end of the block it rates (when the protocol asked), not
        when it was answered."""
        ratings = {"relaxation": relaxation, "tingles": tingles}
        for name, value in ratings.items():
            if not 0 <= value <= 10:
                raise ValueError(f"{name} rating must be 0-10, got {value}")
        request = self._take_rating(label)
        t_s = request.t_s if request is not None else self.clock.now()
        self._marker(MarkerRecorded(t_s, "rating", label, ratings))

    async def skip_rating(self, label: str) -> None:
        """The person skipped the self-report for ``label``: nothing is stored."""
        self._take_rating(label)

    def _take_rating(self, label: str) -> RatingRequested | None:
        for i, request in enumerate(self._pending_ratings):
            if request.label == label:
                del self._pending_ratings[i]
                self._ratings_changed.set()
                return request
        return None

    async def _settle_ratings(self) -> None:
        """With :meth:`hold_ratings`, wait until no rating is pending (answered or skipped)."""
        while self._hold_ratings and self._pending_ratings and self._recording:
            self._ratings_changed.clear()
            await self._ratings_changed.wait()

    # -- the run ----------------------------------------------------------------------------
    async def events(self) -> AsyncGenerator[PipelineEvent, None]:
        try:
            if self.player is not None:
                await self._start_player()
            self._run_task = asyncio.create_task(self._run(), name="live pipeline")
            while True:
                item = await self._queue.get()
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item  # type: ignore[misc]
            await self._settle_ratings()
            await self._shutdown(self._end_status or self.user_status())
            yield SessionFinished(
                self.clock.now(), self.last_summary.get("session_id"), self.last_summary
            )
        except GeneratorExit:
            # The consumer closed the stream: the user's end unless it said otherwise.
            await self._shutdown(self._end_status or self.user_status())
            raise
        except BaseException:
            # Cancelled (Ctrl-C, a signal, the app going away), a source failure, a bug.
            await self._shutdown("interrupted")
            raise

    async def _shutdown(self, status: str) -> None:
        if self._shut_down:
            return
        self._shut_down = True
        if self._run_task is not None:
            self._run_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._run_task  # _run reports its children's errors, never raises them
        if self.runner is not None and not self.runner.finished:
            # Stopped before the protocol's end: the open segment is closed as incomplete.
            self._handle(self.runner.skip(self.clock.now(), len(self.runner.plan)))
        if self.player is not None:
            with contextlib.suppress(Exception):
                await self.player.close()
        await self.stop_recording(status)
        if self.summaries:
            summary = dict(self.summaries[-1])
        else:
            summary = self.tally.summary()
            summary["status"] = status
        self.last_summary = summary

    async def _run(self) -> None:
        """The task group; ends the consumer's stream when the source ends or a child fails."""
        try:
            async with asyncio.TaskGroup() as group:
                source = group.create_task(self._pump_source(), name="source")
                others: list[asyncio.Task[None]] = []
                if self.runner is not None and self.clock.speed is not None:
                    others.append(group.create_task(self._tick(), name="ticker"))
                waves: asyncio.Task[None] | None = None
                if isinstance(self.source, WaveformSource):
                    waves = group.create_task(self._pump_waveforms(), name="waveforms")
                    others.append(waves)
                if self.player is not None:
                    others.append(group.create_task(self._pump_player(), name="player events"))
                    others.append(group.create_task(self._run_commands(), name="player commands"))
                await source
                if waves is not None and not self._queue.paced:
                    await waves  # as fast as possible: every sample is shown, as every beat
                for task in others:
                    task.cancel()
        except BaseExceptionGroup as group_error:
            self._put(_first_error(group_error))
            return
        self._put(_END)

    def _put(self, item: object) -> None:
        if self._queue.put(item) and not self._behind_noted:
            self._behind_noted = True
            self._queue.put(
                Notice(self.clock.now(), "the screen fell behind: older beats not shown (recorded)")
            )

    def _marker(self, marker: MarkerRecorded) -> None:
        if self.recorder is not None:
            self.recorder.marker(marker)
        self.tally.add(marker)
        self._put(marker)

    async def _apply_runner(self, step: Callable[[ProtocolRunner, float], list[Output]]) -> None:
        if self.runner is not None:
            self._handle(step(self.runner, self.clock.now()))

    def _handle(self, outputs: list[Output]) -> None:
        for out in outputs:
            if isinstance(out, PlayerCommand):
                self._queue_command(out)
            elif isinstance(out, MarkerRecorded):
                self._marker(out)
            else:
                if isinstance(out, RatingRequested):
                    self._pending_ratings.append(out)
                self._segment_event(out)
                self._put(out)

    def _segment_event(self, event: PipelineEvent) -> None:
        if isinstance(event, SegmentStarted):
            self._current = event
            self.processor.begin_segment(event.kind.value, event.label, event.t_s)
            if self.recorder is not None:
                self.recorder.segment_started(event)
        elif isinstance(event, SegmentEnded):
            self._current = None
            self._last_end_s = event.t_s
            self.processor.end_segment(event.t_s)
            if self.recorder is not None:
                self.recorder.segment_ended(event)
        self.tally.add(event)

    def _queue_command(self, command: PlayerCommand) -> None:
        if self.player is None:
            return
        if self._commands.full():
            self._commands.get_nowait()  # the oldest: the newest says where the player ends up
        self._commands.put_nowait(command)

    async def _run_commands(self) -> None:
        while True:
            command = await self._commands.get()
            await self._command(command)

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

    async def _pump_player(self) -> None:
        """Player events into the protocol. A player that fails or falls silent mid-run is a
        crash (a notice; the protocol goes on without it); any other error ends the run."""
        assert self.player is not None
        detail = "the player stopped sending events"
        try:
            async for event in self.player.events():
                if self.runner is not None:
                    self._handle(self.runner.on_player(event))
        except PlaybackError as exc:
            detail = str(exc)
        if self.runner is not None and self.runner.player_available:
            self._handle(self.runner.on_player(Crashed(self.clock.now(), detail)))

    async def _tick(self) -> None:
        assert self.runner is not None
        while not self.runner.finished:
            await asyncio.sleep(TICK_S)
            self._handle(self.runner.advance_to(self.clock.now()))

    async def _pump_source(self) -> None:
        """Source events, each recorded before anything else; a source failure (raised here)
        ends the run through the task group, keeping what was recorded."""
        first = True
        async for event in with_beats(self.source):
            if not self._queue.paced:
                await self._queue.room()
            if first and self._want_record:
                # The session is created once the source delivers: a strap that was never
                # found leaves no empty session behind.
                await self.start_recording()
            t_s = getattr(event, "t_s", None)
            if isinstance(t_s, float):
                self.clock.advance(t_s)
                if self.runner is not None:
                    if first:
                        self._handle(self.runner.start(t_s))
                    self._handle(self.runner.advance_to(t_s))
                first = False
            self._on_stream_event(event)
            if self._past_the_end(t_s):
                break

    async def _pump_waveforms(self) -> None:
        """ECG and ACC samples to the store (while recording: compact chunks beside the beats,
        ``sessions.store_waves``) and through the online stage; their end is not the session's,
        and neither is their failure: like a dead player, it is a notice and the RRs go on."""
        assert isinstance(self.source, WaveformSource)
        try:
            async for event in self.source.waveforms():
                if not self._queue.paced:
                    await self._queue.room()
                self._on_waveform(event)
        except Exception as exc:  # reported; the session goes on
            self._put(Notice(self.clock.now(), f"ECG stopped ({type(exc).__name__}: {exc})"))

    def _on_waveform(self, event: WaveformEvent) -> None:
        from biofeedback.ecg.matching import StrapShapes
        from biofeedback.ecg.online import EcgStage
        from devices.pmd_stream import AccSamples, EcgSamples

        if self.recorder is not None:
            self.recorder.waveform(event)  # recorded first, as the beats are
        if self.ecg is None:
            self.ecg = EcgStage()
        if isinstance(event, EcgSamples):
            beats = self.ecg.ecg(event.t_s, event.samples_uv, event.segment)
            if self.shapes is None:
                self.shapes = StrapShapes()
                self.processor.use_shapes(self.shapes)
            self.shapes.add(beats)
            counts = tuple(self.ecg.label_counts.items())
            last = float(event.t_s[-1]) if len(event.t_s) else float("nan")
            self._put(
                EcgProcessed(last, event.t_s, event.samples_uv, event.segment, tuple(beats), counts)
            )
        elif isinstance(event, AccSamples):
            breathing = self.ecg.acc(event.t_s, event.samples_mg, event.segment)
            if breathing is not None:
                self._put(BreathingEstimated(breathing.t_s, breathing.chest, breathing.edr))

    def _past_the_end(self, t_s: object) -> bool:
        """Whether the protocol is over *at the source's time* ``t_s``.

        The real-time ticker can end the protocol on the session clock while the source still
        delivers what came before that moment (a loaded machine, a strap's latency): those
        events are the protocol's too, and are kept."""
        if self.runner is None or not self.runner.finished:
            return False
        return not isinstance(t_s, float) or self._last_end_s is None or t_s >= self._last_end_s

    def _on_stream_event(self, event: StreamEvent) -> None:
        if self.recorder is not None:
            self.recorder.stream_event(event)
        self.tally.add(event)
        self._put(event)
        if isinstance(event, Disconnected) and event.reason is not DisconnectReason.USER:
            self._put(Notice(event.t_s, f"strap lost ({event.reason.value}); reconnecting"))
        if isinstance(event, Beat):
            snapshot = self.processor.push(event)
            if snapshot is not None:
                self.tally.add_snapshot(snapshot)
                self._put(SnapshotComputed(snapshot))


def _restarted(event: SegmentStarted, t_s: float) -> SegmentStarted:
    """The running segment as seen from ``t_s`` (a session that starts in its middle)."""
    return SegmentStarted(
        t_s, event.index, event.label, event.kind, event.planned_s, event.media, event.category
    )
