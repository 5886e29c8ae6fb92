"""What the dashboard needs from the outside: a pipeline, a session store, a strap scanner and
a trigger comparison.

Structural types, so the live pipeline, :class:`~biofeedback.sessions.store.SessionStore` and
the BLE scanner satisfy them without importing this module, and tests pass small fakes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from biofeedback.analysis.view import CompareView
    from biofeedback.live.messages import PipelineEvent
    from biofeedback.sessions.bundle import SessionBundle


class PipelineLike(Protocol):
    """The live pipeline as the dashboard drives it; every control is a request, not a fact.

    The dashboard learns the outcome from the events (``RecordingChanged``, ``SegmentStarted``,
    ``MarkerRecorded``...), never by assuming a call succeeded.
    """

    def events(self) -> AsyncIterator[PipelineEvent]: ...
    async def start_recording(self) -> None: ...
    async def stop_recording(self, status: str | None = None) -> None: ...
    async def next_segment(self) -> None: ...
    async def previous_segment(self) -> None: ...
    async def toggle_pause(self) -> None: ...
    async def mark_trigger_start(self) -> None: ...
    async def mark_trigger_stop(self) -> None: ...
    async def mark_tingle(self) -> None: ...
    async def record_rating(self, label: str, relaxation: int, tingles: int) -> None: ...


@runtime_checkable
class HoldsRatings(Protocol):
    """A pipeline that keeps its session open until each rating asked for is settled.

    The dashboard asks in a modal while the stream goes on, so the protocol can end (and the
    session close) while the last dialog is open; such a pipeline waits for the answer
    (``record_rating``) or the skip (``skip_rating``). Pipelines without it are used as is.
    """

    def hold_ratings(self) -> None: ...
    async def skip_rating(self, label: str) -> None: ...


class SessionSummaryLike(Protocol):
    """One row of the sessions browser (``biofeedback.sessions.store.SessionSummary``)."""

    @property
    def id(self) -> int: ...
    @property
    def started_wall_s(self) -> float | None: ...
    @property
    def duration_s(self) -> float | None: ...
    @property
    def source(self) -> str | None: ...
    @property
    def beat_count(self) -> int: ...
    @property
    def protocol(self) -> str | None: ...
    @property
    def status(self) -> str: ...


class SessionsSource(Protocol):
    """Read-only access to recorded sessions (``SessionStore`` satisfies it)."""

    def list_sessions(self) -> Sequence[SessionSummaryLike]: ...
    def load_bundle(self, session_id: int) -> SessionBundle: ...


StrapFound = tuple[str, str, int]
"""``(name, address, rssi_dbm)`` of a strap seen by a scan."""

ScanFn = Callable[[], Awaitable[list[StrapFound]]]
"""Scan for heart-rate straps (service 0x180D) and return what was seen."""

CompareFn = Callable[[str], "CompareView"]
"""``compute(metric_key)``: the trigger comparison of the recorded sessions for one metric
(``"lnrmssd"``, ``"hr"``, ``"hf"`` or ``"pns"``). Blocking; the dashboard calls it in a worker
thread (see :func:`biofeedback.tui.compare_data.store_compare`)."""
