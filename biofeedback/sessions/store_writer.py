"""Live recording into the store: buffered in memory, committed at least once a second.

A writer holds its own connection. Rows are buffered and committed when an ``add_*`` call finds
the last commit ``commit_interval_s`` old, and by a background thread on the same schedule, so
even a silent strap leaves nothing uncommitted for longer than that. A process killed with
SIGKILL therefore loses at most ``commit_interval_s`` of data; the next
:class:`~biofeedback.sessions.store.SessionStore` to open the file marks the session
``interrupted``.

Other processes may write to the store at the same time (an import, a delete, another
recorder). A commit that finds the write lock taken waits at most ``LOCK_WAIT_MS`` and then
leaves its rows buffered for the next attempt, so the recording neither fails nor stalls the
event loop while another writer works; :meth:`SessionWriter.finish` waits up to
``FINISH_WAIT_S`` for the last commit.

With the background thread (the default), the ``add_*`` calls never touch the disk: they
append to in-memory buffers under a short lock, and the thread takes the buffers and does all
the SQLite work without holding that lock. A commit that takes seconds (a slow disk, a busy
store) therefore never blocks the caller, the event loop of a live session. :meth:`begin`,
:meth:`set_truth` and :meth:`finish` do SQLite work on the caller's thread; the live recorder
runs them with ``asyncio.to_thread``. Without the thread (``background=False``), ``add_*``
commits on the caller when the last commit is ``commit_interval_s`` old.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal

from biofeedback.errors import BiofeedbackError
from biofeedback.sessions import store_rows as rows
from biofeedback.sessions.bundle import SessionBundle
from biofeedback.sessions.store import (
    INSERT_OPEN_WAVEFORM,
    INSERT_WAVEFORM,
    SessionStore,
    insert_record,
    insert_session,
    update_beat_stats,
)
from biofeedback.sessions.store_rows import STATUSES
from biofeedback.sessions.store_schema import connect, is_busy, locked_message
from biofeedback.sessions.store_waves import (
    CHUNK_VALUES,
    ENCODING,
    MAX_TIME_ERROR_S,
    SAMPLE_LIMIT,
    STREAMS,
)
from devices.events import (
    Beat,
    Connected,
    Disconnected,
    MalformedPacket,
    MeasurementReceived,
    Reconnecting,
    StreamEvent,
)

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray

COMMIT_INTERVAL_S: Final = 0.5
LOCK_WAIT_MS: Final = 250
FINISH_WAIT_S: Final = 60.0
FINAL_STATUSES: Final = tuple(s for s in STATUSES if s != "recording")


class SessionWriter:
    """Records one session. ``clock`` (seconds, monotonic) paces the commits."""

    def __init__(
        self,
        store: SessionStore,
        *,
        commit_interval_s: float = COMMIT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        background: bool = True,
    ) -> None:
        if not 0 < commit_interval_s <= 1.0:
            raise ValueError(f"commit_interval_s must be in (0, 1]: {commit_interval_s}")
        self._conn = connect(store.path, busy_timeout_ms=LOCK_WAIT_MS)
        self._path = store.path
        self._interval_s = commit_interval_s
        self._clock = clock
        self._background = background
        self._lock = threading.Lock()
        """Guards the buffers only; never held while SQLite works."""
        self._db_lock = threading.Lock()
        """Guards the connection: one commit (or begin, truth, finish) at a time."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._session_id: int | None = None
        self._last_commit_s = clock()
        self._beats: list[tuple[Any, ...]] = []
        self._packets: list[tuple[Any, ...]] = []
        self._markers: list[dict[str, Any]] = []
        self._new_segments: dict[int, dict[str, Any]] = {}
        self._segment_rowids: dict[int, int] = {}
        self._segment_ends: list[tuple[float, bool, int]] = []
        """(end_s, complete, handle): a segment already handed to a commit, ended later."""
        self._next_handle = 0
        self._in_flight = 0
        self._waves: dict[str, _Wave] = {}
        """Per stream, the waveform chunk being filled: each commit adds the samples since the
        last as a piece (a row of ``waveforms_open``); once complete, the chunk is encoded whole
        into ``waveforms`` and its pieces deleted, in one transaction."""
        self._full_waves: list[_Wave] = []
        """Chunks that take no more samples, not yet committed whole."""
        self._wave_rates: dict[str, float] = {}

    @property
    def session_id(self) -> int:
        if self._session_id is None:
            raise BiofeedbackError("the session writer has not begun")
        return self._session_id

    def begin(
        self,
        *,
        device: Mapping[str, Any],
        source: str,
        started_wall_s: float | None = None,
        profile: str | None = None,
        protocol: object = None,
        order_used: object = None,
        settings: Mapping[str, Any] | None = None,
        notes: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> int:
        """Create the session (status ``recording``) and return its id."""
        session: dict[str, Any] = {
            "started_wall_s": time.time() if started_wall_s is None else float(started_wall_s),
            "source": source,
            "status": "recording",
            **(extra or {}),
        }
        optional = {"profile": profile, "protocol": protocol, "order_used": order_used}
        session.update({k: v for k, v in optional.items() if v is not None})
        if notes is not None:
            session["notes"] = notes
        bundle = SessionBundle(session=session, device=dict(device), settings=dict(settings or {}))

        def insert() -> bool:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._session_id = insert_session(self._conn, bundle, writer_pid=os.getpid())
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            return True

        with self._db_lock:
            self._patiently(insert)
            self._last_commit_s = self._clock()
        if self._background:
            self._thread = threading.Thread(target=self._flush_loop, daemon=True)
            self._thread.start()
        return self.session_id

    def add_packet(self, t_s: float, wall_s: float, raw: bytes) -> None:
        with self._lock:
            self._packets.append((self.session_id, float(t_s), float(wall_s), bytes(raw)))
        self._added()

    def add_beats(self, beats: Iterable[Beat]) -> None:
        sid = self.session_id
        with self._lock:
            self._beats.extend(
                (sid, float(b.t_s), float(b.rr_ms), b.rr_raw, b.segment, int(b.flags))
                for b in beats
            )
        self._added()

    def add_waveform(
        self,
        stream: str,
        t_s: ArrayLike,
        samples: ArrayLike,
        *,
        segment: int = 0,
        fs_hz: float | None = None,
    ) -> None:
        """Raw samples of ``stream`` (``ecg``: µV, shape (n,); ``acc``: mg, shape (n, 3)), each
        at its session time ``t_s``, as one PMD frame gives them. They join the stream's open
        chunk while they continue it (same ``segment``, times on its line within
        :data:`~biofeedback.sessions.store_waves.MAX_TIME_ERROR_S`); a chunk is full at
        :data:`~biofeedback.sessions.store_waves.CHUNK_VALUES`. ``fs_hz`` is needed only for a
        first frame of one sample. Only appends to memory: encoding and writing are the
        commit's."""
        import numpy as np

        if stream not in STREAMS:
            raise ValueError(f"stream must be one of {', '.join(STREAMS)}: {stream!r}")
        channels = STREAMS[stream][0]
        values = np.asarray(samples)
        times = np.asarray(t_s, dtype=np.float64).ravel()
        if values.dtype.kind not in "iu" or values.size != len(times) * channels:
            raise ValueError(f"{stream}: expected {len(times)} x {channels} integer samples")
        if not len(times):
            return
        if values.min() < -SAMPLE_LIMIT or values.max() >= SAMPLE_LIMIT:
            raise ValueError(f"{stream}: a sample is beyond ±2**30")
        values = values.reshape(len(times), channels).astype(np.int32)  # a copy, ours
        if not np.isfinite(times).all():
            raise ValueError(f"{stream}: a sample time is not finite")
        first, last, k = float(times[0]), float(times[-1]), len(times)
        rate = (k - 1) / (last - first) if k > 1 and last > first else fs_hz
        with self._lock:
            wave = self._waves.pop(stream, None)
            if wave is not None and not wave.continued_by(first, last, k, int(segment)):
                self._full_waves.append(wave)
                wave = None
            if wave is None:
                rate = rate or self._wave_rates.get(stream)
                if rate is None or not rate > 0:
                    raise ValueError(f"{stream}: one sample and no fs_hz: its rate is unknown")
                self._wave_rates[stream] = rate
                wave = _Wave(stream, int(segment), first, float(rate), channels)
            wave.parts.append(values)
            wave.n += k
            if wave.n * channels >= CHUNK_VALUES:
                self._full_waves.append(wave)
            else:
                self._waves[stream] = wave
        self._added()

    def add_marker(
        self, t_s: float, kind: str, label: str | None = None, value: object = None
    ) -> None:
        """A protocol, playback, device or user event; ``value`` is any JSON value."""
        marker: dict[str, Any] = {"t_s": float(t_s), "kind": kind}
        if label is not None:
            marker["label"] = label
        if value is not None:
            marker["value"] = value
        rows.dumps(marker)  # reject NaN or unserialisable values here, not at commit time
        with self._lock:
            self._markers.append(marker)
        self._added()

    def add_event(self, event: StreamEvent) -> None:
        """Record a stream event: raw packets, beats, and connection changes as markers."""
        if isinstance(event, MeasurementReceived | MalformedPacket):
            self.add_packet(event.t_s, event.wall_s, event.raw)
        elif isinstance(event, Beat):
            self.add_beats((event,))
        elif isinstance(event, Connected):
            self.add_marker(event.t_s, "device", "connected", event.device.name)
        elif isinstance(event, Disconnected):
            self.add_marker(event.t_s, "device", "disconnected", event.reason.value)
        elif isinstance(event, Reconnecting):
            self.add_marker(event.t_s, "device", "reconnecting", event.attempt)

    def start_segment(
        self, label: str, kind: str, start_s: float, *, category: str | None = None
    ) -> int:
        """Open a protocol segment; returns a handle for :meth:`end_segment`."""
        segment: dict[str, Any] = {"label": label, "kind": kind, "start_s": float(start_s)}
        if category is not None:
            segment["category"] = category
        with self._lock:
            handle = self._next_handle
            self._next_handle += 1
            self._new_segments[handle] = segment
        self._added()
        return handle

    def end_segment(self, handle: int, end_s: float, *, complete: bool = True) -> None:
        with self._lock:
            pending = self._new_segments.get(handle)
            if pending is not None:
                pending.update(end_s=float(end_s), complete=complete)
            elif 0 <= handle < self._next_handle:  # committed, or being committed now
                self._segment_ends.append((float(end_s), complete, handle))
            else:
                raise BiofeedbackError(f"no open segment with handle {handle}")
        self._added()

    def add_segment(
        self,
        label: str,
        kind: str,
        start_s: float,
        end_s: float,
        *,
        complete: bool = True,
        category: str | None = None,
    ) -> None:
        self.end_segment(
            self.start_segment(label, kind, start_s, category=category), end_s, complete=complete
        )

    def set_truth(self, truth: Mapping[str, list[Any]]) -> None:
        """Attach simulator ground-truth columns (written at once)."""
        self._set_json("truth", truth)

    def set_settings(self, settings: Mapping[str, Any]) -> None:
        """Replace the session's stored settings (at its end: what the live run actually used,
        e.g. ECG beat shapes once the strap's ECG was matched)."""
        self._set_json("settings", settings)

    def _set_json(self, column: Literal["truth", "settings"], value: Mapping[str, Any]) -> None:
        text, sid = rows.dumps(value), self.session_id

        def update() -> bool:
            self._conn.execute(f"UPDATE sessions SET {column} = ? WHERE id = ?", (text, sid))
            return True

        with self._db_lock:
            self._patiently(update)

    def _added(self) -> None:
        """After an append: surface a failure of the thread; commit here only without one."""
        if self._failure is not None:
            raise BiofeedbackError(f"the session store failed: {self._failure}") from self._failure
        if self._thread is None:
            self.maybe_commit()

    def maybe_commit(self, now_s: float | None = None) -> bool:
        """Commit if the last commit is ``commit_interval_s`` old; True if it committed."""
        if self._failure is not None:
            raise BiofeedbackError(f"the session store failed: {self._failure}") from self._failure
        now = self._clock() if now_s is None else now_s
        if now - self._last_commit_s < self._interval_s:
            return False
        self.commit()
        return True

    def commit(self) -> None:
        """Commit the buffers now, on the caller's thread (rows stay buffered if locked)."""
        with self._db_lock:
            self._commit_locked()

    @property
    def pending_rows(self) -> int:
        """Rows not yet committed: buffered (waiting for the clock or another writer) or in a
        commit that has not finished."""
        with self._lock:
            waves = len(self._full_waves) + sum(w.n > w.written for w in self._waves.values())
            return (
                len(self._beats) + len(self._packets) + len(self._markers) + waves
            ) + self._in_flight

    def _commit_locked(self) -> bool:
        """Commit the buffers (the caller holds ``_db_lock``); False, with every row kept
        for the next attempt, if another process holds the write lock."""
        self._last_commit_s = self._clock()
        batch = self._take()
        if batch is None:
            return True
        try:
            self._write_batch(batch)
        except BaseException as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._give_back(batch)
            if isinstance(exc, sqlite3.OperationalError) and is_busy(exc):
                return False
            raise
        with self._lock:
            self._in_flight = 0
        return True

    def _take(self) -> _Batch | None:
        """Swap the buffers for empty ones under the short lock; None if nothing is pending."""
        with self._lock:
            waves = [_WaveWrite(w, list(w.parts), 0, w.n, True) for w in self._full_waves]
            waves += [
                _WaveWrite(w, list(w.parts), w.written, w.n, False)
                for w in self._waves.values()
                if w.n > w.written
            ]
            batch = _Batch(
                self._beats,
                self._packets,
                self._markers,
                self._new_segments,
                self._segment_ends,
                waves,
                self._full_waves,
            )
            if not batch.any():
                return None
            self._beats, self._packets, self._markers = [], [], []
            self._new_segments, self._segment_ends = {}, []
            self._full_waves = []
            self._in_flight = (
                len(batch.beats) + len(batch.packets) + len(batch.markers) + len(waves)
            )
        return batch

    def _give_back(self, batch: _Batch) -> None:
        """A failed commit's rows go back in front of whatever arrived meanwhile."""
        with self._lock:
            self._beats[:0] = batch.beats
            self._packets[:0] = batch.packets
            self._markers[:0] = batch.markers
            self._new_segments = {**batch.segments, **self._new_segments}
            self._segment_ends[:0] = batch.segment_ends
            self._full_waves[:0] = batch.full_waves
            self._in_flight = 0

    def _write_batch(self, batch: _Batch) -> None:
        """One transaction with every row of ``batch`` (runs without the buffer lock)."""
        c, sid = self._conn, self.session_id
        encoded = _encode_waves(batch.waves)  # before the write lock is taken: it may be slow
        c.execute("BEGIN IMMEDIATE")
        c.executemany("INSERT INTO beats VALUES (?, ?, ?, ?, ?, ?)", batch.beats)
        c.executemany("INSERT INTO packets VALUES (?, ?, ?, ?)", batch.packets)
        for marker in batch.markers:
            insert_record(c, "markers", sid, marker, rows.MARKER_COLUMNS)
        rowids = {
            h: insert_record(c, "segments", sid, seg, rows.SEGMENT_COLUMNS)
            for h, seg in batch.segments.items()
        }
        known = {**self._segment_rowids, **rowids}
        c.executemany(
            "UPDATE segments SET end_s = ?, complete = ? WHERE rowid = ?",
            [(end_s, complete, known[h]) for end_s, complete, h in batch.segment_ends],
        )
        update_beat_stats(c, sid, [b[1] for b in batch.beats], [b[2] for b in batch.beats])
        pieces: list[tuple[_WaveWrite, int]] = []
        for write, data in zip(batch.waves, encoded, strict=True):
            w = write.wave
            t0_s = w.t0_s + write.start / w.fs_hz
            n = write.n - write.start
            row = (sid, w.stream, w.segment, t0_s, w.fs_hz, n, w.channels, ENCODING, data)
            if write.full:  # the whole chunk, appended where pages stay full; its pieces go
                c.executemany(
                    "DELETE FROM waveforms_open WHERE rowid = ?", [(r,) for r in w.pieces]
                )
                c.execute(INSERT_WAVEFORM, row)
            else:  # the samples since the last commit, as a piece of the open chunk
                cur = c.execute(INSERT_OPEN_WAVEFORM, row)
                assert cur.lastrowid is not None
                pieces.append((write, cur.lastrowid))
        c.execute("COMMIT")
        self._segment_rowids.update(rowids)
        with self._lock:
            for write, rowid in pieces:
                write.wave.pieces.append(rowid)
                write.wave.written = write.n

    def _flush_loop(self) -> None:
        while not self._stop.wait(self._interval_s / 2):
            try:
                with self._db_lock:
                    if self._clock() - self._last_commit_s >= self._interval_s:
                        self._commit_locked()
            except Exception as exc:  # surfaced by the next add_* or finish()
                self._failure = exc
                return

    def finish(self, status: str = "complete", ended_wall_s: float | None = None) -> None:
        """Commit everything, set the final status and release the file.

        ``status``: ``complete`` (ran to its end), ``stopped`` (its user ended it early) or
        ``interrupted`` (a signal or a failure ended it).
        """
        if status not in FINAL_STATUSES:
            raise ValueError(f"status must be one of {FINAL_STATUSES}: {status!r}")
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._failure is not None:
            raise BiofeedbackError(f"the session store failed: {self._failure}") from self._failure
        ended = time.time() if ended_wall_s is None else ended_wall_s

        with self._lock:  # every chunk is complete now
            self._full_waves.extend(self._waves.values())
            self._waves.clear()

        def close_session() -> bool:
            if not self._commit_locked():
                return False
            self._conn.execute(
                "UPDATE sessions SET status = ?, ended_wall_s = ?, writer_pid = NULL WHERE id = ?",
                (status, ended, self.session_id),
            )
            return True

        with self._db_lock:
            try:
                self._patiently(close_session)
            finally:
                self._conn.close()

    def _patiently(self, attempt: Callable[[], bool]) -> None:
        """Run ``attempt`` until it returns True, retrying while another process holds the
        write lock, for at most ``FINISH_WAIT_S``."""
        deadline = time.monotonic() + FINISH_WAIT_S
        while True:
            try:
                if attempt():
                    return
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
            if time.monotonic() > deadline:
                raise BiofeedbackError(locked_message(self._path, int(FINISH_WAIT_S * 1000)))

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session_id is not None and not self._stop.is_set():
            self.finish("complete" if et is None else "interrupted")


@dataclass(slots=True)
class _Batch:
    """The rows one commit takes from the buffers."""

    beats: list[tuple[Any, ...]]
    packets: list[tuple[Any, ...]]
    markers: list[dict[str, Any]]
    segments: dict[int, dict[str, Any]]
    segment_ends: list[tuple[float, bool, int]]
    waves: list[_WaveWrite]
    full_waves: list[_Wave]

    def any(self) -> bool:
        return bool(
            self.beats
            or self.packets
            or self.markers
            or self.segments
            or self.segment_ends
            or self.waves
        )


@dataclass(slots=True, eq=False)
class _Wave:
    """A waveform chunk being recorded: its samples so far, and its row once committed."""

    stream: str
    segment: int
    t0_s: float
    fs_hz: float
    channels: int
    parts: list[NDArray[np.int32]] = field(default_factory=list)
    n: int = 0
    written: int = 0
    """Samples in committed pieces (rows of ``waveforms_open``)."""
    pieces: list[int] = field(default_factory=list)
    """The pieces' rowids."""

    def continued_by(self, first_s: float, last_s: float, k: int, segment: int) -> bool:
        """Whether a frame of ``k`` samples from ``first_s`` to ``last_s`` continues this
        chunk: same segment, both ends on the chunk's line within MAX_TIME_ERROR_S."""
        line0 = self.t0_s + self.n / self.fs_hz
        line1 = self.t0_s + (self.n + k - 1) / self.fs_hz
        return (
            segment == self.segment
            and abs(first_s - line0) <= MAX_TIME_ERROR_S
            and abs(last_s - line1) <= MAX_TIME_ERROR_S
        )


@dataclass(frozen=True, slots=True)
class _WaveWrite:
    """What one commit writes of a chunk: samples ``start:n`` of ``parts`` as a piece, or, if
    ``full``, the whole chunk (``start`` 0) in place of its pieces."""

    wave: _Wave
    parts: list[NDArray[np.int32]]
    start: int
    n: int
    full: bool


def _encode_waves(waves: list[_WaveWrite]) -> list[bytes]:
    if not waves:
        return []
    import numpy as np

    from biofeedback.sessions.store_waves import encode

    return [encode(np.concatenate(w.parts)[w.start : w.n]) for w in waves]
