"""The private dbus-daemon of ``--simulate=ble`` ends with its parent, even on SIGKILL."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("dbus-daemon") is None,
    reason="needs Linux with dbus-daemon",
)

CHILD = """
import os, sys, time
from pathlib import Path
from devices.fake_bluez.bus import private_system_bus

me = os.getpid()
with private_system_bus():
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            comm = stat.read_text().split("(", 1)[1].rsplit(")", 1)[0]
        except OSError:
            continue
        if int(fields[1]) == me and comm == "dbus-daemon":
            print(stat.parent.name, flush=True)
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    """Running (a zombie nobody reaped has ended too)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def _wait_until(condition: object, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return bool(condition())  # type: ignore[operator]


def test_the_private_bus_dies_with_a_sigkilled_parent() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True, env=env, cwd=REPO
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line.isdigit(), f"the child did not report its dbus-daemon: {line!r}"
        daemon = int(line)
        assert _alive(daemon)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        assert _wait_until(lambda: not _alive(daemon), 10.0), f"dbus-daemon {daemon} outlived"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()


def test_the_private_bus_ends_when_the_context_exits() -> None:
    from devices.fake_bluez.bus import private_system_bus

    before = set(_daemons())
    with private_system_bus() as address:
        assert address
        started = set(_daemons()) - before
        assert len(started) == 1
    (pid,) = started
    assert _wait_until(lambda: not _alive(pid), 10.0)


def _daemons() -> list[int]:
    me = os.getpid()
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm = text.split("(", 1)[1].rsplit(")", 1)[0]
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        if ppid == me and comm == "dbus-daemon":
            found.append(int(stat.parent.name))
    return found
