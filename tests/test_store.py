"""The SQLite session store: schema, permissions, live writing, recovery, listing, deletion."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from biofeedback.errors import BiofeedbackError, InputError
from biofeedback.sessions.store import SessionStore, writer_alive
from biofeedback.sessions.store_schema import ENV_DB, SCHEMA_VERSION, default_db_path
from biofeedback.sessions.store_writer import SessionWriter
from devices.events import Beat, BeatFlag

DEVICE = {"name": "Polar H10 ABCD", "address": "AA:BB", "kind": "ble"}


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def beats(n: int, start: int = 0) -> list[Beat]:
    return [Beat(1.0 + 0.8 * i, 800.0, 819, 0, i) for i in range(start, start + n)]


def visible_beats(path: Path) -> int:
    with sqlite3.connect(path) as other:
        return int(other.execute("SELECT COUNT(*) FROM beats").fetchone()[0])


def test_default_path_honours_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv(ENV_DB, str(tmp_path / "x.db"))
    assert default_db_path() == tmp_path / "x.db"
    monkeypatch.delenv(ENV_DB)
    assert default_db_path().name == "sessions.db"
    assert "biofeedback" in default_db_path().parts[-2]


def test_new_store_is_private_wal_and_versioned(tmp_path: Path):
    path = tmp_path / "sub" / "s.db"
    with SessionStore(path) as store:
        writer = SessionWriter(store, background=False)
        writer.begin(device=DEVICE, source="ble")
        writer.add_beats(beats(3))
        writer.commit()
        for name in ("s.db", "s.db-wal", "s.db-shm"):
            assert stat.S_IMODE((path.parent / name).stat().st_mode) == 0o600, name
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        writer.finish()


def test_a_newer_schema_is_refused(tmp_path: Path):
    path = tmp_path / "s.db"
    SessionStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(BiofeedbackError, match="newer than this program"):
        SessionStore(path)


def test_a_file_that_is_not_a_store_is_an_input_error(tmp_path: Path):
    path = tmp_path / "s.db"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(InputError, match="not a usable session store"):
        SessionStore(path)


def test_writer_commits_once_the_interval_has_passed(tmp_path: Path):
    clock = FakeClock()
    store = SessionStore(tmp_path / "s.db")
    writer = SessionWriter(store, commit_interval_s=0.5, clock=clock, background=False)
    writer.begin(device=DEVICE, source="ble")
    writer.add_beats(beats(2))
    assert visible_beats(store.path) == 0  # buffered
    clock.now_s = 0.6
    writer.add_beats(beats(1, start=2))
    assert visible_beats(store.path) == 3
    clock.now_s = 0.7
    writer.add_packet(0.7, 1.7e9, b"\x10\x40")
    assert visible_beats(store.path) == 3
    writer.finish()
    assert store.summary(writer.session_id).status == "complete"


def test_background_thread_commits_a_silent_stream(tmp_path: Path):
    store = SessionStore(tmp_path / "s.db")
    writer = SessionWriter(store, commit_interval_s=0.05)
    writer.begin(device=DEVICE, source="ble")
    writer._last_commit_s = -1.0  # as if the last commit were long ago
    with writer._lock:
        writer._beats.extend((writer.session_id, 1.0, 800.0, 819, 0, 0) for _ in range(4))
    for _ in range(200):
        if visible_beats(store.path) == 4:
            break
        writer._stop.wait(0.01)
    assert visible_beats(store.path) == 4
    writer.finish()


def test_listing_summarises_each_session(tmp_path: Path):
    store = SessionStore(tmp_path / "s.db")
    with SessionWriter(store, background=False) as writer:
        writer.begin(
            device=DEVICE, source="ble", started_wall_s=1000.0, protocol={"name": "default"}
        )
        writer.add_beats(beats(10))
    (summary,) = store.list_sessions()
    assert summary.id == writer.session_id
    assert (summary.beat_count, summary.protocol, summary.status) == (10, "default", "complete")
    assert summary.started_wall_s == 1000.0
    assert summary.to_json()["source"] == "ble"


def test_an_exception_inside_the_writer_context_marks_the_session_interrupted(tmp_path: Path):
    store = SessionStore(tmp_path / "s.db")
    writer = SessionWriter(store, background=False)

    def record_then_fail() -> None:
        with writer:
            writer.begin(device=DEVICE, source="ble")
            writer.add_beats(beats(5))
            raise RuntimeError("strap fell off the table")

    with pytest.raises(RuntimeError):
        record_then_fail()
    summary = store.summary(writer.session_id)
    assert (summary.status, summary.beat_count) == ("interrupted", 5)


def test_recovery_marks_only_sessions_of_dead_writers(tmp_path: Path):
    path = tmp_path / "s.db"
    store = SessionStore(path)
    live = SessionWriter(store, background=False)
    live_id = live.begin(device=DEVICE, source="ble")
    dead = SessionWriter(store, background=False)
    dead_id = dead.begin(device=DEVICE, source="ble")
    dead.add_beats(beats(3))
    dead.commit()
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    store.conn.execute(
        "UPDATE sessions SET writer_pid = ? WHERE id = ?", (int(gone.stdout), dead_id)
    )
    assert not writer_alive(int(gone.stdout), None)
    reopened = SessionStore(path)
    assert reopened.summary(dead_id).status == "interrupted"
    assert reopened.summary(dead_id).beat_count == 3
    assert reopened.summary(live_id).status == "recording"
    assert reopened.load_bundle(dead_id).beats["rr_ms"] == [800.0] * 3
    live.finish()


def test_a_reused_pid_is_not_a_live_writer():
    assert writer_alive(os.getpid(), None)
    assert not writer_alive(os.getpid(), "not-my-start-time")
    assert not writer_alive(None, None)


def test_delete_removes_the_session_and_its_rows(tmp_path: Path):
    store = SessionStore(tmp_path / "s.db")
    with SessionWriter(store, background=False) as writer:
        sid = writer.begin(device=DEVICE, source="ble")
        writer.add_beats(beats(4))
        writer.add_marker(1.0, "user", "tingle")
        writer.add_segment("baseline", "baseline", 0.0, 180.0)
        writer.add_packet(1.0, 1.7e9, b"\x10\x40")
    store.delete(sid)
    assert store.count() == 0
    for table in ("beats", "packets", "markers", "segments"):
        assert store.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0
    with pytest.raises(InputError, match=f"no session {sid}"):
        store.delete(sid)
    with pytest.raises(InputError, match="no session 99"):
        store.load_bundle(99)


def test_flags_and_segments_of_beats_are_kept(tmp_path: Path):
    store = SessionStore(tmp_path / "s.db")
    odd = Beat(5.0, 3000.0, 3072, 2, 7, BeatFlag.IMPLAUSIBLE | BeatFlag.SALVAGED)
    with SessionWriter(store, background=False) as writer:
        sid = writer.begin(device=DEVICE, source="ble")
        writer.add_beats([odd])
    b = store.load_bundle(sid).beats
    assert (b["segment"], b["flags"], b["rr_raw"]) == ([2], [3], [3072])
