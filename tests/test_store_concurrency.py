"""Many processes on one store: real `biofeedback` processes and a real SQLite file.

A recording must reach disk whole while other processes read (sessions, show, compare, export)
and write (import, delete other sessions) the same file, and SIGKILLs of recorders while readers
run must leave every committed beat, closed segments, an ``interrupted`` status and a store
whose integrity check passes.

Only the processes a test is about are real; setting a store up, and reading it afterwards, runs
the CLI in-process (``tests.cli_support.run_cli``). A recording made alone is made once per
session (``recorded_store``) and copied.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from biofeedback.sessions.store import SessionStore
from tests.cli_support import Ran, run_cli
from tests.cli_worker import CliWorker

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
RECORD = ["record", "--simulate", "--protocol", "quick", "--headless", "--seed", "3"]

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs Linux procfs and signals")
slow = pytest.mark.slow  # real processes in real time: recorders at --speed 40, SIGKILLs


def cli(*args: str, db: Path, check: bool = False) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "biofeedback", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def here(*args: str, db: Path, check: bool = False) -> Ran:
    """``cli`` in this process: for setting a store up and reading it, not for concurrency."""
    done = run_cli(*args, "--db", str(db))
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="session")
def recorded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding one complete ``RECORD`` session, recorded alone by a real process.

    Recorded once for the whole run: under xdist the first worker to ask records it (the others
    wait on a lock) in the directory the workers share. At --speed 1000: the simulated beats do
    not depend on the speed (the tests that compare it with a recording at --speed 40 check that
    too). Copy it with ``copy_store`` to write to it.
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    db = base / "recorded-alone.db"
    with open(base / "recorded-alone.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not db.exists():
            partial = base / "recorded-alone.partial.db"
            partial.unlink(missing_ok=True)
            cli(*RECORD, "--speed", "1000", db=partial, check=True)
            copy_store(partial, db)
    return db


def copy_store(src: Path, dst: Path) -> Path:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    a.close()
    b.close()
    os.chmod(dst, 0o600)
    return dst


def rr_file(path: Path, seed: int, n: int = 400) -> Path:
    rng = random.Random(seed)
    path.write_text("\n".join(str(round(800 + rng.gauss(0, 40))) for _ in range(n)) + "\n")
    return path


def beats_of(db: Path, session_id: int) -> list[tuple[float, float]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT t_s, rr_ms FROM beats WHERE session_id = ? ORDER BY rowid", (session_id,)
        ).fetchall()


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


class Loop:
    """Run ``step`` again and again in a thread, in its own ``biofeedback`` process, until stopped.

    Each loop owns one long-lived child (``CliWorker``) that runs the commands ``step`` sends it:
    a separate process on the store, without a fresh interpreter's imports per command. A short
    pause between steps keeps the loops from taking every core from the recorders they test.
    """

    PAUSE_S = 0.5

    def __init__(self, step: Callable[[CliWorker, int], None]) -> None:
        self.step = step
        self.runs = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._worker = CliWorker()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step(self._worker, self.runs)
            except AssertionError as exc:
                self.errors.append(str(exc))
            self.runs += 1
            self._stop.wait(self.PAUSE_S)

    def __enter__(self) -> Loop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=120)
        self._worker.close()


def reader(db: Path) -> Callable[[CliWorker, int], None]:
    commands = (["sessions"], ["show", "1"], ["compare"], ["export", "1", "--format", "csv"])

    def step(run: CliWorker, i: int) -> None:
        command = commands[i % len(commands)]
        done = run(*command, "--db", str(db))
        # A reader may find no comparison yet or a session deleted under it (exit 2, one
        # line); it must never crash (the worker would die) or find the store damaged.
        assert done.returncode in (0, 2), (command, done.stderr)
        assert "Traceback" not in done.stderr, (command, done.stderr)
        assert "damaged" not in done.stderr, (command, done.stderr)

    return step


@slow
def test_recording_reaches_disk_whole_while_others_read_import_and_delete(
    tmp_path: Path, recorded_store: Path
):
    expected = beats_of(recorded_store, 1)
    assert len(expected) > 200

    db = tmp_path / "shared.db"
    for k in range(4):
        here("import", str(rr_file(tmp_path / f"old{k}.txt", k)), db=db, check=True)
    recorder = subprocess.Popen(
        [sys.executable, "-m", "biofeedback", *RECORD, "--speed", "40", "--db", str(db), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    imported: list[int] = []

    def writer(run: CliWorker, i: int) -> None:
        done = run("import", str(rr_file(tmp_path / f"new{i}.txt", 100 + i)), "--db", str(db))
        assert done.returncode == 0, done.stderr
        imported.append(int(done.stdout.split("session ")[1].split()[0]))
        if i < 4:
            gone = run("delete", str(i + 1), "--yes", "--db", str(db))
            assert gone.returncode == 0, gone.stderr

    with Loop(reader(db)) as r1, Loop(reader(db)) as r2, Loop(writer) as w:
        out, err = recorder.communicate(timeout=120)
    assert recorder.returncode == 0, err
    assert not r1.errors + r2.errors + w.errors
    assert r1.runs + r2.runs >= 4
    assert w.runs >= 2

    summary = json.loads(out)
    with SessionStore(db) as store:
        ours = [s for s in store.list_sessions() if s.source == "simulated"]
    (session,) = ours
    assert session.status == "complete"
    stored = beats_of(db, session.id)
    missing = [i for i, b in enumerate(expected) if b not in set(stored)]
    assert not missing, (missing, len(expected), err)
    assert len(stored) == summary["beats"] == len(expected)
    assert stored == expected
    assert integrity(db) == "ok"
    assert imported == sorted(set(imported))


def test_ids_are_never_reused_after_a_delete(tmp_path: Path):
    db = tmp_path / "s.db"
    for k in range(3):
        here("import", str(rr_file(tmp_path / f"a{k}.txt", k)), db=db, check=True)
    here("delete", "3", "--yes", db=db, check=True)
    done = here("import", str(rr_file(tmp_path / "b.txt", 9)), db=db, check=True)
    assert "imported as session 4" in done.stdout
    assert here("show", "3", db=db).returncode == 2


KILLED_RECORDER = """
import sys, time
from pathlib import Path
from biofeedback.sessions.store import SessionStore
from biofeedback.sessions.store_writer import SessionWriter
from devices.events import Beat

store = SessionStore(Path(sys.argv[1]))
writer = SessionWriter(store)
sid = writer.begin(device={"name": "sim", "address": "", "kind": "simulated"}, source="simulated")
print(sid, flush=True)
writer.add_segment("settling", "settling", time.monotonic() - 1.0, time.monotonic())
writer.start_segment("whispering", "trigger", time.monotonic())
i = 0
while True:
    t_s = time.monotonic()
    writer.add_packet(t_s, time.time(), bytes([16, 60, i % 256, 3]))
    writer.add_beats([Beat(t_s, 50.0, 51, 0, i)])
    print(repr(t_s), flush=True)
    i += 1
    time.sleep(0.02)
"""


@slow
def test_twenty_sigkills_among_recorders_and_readers_lose_only_the_last_second(tmp_path: Path):
    """Four recorders at once, killed at random moments, five times over, while readers run."""
    db = tmp_path / "s.db"
    here("import", str(rr_file(tmp_path / "first.txt", 1)), db=db, check=True)
    rng = random.Random(12)
    with Loop(reader(db)) as r1, Loop(reader(db)) as r2:
        for _ in range(5):
            children = [
                subprocess.Popen(
                    [sys.executable, "-c", KILLED_RECORDER, str(db)],
                    stdout=subprocess.PIPE,
                    text=True,
                    env=ENV,
                )
                for _ in range(4)
            ]
            ids = []
            for child in children:
                assert child.stdout is not None
                ids.append(int(child.stdout.readline()))
            started = time.monotonic()
            kill_at = sorted(started + rng.uniform(1.1, 2.0) for _ in children)
            for child, at in zip(children, kill_at, strict=True):
                time.sleep(max(0.0, at - time.monotonic()))
                child.send_signal(signal.SIGKILL)
                killed_at_s = time.monotonic()
                out, _ = child.communicate()
                written = [float(line) for line in out.split()]
                must_survive = [t for t in written if t <= killed_at_s - 1.0]
                child.must_survive = must_survive  # type: ignore[attr-defined]
                child.written = written  # type: ignore[attr-defined]
            with SessionStore(db) as store:
                for sid, child in zip(ids, children, strict=True):
                    assert store.summary(sid).status == "interrupted"
                    bundle = store.load_bundle(sid)
                    t_s = bundle.beats["t_s"]
                    survive = child.must_survive  # type: ignore[attr-defined]
                    assert t_s[: len(survive)] == survive
                    assert t_s == child.written[: len(t_s)]  # type: ignore[attr-defined]
                    assert all("end_s" in s for s in bundle.segments)
                    assert [s.get("complete") for s in bundle.segments] == [True, False]
            assert integrity(db) == "ok"
    assert not r1.errors + r2.errors, r1.errors + r2.errors
    assert r1.runs + r2.runs >= 5


@slow
def test_two_recorders_on_one_store_both_keep_every_beat(tmp_path: Path, recorded_store: Path):
    expected = beats_of(recorded_store, 1)
    db = tmp_path / "s.db"
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "biofeedback", *RECORD, "--speed", "40", "--db", str(db)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        for _ in range(2)
    ]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    with SessionStore(db) as store:
        assert [s.status for s in store.list_sessions()] == ["complete", "complete"]
    assert beats_of(db, 1) == expected
    assert beats_of(db, 2) == expected
    assert integrity(db) == "ok"


@slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP])
def test_a_killed_cli_recording_leaves_a_store_that_compare_and_report_read(
    tmp_path: Path, sig: signal.Signals, recorded_store: Path
):
    db = copy_store(recorded_store, tmp_path / "s.db")
    child = subprocess.Popen(
        [sys.executable, "-m", "biofeedback", *RECORD, "--speed", "40", "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
    )
    deadline = time.monotonic() + 60
    # Kill it inside a block: once the store holds a trigger segment that is still open.
    while time.monotonic() < deadline:
        with sqlite3.connect(db) as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM segments WHERE session_id = 2 AND end_s IS NULL"
                " AND kind = 'trigger'"
            ).fetchone()
        if row[0]:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the recording never reached a trigger block")
    child.send_signal(sig)
    child.wait(timeout=30)

    compared = here("compare", "--json", db=db)
    assert compared.returncode == 0, compared.stderr
    report = tmp_path / "r.html"
    done = here("report", "2", "--out", str(report), db=db)
    assert done.returncode == 0, done.stderr
    with SessionStore(db) as store:
        assert store.summary(2).status == "interrupted"
        segments = store.load_bundle(2).segments
    assert all("end_s" in s for s in segments)
    assert segments[-1]["complete"] is False
    assert integrity(db) == "ok"


def test_delete_refuses_the_session_being_recorded(tmp_path: Path):
    db = tmp_path / "s.db"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_RECORDER, str(db)], stdout=subprocess.PIPE, text=True, env=ENV
    )
    try:
        assert child.stdout is not None
        sid = int(child.stdout.readline())
        before = len(beats_of(db, sid))
        done = here("delete", str(sid), "--yes", db=db)
        assert done.returncode == 2
        assert done.stderr.strip().splitlines() == [
            f"biofeedback delete: session {sid} is being recorded by pid {child.pid}"
        ]
        # The recording goes on, untouched: it writes a beat every 20 ms.
        deadline = time.monotonic() + 30
        while len(beats_of(db, sid)) <= before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(beats_of(db, sid)) > before
    finally:
        child.kill()
        child.communicate()


@slow  # the importing process waits out its busy timeout
def test_a_store_locked_by_another_process_is_one_line_not_a_traceback(tmp_path: Path):
    db = tmp_path / "s.db"
    here("import", str(rr_file(tmp_path / "a.txt", 1)), db=db, check=True)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        done = cli("import", str(rr_file(tmp_path / "b.txt", 2)), db=db)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert "locked by another process" in line
    assert integrity(db) == "ok"


def test_a_damaged_store_is_reported_before_anything_is_read(tmp_path: Path):
    db = tmp_path / "s.db"
    here("import", str(rr_file(tmp_path / "a.txt", 1, n=3000)), db=db, check=True)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        # Find the index b-tree's root page and overwrite it with garbage.
        root = int(
            conn.execute(
                "SELECT rootpage FROM sqlite_master WHERE name = 'beats_session'"
            ).fetchone()[0]
        )
    with open(db, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xff" * page_size)
    for command in (["sessions"], ["show", "1"], ["compare"], ["export", "1", "--format", "rr"]):
        done = here(*command, db=db)
        assert done.returncode == 1, (command, done.stderr)
        assert done.stdout == ""
        (line,) = done.stderr.strip().splitlines()
        assert "the session store is damaged" in line
        assert ".recover" in line


@pytest.mark.parametrize("make", ["missing", "device", "dangling", "foreign", "text", "link"])
def test_db_paths_that_are_not_our_stores_are_left_alone(tmp_path: Path, make: str):
    path = tmp_path / "x.db"
    before: tuple[int, int] | None = None
    if make == "device":
        path = Path("/dev/null")
        before = (os.stat(path).st_mode, os.stat(path).st_size)
    elif make == "dangling":
        path.symlink_to(tmp_path / "nowhere")
    elif make == "foreign":
        with sqlite3.connect(path) as other:
            other.execute("CREATE TABLE notes (x)")
        os.chmod(path, 0o644)
    elif make == "text":
        path.write_text("not a database\n")
        os.chmod(path, 0o644)
    elif make == "link":  # a planted symlink to someone's dotfile
        victim = tmp_path / "bashrc"
        victim.write_text("echo hello\n")
        os.chmod(victim, 0o644)
        path.symlink_to(victim)
    if path.exists() and make != "device":
        before = (os.stat(path).st_mode, os.stat(path).st_size)
    done = here("sessions", db=path)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    if make == "missing":
        assert not path.exists()
    elif make == "dangling":
        assert not (tmp_path / "nowhere").exists()
    elif make == "link":
        assert (tmp_path / "bashrc").read_text() == "echo hello\n"
        assert before == (os.stat(path).st_mode, os.stat(path).st_size)
        assert not Path(f"{path}-wal").exists()
    else:
        assert before == (os.stat(path).st_mode, os.stat(path).st_size)
    if make == "foreign":
        with sqlite3.connect(path) as other:
            names = [r[0] for r in other.execute("SELECT name FROM sqlite_master")]
            mode = other.execute("PRAGMA journal_mode").fetchone()[0]
        assert names == ["notes"]
        assert mode == "delete"


def test_a_symlink_to_a_store_is_followed_and_a_new_store_is_private(tmp_path: Path):
    real = tmp_path / "real.db"
    here("import", str(rr_file(tmp_path / "a.txt", 1)), db=real, check=True)
    assert os.stat(real).st_mode & 0o777 == 0o600
    link = tmp_path / "link.db"
    link.symlink_to(real)
    done = here("sessions", "--json", db=link)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 1


def test_a_full_disk_is_one_line_and_the_store_keeps_what_it_had(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """SQLITE_FULL, simulated with a page cap on the importing connection."""
    from biofeedback.cli.main import main
    from biofeedback.sessions import store as store_module
    from biofeedback.sessions import store_schema

    db = tmp_path / "s.db"
    here("import", str(rr_file(tmp_path / "a.txt", 1)), db=db, check=True)
    before = beats_of(db, 1)
    real_connect = store_schema.connect

    def tiny(path: Path, **kw: object) -> sqlite3.Connection:
        conn = real_connect(path, **kw)  # type: ignore[arg-type]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 2}")
        return conn

    monkeypatch.setattr(store_module, "connect", tiny)
    code = main(["import", str(rr_file(tmp_path / "big.txt", 2, n=20000)), "--db", str(db)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code in (1, 2)
    assert len(err) == 1
    assert "full" in err[0]
    assert beats_of(db, 1) == before
    with SessionStore(db) as store:
        assert store.count() == 1
    assert integrity(db) == "ok"
