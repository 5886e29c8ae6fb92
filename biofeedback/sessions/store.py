"""The session store: one SQLite file of sessions, raw packets, beats, markers, segments and
raw ECG/ACC waveform chunks (:mod:`~biofeedback.sessions.store_waves`).

Opening the store checks it (SQLite's quick_check) and repairs what dead recorders left: a
session left ``recording`` by a process that is gone becomes ``interrupted`` and its open
segments are closed at its last beat, marked incomplete; committed rows stay usable. A session
whose recorder is alive cannot be deleted. Live recording goes through
:class:`~biofeedback.sessions.store_writer.SessionWriter`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from biofeedback.errors import InputError
from biofeedback.sessions import store_rows as rows
from biofeedback.sessions.bundle import BEAT_COLUMNS, PACKET_COLUMNS, SessionBundle
from biofeedback.sessions.store_schema import connect, default_db_path, quick_check
from biofeedback.sessions.store_waves import COLUMNS as WAVE_COLUMNS
from biofeedback.sessions.store_waves import (
    Chunk,
    chunk_from_row,
    chunk_of_record,
)

INSERT_WAVEFORM = (
    f"INSERT INTO waveforms (session_id, {', '.join(WAVE_COLUMNS)})"
    f" VALUES ({', '.join('?' * (len(WAVE_COLUMNS) + 1))})"
)
INSERT_OPEN_WAVEFORM = INSERT_WAVEFORM.replace("waveforms", "waveforms_open", 1)
_WAVE_SQL = f"""SELECT {", ".join(WAVE_COLUMNS)} FROM (
    SELECT 0 AS part, rowid AS r, * FROM waveforms WHERE session_id = :sid
    UNION ALL SELECT 1, rowid, * FROM waveforms_open WHERE session_id = :sid)"""
"""A session's chunks, oldest first: the complete ones, then any a recorder still fills (or a
killed one left)."""


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One line of ``biofeedback sessions``. Times in seconds; ``started_wall_s`` is Unix time."""

    id: int
    started_wall_s: float | None
    duration_s: float | None
    source: str | None
    beat_count: int
    protocol: str | None
    status: str

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "started_wall_s": self.started_wall_s,
            "duration_s": self.duration_s,
            "source": self.source,
            "beat_count": self.beat_count,
            "protocol": self.protocol,
            "status": self.status,
        }


class DuplicateImportError(InputError):
    """The same recording is already in the store."""

    def __init__(self, existing_id: int, origin: str, *, recorded_here: bool = False) -> None:
        how = "in the store" if recorded_here else "imported"
        super().__init__(f"{origin}: already {how} as session {existing_id}")
        self.existing_id = existing_id


_SUMMARY_SQL = """SELECT id, started_wall_s, ended_wall_s, source, beat_count, protocol, status,
    first_beat_start_s, last_beat_t_s FROM sessions"""


class SessionStore:
    """A handle on the store file (``default_db_path()`` unless ``path`` is given)."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        recover: bool = True,
        create: bool = True,
        check: bool = True,
    ) -> None:
        """``create=False`` for commands that only read: a mistyped path is an error, not a
        new empty store. ``check`` runs quick_check first, so nothing is read from a damaged
        file without saying so."""
        self.path = Path(path) if path is not None else default_db_path()
        self.conn = connect(self.path, create=create)
        try:
            if check:
                quick_check(self.conn, self.path)
            if recover:
                self.recover_interrupted()
        except BaseException:
            self.conn.close()
            raise

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def recover_interrupted(self) -> list[int]:
        """Mark ``recording`` sessions whose writer process is gone ``interrupted``, close
        their open segments (at the last beat, incomplete) and complete the waveform chunks
        they were filling; return their ids."""
        stale = [
            sid
            for sid, pid, start in self.conn.execute(
                "SELECT id, writer_pid, writer_start FROM sessions WHERE status = 'recording'"
            )
            if not writer_alive(pid, start)
        ]
        orphans = (
            self.conn.execute(
                "SELECT 1 FROM segments JOIN sessions ON sessions.id = segments.session_id"
                " WHERE segments.end_s IS NULL AND sessions.status != 'recording' LIMIT 1"
            ).fetchone()
            or self.conn.execute(
                "SELECT 1 FROM waveforms_open JOIN sessions"
                " ON sessions.id = waveforms_open.session_id"
                " WHERE sessions.status != 'recording' LIMIT 1"
            ).fetchone()
        )
        if not stale and orphans is None:
            return []
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            for sid in stale:
                c.execute(
                    """UPDATE sessions SET status = 'interrupted', writer_pid = NULL,
                    ended_wall_s = COALESCE(
                        (SELECT MAX(wall_s) FROM packets WHERE session_id = :id),
                        started_wall_s + last_beat_t_s - first_beat_start_s)
                    WHERE id = :id AND status = 'recording'""",
                    {"id": sid},
                )
            # Chunks a killed recorder was filling are complete: what it committed is all.
            c.execute(
                f"""INSERT INTO waveforms (session_id, {", ".join(WAVE_COLUMNS)})
                SELECT session_id, {", ".join(WAVE_COLUMNS)} FROM waveforms_open
                WHERE session_id IN (SELECT id FROM sessions WHERE status != 'recording')
                ORDER BY rowid"""
            )
            c.execute(
                "DELETE FROM waveforms_open WHERE session_id IN"
                " (SELECT id FROM sessions WHERE status != 'recording')"
            )
            # Every segment a finished session left open ends at its last beat (or where it
            # began, if no beat came after it), and is marked incomplete.
            c.execute(
                """UPDATE segments SET complete = 0, end_s = MAX(start_s, COALESCE(
                    (SELECT last_beat_t_s FROM sessions WHERE sessions.id = segments.session_id),
                    start_s))
                WHERE end_s IS NULL AND session_id IN
                    (SELECT id FROM sessions WHERE status != 'recording')"""
            )
            c.execute("COMMIT")
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise
        return stale

    def recording_pid(self, session_id: int) -> int | None:
        """The pid of the live process recording this session, or None."""
        row = self.conn.execute(
            "SELECT status, writer_pid, writer_start FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        if row is None or row[0] != "recording" or not writer_alive(row[1], row[2]):
            return None
        return int(row[1])

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])

    def list_sessions(self) -> list[SessionSummary]:
        """Every session, oldest first."""
        return [_summary(r) for r in self.conn.execute(_SUMMARY_SQL + " ORDER BY id")]

    def summary(self, session_id: int) -> SessionSummary:
        row = self.conn.execute(_SUMMARY_SQL + " WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise self._missing(session_id)
        return _summary(row)

    def load_bundle(self, session_id: int) -> SessionBundle:
        """The whole session, exactly as recorded or imported, read in one transaction (one
        snapshot of the file, whatever other processes commit meanwhile)."""
        c = self.conn
        c.execute("BEGIN")
        try:
            return self._load_bundle(session_id)
        finally:
            c.execute("COMMIT")

    def _load_bundle(self, session_id: int) -> SessionBundle:
        c = self.conn
        c.row_factory = sqlite3.Row
        try:
            row = c.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is None:
                raise self._missing(session_id)
            marker_rows = c.execute(
                "SELECT * FROM markers WHERE session_id = ? ORDER BY rowid", (session_id,)
            ).fetchall()
            segment_rows = c.execute(
                "SELECT * FROM segments WHERE session_id = ? ORDER BY rowid", (session_id,)
            ).fetchall()
        finally:
            c.row_factory = None
        beats = c.execute(
            "SELECT t_s, rr_ms, rr_raw, segment, flags FROM beats WHERE session_id = ?"
            " ORDER BY rowid",
            (session_id,),
        ).fetchall()
        packets = [
            (t, w, bytes(raw).hex())
            for t, w, raw in c.execute(
                "SELECT t_s, wall_s, raw FROM packets WHERE session_id = ? ORDER BY rowid",
                (session_id,),
            )
        ]
        waveforms = [
            chunk_from_row(r).to_json()
            for r in c.execute(_WAVE_SQL + " ORDER BY part, r", {"sid": session_id})
        ]
        return SessionBundle(
            session={"id": session_id, **rows.join_record(row, rows.SESSION_COLUMNS)},
            device=json.loads(row["device"]),
            settings=json.loads(row["settings"]),
            segments=[rows.join_record(r, rows.SEGMENT_COLUMNS) for r in segment_rows],
            markers=[rows.join_record(r, rows.MARKER_COLUMNS) for r in marker_rows],
            packets=rows.columns_of(packets, PACKET_COLUMNS),
            beats=rows.columns_of(beats, BEAT_COLUMNS),
            truth=json.loads(row["truth"]) if row["truth"] is not None else None,
            program_version=row["program_version"],
            waveforms=waveforms,
        )

    def waveform_chunks(self, session_id: int, stream: str | None = None) -> list[Chunk]:
        """The session's stored ECG/ACC chunks (``stream`` only, if given), oldest first, still
        encoded (:meth:`~biofeedback.sessions.store_waves.Chunk.samples` decodes one)."""
        self.summary(session_id)  # a one-line error for a missing session
        where = " WHERE stream = :stream" if stream is not None else ""
        sql = _WAVE_SQL + where + " ORDER BY part, r"
        return [
            chunk_from_row(r) for r in self.conn.execute(sql, {"sid": session_id, "stream": stream})
        ]

    def import_bundle(self, bundle: SessionBundle, origin: str = "bundle") -> int:
        """Add a bundle as a new session, atomically; a second copy raises
        :class:`DuplicateImportError`. A bundle still marked ``recording`` becomes
        ``interrupted`` (no process is writing it here)."""
        bundle = rows.normalise(bundle, origin)
        if bundle.session.get("status") == "recording":
            bundle.session = {**bundle.session, "status": "interrupted"}
        try:
            digest = rows.content_sha256(bundle)
        except ValueError as exc:
            raise InputError(f"{origin}: not valid JSON content: {exc}") from exc
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            self._check_duplicate(bundle, digest, origin)
            sid = insert_session(c, bundle, import_sha256=digest)
            c.executemany(
                "INSERT INTO beats VALUES (?, ?, ?, ?, ?, ?)", rows.beat_rows(sid, bundle.beats)
            )
            c.executemany(
                "INSERT INTO packets VALUES (?, ?, ?, ?)", rows.packet_rows(sid, bundle.packets)
            )
            for marker in bundle.markers:
                insert_record(c, "markers", sid, marker, rows.MARKER_COLUMNS)
            for segment in bundle.segments:
                insert_record(c, "segments", sid, segment, rows.SEGMENT_COLUMNS)
            c.executemany(INSERT_WAVEFORM, (chunk_of_record(w).row(sid) for w in bundle.waveforms))
            update_beat_stats(c, sid, bundle.beats["t_s"], bundle.beats["rr_ms"])
            c.execute("COMMIT")
        except ValueError as exc:
            if c.in_transaction:
                c.execute("ROLLBACK")
            if isinstance(exc, InputError):
                raise
            raise InputError(f"{origin}: {exc}") from exc
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise
        return sid

    def _check_duplicate(self, bundle: SessionBundle, digest: str, origin: str) -> None:
        found = self.conn.execute(
            "SELECT id FROM sessions WHERE import_sha256 = ?", (digest,)
        ).fetchone()
        if found is not None:
            raise DuplicateImportError(int(found[0]), origin)
        started = bundle.session.get("started_wall_s")
        if isinstance(started, float):
            # A session recorded here has no import hash: the same start instant, device and
            # beat count identify it.
            found = self.conn.execute(
                "SELECT id FROM sessions WHERE started_wall_s = ? AND beat_count = ?"
                " AND device = ? AND import_sha256 IS NULL",
                (started, len(bundle.beats["t_s"]), rows.dumps(bundle.device)),
            ).fetchone()
            if found is not None:
                raise DuplicateImportError(int(found[0]), origin, recorded_here=True)

    def delete(self, session_id: int) -> None:
        """Remove a session and all its rows; a session being recorded is refused."""
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            pid = self.recording_pid(session_id)
            if pid is not None:
                raise InputError(f"session {session_id} is being recorded by pid {pid}")
            if c.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount == 0:
                raise self._missing(session_id)
            c.execute("COMMIT")
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise

    def _missing(self, session_id: int) -> InputError:
        return InputError(f"no session {session_id} in {self.path}")


def _summary(r: tuple[Any, ...]) -> SessionSummary:
    sid, started, ended, source, count, protocol, status, first, last = r
    # Session-clock time first: a simulated session run faster than real time lasted its
    # simulated duration, not the wall time it took.
    if first is not None and last is not None:
        duration: float | None = last - first
    elif started is not None and ended is not None:
        duration = ended - started
    else:
        duration = None
    return SessionSummary(sid, started, duration, source, count, _protocol_name(protocol), status)


def _protocol_name(text: str | None) -> str | None:
    if text is None:
        return None
    value = json.loads(text)
    if isinstance(value, dict):
        name = value.get("name")
        return None if name is None else str(name)
    return None if value is None else str(value)


def insert_session(
    c: sqlite3.Connection,
    bundle: SessionBundle,
    *,
    import_sha256: str | None = None,
    writer_pid: int | None = None,
) -> int:
    """Insert the session row (no beats) and return its id."""
    session = {k: v for k, v in bundle.session.items() if k != "id"}
    session.setdefault("status", "complete")
    row = rows.split_record(session, rows.SESSION_COLUMNS)
    row.update(
        device=rows.dumps(bundle.device),
        settings=rows.dumps(bundle.settings),
        program_version=bundle.program_version,
        import_sha256=import_sha256,
        writer_pid=writer_pid,
        writer_start=process_start(writer_pid) if writer_pid is not None else None,
        truth=rows.dumps(bundle.truth) if bundle.truth is not None else None,
    )
    row["extra"] = row["extra"] or "{}"
    names = ", ".join(row)
    marks = ", ".join(f":{k}" for k in row)
    cur = c.execute(f"INSERT INTO sessions ({names}) VALUES ({marks})", row)
    assert cur.lastrowid is not None
    return cur.lastrowid


def insert_record(
    c: sqlite3.Connection,
    table: str,
    session_id: int,
    record: Mapping[str, Any],
    columns: Mapping[str, object],
) -> int:
    row = rows.split_record(record, columns)
    row["session_id"] = session_id
    names = ", ".join(row)
    marks = ", ".join(f":{k}" for k in row)
    cur = c.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", row)
    assert cur.lastrowid is not None
    return cur.lastrowid


def update_beat_stats(
    c: sqlite3.Connection, session_id: int, t_s: list[float], rr_ms: list[float]
) -> None:
    """Keep the summary columns current so listing never scans the beats."""
    if not t_s:
        return
    c.execute(
        """UPDATE sessions SET beat_count = beat_count + ?,
        first_beat_start_s = COALESCE(first_beat_start_s, ?), last_beat_t_s = ? WHERE id = ?""",
        (len(t_s), t_s[0] - rr_ms[0] / 1000.0, t_s[-1], session_id),
    )


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of ``/proc/PID/stat`` after the command name (Linux), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    fields = _proc_stat(pid)
    return fields[19] if fields else None


def writer_alive(pid: int | None, start: str | None) -> bool:
    """Is the recording process still running? A zombie or a reused pid counts as gone."""
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    fields = _proc_stat(pid)
    if fields is None:
        # No procfs (not Linux): the pid answering is all there is to go on.
        return _proc_stat(os.getpid()) is None
    return fields[0] != "Z" and (start is None or fields[19] == start)
