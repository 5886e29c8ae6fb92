"""SIGTERM to the dashboard ends the session ``interrupted`` (segments closed), exit 143."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from biofeedback.live.session_builder import SessionOptions, build_session
from biofeedback.live.sources import SourceOptions
from biofeedback.sessions.store import SessionStore
from biofeedback.tui.app import make_app


async def test_sigterm_ends_the_dashboard_session_interrupted(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    opts = SessionOptions(
        source=SourceOptions(simulate="sim", seed=1, speed=50.0),
        protocol="quick",
        player="none",
        db=db,
    )
    pipeline = build_session(opts)
    app = make_app(pipeline)
    loop = asyncio.get_running_loop()
    async with app.run_test(size=(100, 30)) as pilot:
        deadline = loop.time() + 30.0
        while not (pipeline.recording and pipeline.tally.beats >= 20):
            assert loop.time() < deadline, "no beats recorded"
            await pilot.pause(0.02)
        # Only with the app's handler in place (never kill the test run itself).
        assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN, None)
        os.kill(os.getpid(), signal.SIGTERM)
        deadline = loop.time() + 30.0
        while app.return_code is None:
            assert loop.time() < deadline, "the app did not exit"
            await pilot.pause(0.02)
    assert app.return_code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # handlers removed on unmount
    with SessionStore(db) as store:
        (row,) = store.list_sessions()
        bundle = store.load_bundle(row.id)
    assert row.status == "interrupted"
    assert bundle.segments
    assert all(s["end_s"] is not None for s in bundle.segments)
    assert bundle.segments[-1]["complete"] is False
