"""Where the session store lives, how its file is opened, and its schema migrations.

One SQLite file in WAL mode. ``synchronous=NORMAL`` in WAL mode makes every commit durable
against a killed process (the WAL is written before the commit returns; only a power cut can
lose the last transactions), which is the crash model the recorder promises.

Any number of processes may open the store at once. SQLite coordinates them with POSIX advisory
locks, and closing *any* descriptor of the file drops all of a process's locks on it
(https://www.sqlite.org/howtocorrupt.html §2.2). So nothing here opens the database file
outside SQLite once it exists: a new file is created empty with ``O_EXCL`` (no connection can
hold it yet) and every later check reads it through SQLite itself. A path is vetted before
anything is changed on it: a symlink, a device node or another program's SQLite file is refused
before any ``chmod`` or pragma touches it.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import Final

import platformdirs

from biofeedback.errors import BiofeedbackError, InputError
from biofeedback.sessions.store_waves import MIGRATION as WAVEFORMS_MIGRATION

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
    # 1 -> 2: ids are never reused (AUTOINCREMENT), and a session cut short by its user is
    # 'stopped'. SQLite cannot alter a column's CHECK, so the table is rebuilt (the documented
    # procedure; foreign keys are off while it runs, see migrate()).
    """
    CREATE TABLE sessions_v2 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started_wall_s REAL,
        device TEXT NOT NULL DEFAULT '{}',
        source TEXT,
        profile TEXT,
        protocol TEXT,
        order_used TEXT,
        settings TEXT NOT NULL DEFAULT '{}',
        program_version TEXT NOT NULL DEFAULT '',
        notes TEXT,
        status TEXT NOT NULL
            CHECK (status IN ('recording', 'complete', 'stopped', 'interrupted')),
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
    INSERT INTO sessions_v2 SELECT * FROM sessions;
    DROP TABLE sessions;
    ALTER TABLE sessions_v2 RENAME TO sessions;
    """,
    # 2 -> 3: raw ECG and ACC in compact chunks (biofeedback.sessions.store_waves). A new table
    # only: connections of processes that opened the store at version 2 keep working.
    WAVEFORMS_MIGRATION,
)
SCHEMA_VERSION: Final = len(MIGRATIONS)


def default_db_path() -> Path:
    """``$BIOFEEDBACK_DB`` if set, else ``sessions.db`` in the platform's user data directory."""
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("biofeedback")) / DB_FILE_NAME


TABLES: Final = frozenset({"sessions", "packets", "beats", "markers", "segments"})
"""Tables every store has (schema version 1 on)."""
LATER_TABLES: Final = frozenset({"waveforms", "waveforms_open", "sessions_v2"})
"""Tables a store may have besides: from later versions, or a 1 -> 2 rebuild's transient."""


class StoreLockedError(BiofeedbackError):
    """Another process held the store's write lock for longer than the busy timeout."""


class StoreDamagedError(BiofeedbackError):
    """The store file fails SQLite's integrity check (exit status 1)."""


def recovery_hint(path: Path) -> str:
    return (
        f"recover what is readable with the sqlite3 shell: sqlite3 {path} .recover"
        f" | sqlite3 {path}.recovered (raw strap packets and beats are rows; most survive),"
        " then use --db on the new file"
    )


def _vet_path(path: Path, *, create: bool) -> bool:
    """Check ``path`` may be a store before anything touches it; True if it exists.

    A symlink is followed only to a regular file (a store is then checked by schema); device
    nodes, FIFOs, directories and dangling links are refused. Nothing is opened here.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if path.is_symlink():
            raise InputError(f"{path}: a symlink to nothing: not a session store") from None
        if not create:
            raise InputError(
                f"{path}: no session store there (record or import a session first)"
            ) from None
        return False
    except OSError as exc:
        raise InputError(f"{path}: cannot open the session store: {exc.strerror}") from exc
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: a directory, not a session store file")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: not a regular file (a device, FIFO or socket): refused")
    return True


def _create_new(path: Path) -> None:
    """Create an empty 0600 file with O_EXCL: no connection of ours can hold it yet, so closing
    this descriptor drops no lock. If another process won the race, its file is used."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=DIR_MODE, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, FILE_MODE)
    except FileExistsError:
        return
    except OSError as exc:
        raise InputError(f"{path}: cannot create the session store: {exc.strerror}") from exc
    os.close(fd)


def _check_ours(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a database that is not a biofeedback store (read-only queries only)."""
    names = {
        str(r[0])
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not str(r[0]).startswith("sqlite_")
    }
    if names and not (names >= TABLES and names <= TABLES | LATER_TABLES):
        shown = ", ".join(sorted(names)[:5])
        raise InputError(f"{path}: not a biofeedback session store (it holds tables: {shown})")


def connect(
    path: Path, *, create: bool = True, busy_timeout_ms: int = BUSY_TIMEOUT_MS
) -> sqlite3.Connection:
    """Open the store (creating it if ``create``), in autocommit mode with explicit transactions.

    Raises :class:`~biofeedback.errors.InputError` for a path that is not a store of ours.
    """
    path = Path(path)
    exists = _vet_path(path, create=create)
    if not exists:
        _create_new(path)
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise InputError(f"{path}: cannot open the session store: {exc}") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        _check_ours(conn, path)
        if exists and os.stat(path).st_mode & 0o077:
            os.chmod(path, FILE_MODE)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        migrate(conn)
        conn.execute("PRAGMA foreign_keys = ON")
    except InputError:
        conn.close()
        raise
    except sqlite3.OperationalError as exc:
        conn.close()
        if is_busy(exc):
            raise StoreLockedError(locked_message(path, busy_timeout_ms)) from exc
        raise InputError(f"{path}: not a usable session store: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise InputError(f"{path}: not a usable session store: {exc}") from exc
    except OSError as exc:
        conn.close()
        raise InputError(f"{path}: cannot open the session store: {exc.strerror}") from exc
    except BaseException:
        conn.close()
        raise
    return conn


def is_busy(exc: BaseException) -> bool:
    """Is this SQLite's 'database is locked' / 'busy' (another process holds the lock)?"""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def locked_message(path: Path | str, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> str:
    return (
        f"{path}: the session store is locked by another process"
        f" (waited {busy_timeout_ms / 1000:g} s); try again when it is done"
    )


def quick_check(conn: sqlite3.Connection, path: Path) -> None:
    """Raise :class:`StoreDamagedError` if SQLite's quick_check finds damage."""
    try:
        result = [str(r[0]) for r in conn.execute("PRAGMA quick_check(3)")]
    except sqlite3.OperationalError as exc:
        if is_busy(exc):
            raise StoreLockedError(locked_message(path)) from exc
        result = [str(exc)]
    except sqlite3.DatabaseError as exc:
        result = [str(exc)]
    if result != ["ok"]:
        lines = [ln.strip() for r in result for ln in r.splitlines()]
        detail = next((ln for ln in lines if ln and not ln.startswith("***")), "unreadable")
        raise StoreDamagedError(
            f"{path}: the session store is damaged ({detail}); {recovery_hint(path)}"
        )


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the missing migrations, each atomically; return the schema version reached.

    Called with foreign keys off (a rebuilt parent table must not cascade into its children).
    """
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise BiofeedbackError(
            f"the session store has schema version {version}, newer than this program's "
            f"{SCHEMA_VERSION}: upgrade biofeedback"
        )
    conn.execute("PRAGMA foreign_keys = OFF")
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
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return SCHEMA_VERSION
