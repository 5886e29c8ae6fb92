"""SIGKILL mid-recording: a real process records, is killed, and the store is reopened."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from biofeedback.sessions.store import SessionStore

# The child stamps each beat with CLOCK_MONOTONIC, which is system-wide on Linux, so the
# parent can compare beat times with the moment it sends SIGKILL.
RECORDER = """
import sys, time
from pathlib import Path
from biofeedback.sessions.store import SessionStore
from biofeedback.sessions.store_writer import SessionWriter
from devices.events import Beat

store = SessionStore(Path(sys.argv[1]))
writer = SessionWriter(store)
writer.begin(device={"name": "sim", "address": "", "kind": "simulated"}, source="simulated")
print("ready", flush=True)
i = 0
while True:
    t_s = time.monotonic()
    writer.add_packet(t_s, time.time(), bytes([16, 60, i % 256, 3]))
    writer.add_beats([Beat(t_s, 50.0, 51, 0, i)])
    if i % 20 == 0:
        writer.add_marker(t_s, "protocol", "tick", i)
    print(repr(t_s), flush=True)
    i += 1
    time.sleep(0.05)
"""


@pytest.mark.slow  # a real process writes for ~3 s, then is SIGKILLed
@pytest.mark.skipif(sys.platform != "linux", reason="CLOCK_MONOTONIC shared across processes")
def test_sigkill_loses_at_most_the_last_second(tmp_path: Path):
    path = tmp_path / "s.db"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    child = subprocess.Popen(
        [sys.executable, "-c", RECORDER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    # Kill it once more than 35 of the beats it wrote (one every 50 ms) are over a second old:
    # bounded by what it has written, not by a fixed sleep that a loaded machine can outrun.
    written: list[float] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if sum(t <= time.monotonic() - 1.0 for t in written) > 35:
            break
        line = child.stdout.readline()
        if not line:
            break
        written.append(float(line))
    killed_at_s = time.monotonic()
    child.send_signal(signal.SIGKILL)
    out, _ = child.communicate()
    assert child.returncode == -signal.SIGKILL
    written += [float(line) for line in out.split()]
    must_survive = [t for t in written if t <= killed_at_s - 1.0]
    assert len(must_survive) > 30

    with SessionStore(path) as store:
        (summary,) = store.list_sessions()
        assert summary.status == "interrupted"
        stored = store.load_bundle(summary.id)
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored_t_s = stored.beats["t_s"]
    assert stored_t_s[: len(must_survive)] == must_survive
    assert stored_t_s == written[: len(stored_t_s)]
    assert len(stored.packets["t_s"]) >= len(must_survive)
    assert summary.beat_count == len(stored_t_s)
    assert summary.duration_s is not None
    assert summary.duration_s > 2.0
