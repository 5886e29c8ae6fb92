"""Where the session store lives, how its file is opened, and its schema migrations.

One SQLite file in WAL mode. ``synchronous=NORMAL`` in WAL mode makes every commit durable
against a killed process (the WAL is written before the commit returns; only a power cut can
lose the last transactions), which is the crash model the recorder promises.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Final

import platformdirs

from biofeedback.errors import BiofeedbackError, InputError

ENV_DB: Final = "BIOFEEDBACK_DB"
DB_FILE_NAME: Final = "sessions.db"
FILE_MODE: Final = 0o600
DIR_MODE: Final = 0o700
BUSY_TIMEOUT_MS: Final = 5000

# MIGRATIONS[i] takes the schema from version i to version i + 1 (PRAGMA user_version).
MIGRATIONS: Final[tuple[str, ...]] = (
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        started_wall_s REAL,
        device TEXT NOT NULL DEFAULT '{}',
        source TEXT,
        profile TEXT,
        protocol TEXT,
        order_used TEXT,
        settings TEXT NOT NULL DEFAULT '{}',
        program_version TEXT NOT NULL DEFAULT '',
        notes TEXT,
        status TEXT NOT NULL CHECK (status IN ('recording', 'complete', 'interrupted')),
        ended_wall_s REAL,
        import_sha256 TEXT UNIQUE,
        writer_pid INTEGER,
        writer_start TEXT,
        beat_count INTEGER NOT NULL DEFAULT 0,
        first_beat_start_s REAL,
        last_beat_t_s REAL,
        extra TEXT NOT NULL DEFAULT '{}',
        truth TEXT
    );
    CREATE TABLE packets (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        t_s REAL NOT NULL,
        wall_s REAL NOT NULL,
        raw BLOB NOT NULL
    );
    CREATE TABLE beats (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        t_s REAL NOT NULL,
        rr_ms REAL NOT NULL,
        rr_raw INTEGER,
        segment INTEGER NOT NULL,
        flags INTEGER NOT NULL
    );
    CREATE TABLE markers (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        t_s REAL NOT NULL,
        kind TEXT NOT NULL,
        label TEXT,
        value TEXT,
        extra TEXT
    );
    CREATE TABLE segments (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        label TEXT NOT NULL,
        kind TEXT,
        start_s REAL NOT NULL,
        end_s REAL,
        complete INTEGER,
        category TEXT,
        extra TEXT
    );
    CREATE INDEX packets_session ON packets(session_id);
    CREATE INDEX beats_session ON beats(session_id);
    CREATE INDEX markers_session ON markers(session_id);
    CREATE INDEX segments_session ON segments(session_id);
    """,
)
SCHEMA_VERSION: Final = len(MIGRATIONS)


def default_db_path() -> Path:
    """``$BIOFEEDBACK_DB`` if set, else ``sessions.db`` in the platform's user data directory."""
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("biofeedback")) / DB_FILE_NAME


def _create_private(path: Path) -> None:
    """Create the file 0600 before SQLite touches it; SQLite gives -wal/-shm the same mode."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=DIR_MODE, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, FILE_MODE)
    os.close(fd)
    if path.stat().st_mode & 0o077:
        os.chmod(path, FILE_MODE)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the store, in autocommit mode with explicit transactions."""
    path = Path(path)
    try:
        _create_private(path)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path}: not a usable session store: {exc}") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot open the session store: {exc.strerror}") from exc
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the missing migrations, each atomically; return the schema version reached."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise BiofeedbackError(
            f"the session store has schema version {version}, newer than this program's "
            f"{SCHEMA_VERSION}: upgrade biofeedback"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while this one waited for the write lock.
            if int(conn.execute("PRAGMA user_version").fetchone()[0]) < target:
                for statement in MIGRATIONS[target - 1].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return SCHEMA_VERSION
