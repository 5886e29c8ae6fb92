"""How a real ``biofeedback record`` process ends is how its session is stored.

SIGTERM, SIGHUP and SIGINT (Ctrl-C) store it ``interrupted`` with every segment closed and exit
128 + the signal (130 for Ctrl-C); a closed stdout (``record ... | head -1``) stores it as not
complete, without a traceback. Each test waits (bounded polling) until the store holds beats,
then acts.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO

BEATS_BEFORE_ACTING = 40
WAIT_S = 60.0
SPEED = 40  # the quick protocol's 240 s in 6 s: 40 beats are stored about 1 s after the start

pytestmark = pytest.mark.slow  # real processes, real signals, in real time


def _record(
    db: Path, *extra: str, stdout: int | None = subprocess.DEVNULL
) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "biofeedback", "record", "--simulate", "--protocol", "quick"]
    cmd += ["--headless", "--speed", str(SPEED), "--player", "none", "--db", str(db), *extra]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("BIOFEEDBACK_DB", None)
    return subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
        start_new_session=True,
        preexec_fn=_default_signals,
    )


def _default_signals() -> None:
    """In the child before exec: SIGINT as a terminal would deliver it (default, unblocked).

    An ignored SIGINT survives exec and Python then leaves Ctrl-C ignored (right for a job a
    shell starts in the background); the recorder under test must not inherit such a state from
    whatever the test worker was doing (seen once: a SIGINT that did nothing, exit 0).
    """
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    """Read the store without writing to it (no checkpoint, no lock held after)."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.OperationalError:
        return []
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        conn.close()


def _wait_for(condition: Callable[[], bool], what: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the recorder exited ({proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _beats(db: Path) -> int:
    rows = _query(db, "SELECT count(*) FROM beats")
    return int(rows[0][0]) if rows else 0  # type: ignore[call-overload]


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"the recorder did not exit: {err}")
    return proc.returncode, err


def _session(db: Path) -> tuple[str, list[tuple[object, ...]]]:
    ((status,),) = _query(db, "SELECT status FROM sessions")
    segments = _query(db, "SELECT label, start_s, end_s, complete FROM segments ORDER BY start_s")
    return str(status), segments


@pytest.mark.parametrize(
    ("signum", "code"),
    [
        (signal.SIGTERM, 128 + signal.SIGTERM),
        (signal.SIGHUP, 128 + signal.SIGHUP),
        (signal.SIGINT, 130),
    ],
    ids=["SIGTERM", "SIGHUP", "SIGINT"],
)
def test_a_signal_stores_the_session_interrupted_with_closed_segments(
    tmp_path: Path, signum: signal.Signals, code: int
) -> None:
    db = tmp_path / "s.db"
    proc = _record(db)
    try:
        _wait_for(lambda: _beats(db) >= BEATS_BEFORE_ACTING, "beats in the store", proc)
        proc.send_signal(signum)
        returncode, err = _finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert returncode == code, err
    assert "Traceback" not in err
    assert "interrupted" in err
    status, segments = _session(db)
    assert status == "interrupted"
    assert segments, "the running block was stored"
    assert all(end_s is not None for _, _, end_s, _ in segments)
    assert segments[-1][3] == 0  # cut short: incomplete
    assert _beats(db) >= BEATS_BEFORE_ACTING


def test_a_closed_stdout_stops_the_session_without_a_traceback(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    proc = _record(db, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # what `| head -1` reads, then it goes away
        assert "segment 1" in first
        proc.stdout.close()
        returncode, err = _finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in err
    assert "Exception ignored" not in err
    assert returncode != 0
    status, segments = _session(db)
    assert status == "stopped"
    assert all(end_s is not None for _, _, end_s, _ in segments)
    assert segments[-1][3] == 0
