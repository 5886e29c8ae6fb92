"""SVG snapshots of the dashboard with seeded data (no clock, no cursor blink, no randomness).

Update the baselines after an intended change with ``pytest tests/test_tui_snapshots.py
--snapshot-update`` and look at the SVGs under ``tests/__snapshots__/`` before committing.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from biofeedback.tui.app import BiofeedbackApp, make_app
from tests.test_tui_app import FakeSessions, settle
from tests.test_tui_compare import computed
from tests.test_tui_support import FakeCompare, FakePipeline, seeded_session


def _monitor() -> tuple[BiofeedbackApp, FakePipeline]:
    fake = FakePipeline(seeded_session(600.0))
    return make_app(fake, sessions=FakeSessions(), title="snapshot"), fake


def _settled(fake: FakePipeline) -> Any:
    async def run_before(pilot: Pilot[object]) -> None:
        await settle(pilot, fake)

    return run_before


def test_monitor_at_120x40(snap_compare: Any) -> None:
    app, fake = _monitor()
    assert snap_compare(app, terminal_size=(120, 40), run_before=_settled(fake))


def test_monitor_at_80x24(snap_compare: Any) -> None:
    app, fake = _monitor()
    assert snap_compare(app, terminal_size=(80, 24), run_before=_settled(fake))


def test_help_screen(snap_compare: Any) -> None:
    app, fake = _monitor()
    assert snap_compare(
        app, terminal_size=(120, 40), run_before=_settled(fake), press=["question_mark"]
    )


def test_sessions_browser(snap_compare: Any) -> None:
    app = make_app(FakePipeline(), sessions=FakeSessions(), title="snapshot")
    assert snap_compare(app, terminal_size=(120, 40), press=["o"])


def test_session_opened_read_only(snap_compare: Any) -> None:
    app = make_app(FakePipeline(), sessions=FakeSessions(), title="snapshot")
    assert snap_compare(app, terminal_size=(120, 40), press=["o", "enter"])


def test_compare_screen(snap_compare: Any) -> None:
    app = make_app(FakePipeline(), compare=FakeCompare(), title="snapshot")

    async def open_compare(pilot: Pilot[object]) -> None:
        await pilot.press("c")
        await computed(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=open_compare)
