"""The recorder: the store side of a live session (a session writer and its open segments).

Recording can start and stop in the middle of a protocol (the dashboard's record key): the
segment running at the start is opened at that moment, and segments still open at the stop
are closed there as incomplete, so a stored session never has a segment without an end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from biofeedback.live.messages import MarkerRecorded, SegmentEnded, SegmentStarted

if TYPE_CHECKING:
    from biofeedback.sessions.store import SessionStore
    from devices.events import StreamEvent


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

    def __init__(self, store: SessionStore, meta: SessionMeta, settings: dict[str, Any]) -> None:
        from biofeedback.sessions.store_writer import SessionWriter

        self._store = store
        self._meta = meta
        self._settings = settings
        self._writer_type = SessionWriter
        self._writer: SessionWriter | None = None
        self._open: dict[int, tuple[int, SegmentStarted]] = {}
        self.last_session_id: int | None = None

    @property
    def session_id(self) -> int | None:
        return self._writer.session_id if self._writer is not None else None

    def start(self, t_s: float, current: SegmentStarted | None) -> int:
        writer = self._writer_type(self._store)
        m = self._meta
        writer.begin(
            device=m.device,
            source=m.source,
            profile=m.profile,
            protocol=m.protocol,
            order_used=m.order_used,
            settings=self._settings,
            extra=m.extra,
        )
        self._writer = writer
        if current is not None:
            self.segment_started(SegmentStarted(**{**_fields(current), "t_s": t_s}))
        return writer.session_id

    def stop(self, t_s: float, status: str, truth: dict[str, Any] | None) -> int | None:
        writer, self._writer = self._writer, None
        if writer is None:
            return None
        for handle, _ in self._open.values():
            writer.end_segment(handle, t_s, complete=False)
        self._open.clear()
        if truth is not None:
            writer.set_truth(truth)
        writer.finish(status)
        self.last_session_id = writer.session_id
        return writer.session_id

    def stream_event(self, event: StreamEvent) -> None:
        if self._writer is not None:
            self._writer.add_event(event)

    def marker(self, marker: MarkerRecorded) -> None:
        if self._writer is not None:
            self._writer.add_marker(marker.t_s, marker.kind, marker.label, marker.value)

    def segment_started(self, event: SegmentStarted) -> None:
        if self._writer is not None:
            handle = self._writer.start_segment(
                event.label, event.kind.value, event.t_s, category=event.category
            )
            self._open[event.index] = (handle, event)

    def segment_ended(self, event: SegmentEnded) -> None:
        opened = self._open.pop(event.index, None)
        if self._writer is not None and opened is not None:
            self._writer.end_segment(opened[0], event.t_s, complete=event.complete)


def _fields(event: SegmentStarted) -> dict[str, Any]:
    return {name: getattr(event, name) for name in SegmentStarted.__slots__}
