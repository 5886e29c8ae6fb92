"""The recorder: the store side of a live session (a session writer and its open segments).

Recording can start and stop in the middle of a protocol (the dashboard's record key): the
segment running at the start is opened at that moment, and segments still open at the stop
are closed there as incomplete, so a stored session never has a segment without an end.

Nothing here blocks the event loop on disk: the writer's ``add_*`` only buffer (its own
thread commits), and creating and closing the session (:meth:`Recorder.start`,
:meth:`Recorder.stop`) run in a worker thread. Events that arrive while the session is being
created are held and written once it exists.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from biofeedback.live.messages import MarkerRecorded, SegmentEnded, SegmentStarted

if TYPE_CHECKING:
    from biofeedback.sessions.store import SessionStore
    from biofeedback.sessions.store_writer import SessionWriter
    from devices.events import StreamEvent
    from devices.source import WaveformEvent

WriterFactory = Callable[["SessionStore"], "SessionWriter"]
"""Makes the writer of one session (tests inject a slow or failing one)."""


@dataclass(slots=True)
class SessionMeta:
    """What is stored with the session besides the data."""

    source: str
    device: dict[str, Any]
    profile: str | None = None
    protocol: object = None
    order_used: object = None
    extra: dict[str, Any] = field(default_factory=dict)


class Recorder:
    """Write one session at a time; events reach the store before anything else sees them."""

    def __init__(
        self,
        store: SessionStore,
        meta: SessionMeta,
        settings: dict[str, Any],
        *,
        writer: WriterFactory | None = None,
    ) -> None:
        from biofeedback.sessions.store_writer import SessionWriter

        self._store = store
        self._meta = meta
        self._settings = settings
        self._writer_type: WriterFactory = writer or SessionWriter
        self._writer: SessionWriter | None = None
        self._starting: list[Callable[[SessionWriter], None]] | None = None
        """While the session is being created: what arrived meanwhile, in order."""
        self._lock = asyncio.Lock()
        self._open: dict[int, tuple[int, SegmentStarted]] = {}
        self.last_session_id: int | None = None

    @property
    def session_id(self) -> int | None:
        return self._writer.session_id if self._writer is not None else None

    async def start(self, t_s: float, current: SegmentStarted | None) -> int:
        async with self._lock:
            writer = self._writer_type(self._store)
            m = self._meta
            self._starting = []
            if current is not None:
                self.segment_started(SegmentStarted(**{**_fields(current), "t_s": t_s}))
            try:
                await asyncio.to_thread(
                    writer.begin,
                    device=m.device,
                    source=m.source,
                    profile=m.profile,
                    protocol=m.protocol,
                    order_used=m.order_used,
                    settings=self._settings,
                    extra=m.extra,
                )
            except BaseException:
                self._starting = None
                self._open.clear()
                raise
            held, self._starting = self._starting, None
            self._writer = writer
            for write in held:
                write(writer)
            return writer.session_id

    async def stop(
        self,
        t_s: float,
        status: str,
        truth: dict[str, Any] | None,
        *,
        used: dict[str, Any] | None = None,
    ) -> int | None:
        """End the session. ``used``: settings learnt during the run (merged into the stored
        ones, e.g. ``artifact_source``)."""
        async with self._lock:
            writer, self._writer = self._writer, None
            if writer is None:
                return None
            ends = [handle for handle, _ in self._open.values()]
            self._open.clear()

            def close() -> None:
                for handle in ends:
                    writer.end_segment(handle, t_s, complete=False)
                if truth is not None:
                    writer.set_truth(truth)
                if used:
                    writer.set_settings({**self._settings, **used})
                writer.finish(status)

            await asyncio.to_thread(close)
            self.last_session_id = writer.session_id
            return writer.session_id

    def _write(self, write: Callable[[SessionWriter], None]) -> None:
        if self._writer is not None:
            write(self._writer)
        elif self._starting is not None:
            self._starting.append(write)

    def stream_event(self, event: StreamEvent) -> None:
        self._write(lambda w: w.add_event(event))

    def waveform(self, event: WaveformEvent) -> None:
        """Raw ECG or ACC samples of one PMD frame (a gap needs nothing: the next frame's new
        segment starts a new chunk)."""
        from devices.pmd_stream import AccSamples, EcgSamples

        if isinstance(event, EcgSamples | AccSamples):
            stream = "ecg" if isinstance(event, EcgSamples) else "acc"
            samples = event.samples_uv if isinstance(event, EcgSamples) else event.samples_mg
            self._write(lambda w: w.add_waveform(stream, event.t_s, samples, segment=event.segment))

    def marker(self, marker: MarkerRecorded) -> None:
        self._write(lambda w: w.add_marker(marker.t_s, marker.kind, marker.label, marker.value))

    def segment_started(self, event: SegmentStarted) -> None:
        def start(w: SessionWriter) -> None:
            handle = w.start_segment(
                event.label, event.kind.value, event.t_s, category=event.category
            )
            self._open[event.index] = (handle, event)

        self._write(start)

    def segment_ended(self, event: SegmentEnded) -> None:
        def end(w: SessionWriter) -> None:
            opened = self._open.pop(event.index, None)
            if opened is not None:
                w.end_segment(opened[0], event.t_s, complete=event.complete)

        self._write(end)


def _fields(event: SegmentStarted) -> dict[str, Any]:
    return {name: getattr(event, name) for name in SegmentStarted.__slots__}
