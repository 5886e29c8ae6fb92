"""A dashboard whose terminal hangs up (SIGHUP) ends, with the session stored.

A real pseudo-terminal: ``biofeedback demo`` runs as the session leader on it and paints. Then
the terminal goes away in the two ways it does: its master side is closed (a terminal window or
an SSH link closes: the kernel sends SIGHUP), or it stops reading and SIGHUP comes (tmux
kill-session: the dashboard's writes fill the pty and block). The dashboard stores the session
``interrupted`` and the process must end: in the second case Textual's restore of the terminal
blocks forever on its bounded output queue, so the CLI bounds the shutdown
(``cmd_monitor.SIGNAL_EXIT_S``).
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import sqlite3
import struct
import sys
import termios
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="needs Linux ptys and signals"),
]


def _spawn(db: Path) -> tuple[int, int]:
    pid, fd = pty.fork()
    if pid == 0:  # the child: a 120x40 terminal, then the dashboard
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.environ["PYTHONPATH"] = str(REPO)
        os.execv(sys.executable, [sys.executable, "-m", "biofeedback", "demo", "--db", str(db)])
    return pid, fd


def _read_until(fd: int, marker: bytes, timeout_s: float) -> None:
    seen, deadline = b"", time.monotonic() + timeout_s
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, "the dashboard never painted"
        if select.select([fd], [], [], left)[0]:
            seen = seen[-4096:] + os.read(fd, 65536)


def _beats(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM beats").fetchone()[0])


@pytest.mark.parametrize("how", ["closed", "stops-reading"])
def test_a_hung_up_terminal_ends_the_dashboard_and_keeps_the_session(
    tmp_path: Path, how: str
) -> None:
    db = tmp_path / "s.db"
    pid, fd = _spawn(db)
    try:
        _read_until(fd, b"protocol", 30.0)
        deadline = time.monotonic() + 30.0
        while not (db.exists() and _beats(db) >= 3):  # recording: a few beats stored
            assert time.monotonic() < deadline, "no beats recorded"
            if select.select([fd], [], [], 0.1)[0]:
                os.read(fd, 65536)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        raise
    if how == "closed":
        os.close(fd)  # the kernel hangs up the session
    else:
        time.sleep(3.0)  # nobody reads: the redraws fill the pty
        os.kill(pid, signal.SIGHUP)
    hung_up_at = time.monotonic()
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() - hung_up_at > 15.0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                pytest.fail("the dashboard outlived its terminal by 15 s")
            time.sleep(0.05)
    finally:
        if how != "closed":
            os.close(fd)
    assert os.WIFEXITED(status), status
    assert os.WEXITSTATUS(status) == 128 + signal.SIGHUP
    with sqlite3.connect(db) as conn:
        (row,) = conn.execute("SELECT status FROM sessions").fetchall()
        open_segments = conn.execute("SELECT COUNT(*) FROM segments WHERE end_s IS NULL")
        assert open_segments.fetchone()[0] == 0
    assert row[0] == "interrupted"
    assert _beats(db) >= 3
