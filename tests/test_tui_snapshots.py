"""SVG snapshots of the dashboard with seeded data (no clock, no cursor blink, no randomness).

Update the baselines after an intended change with ``pytest tests/test_tui_snapshots.py
--snapshot-update`` and look at the SVGs under ``tests/__snapshots__/`` before committing.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from biofeedback.live.messages import PipelineEvent, RecordingChanged, SessionFinished
from biofeedback.tui.app import BiofeedbackApp, make_app
from devices.events import Disconnected, DisconnectReason
from tests.test_tui_app import FakeSessions, settled
from tests.test_tui_compare import computed
from tests.test_tui_support import (
    FULL_PROTOCOL_S,
    FakeCompare,
    FakePipeline,
    seeded_session,
    seeded_summary,
)


def _monitor(until_s: float = 600.0) -> tuple[BiofeedbackApp, FakePipeline]:
    fake = FakePipeline(seeded_session(until_s))
    return make_app(fake, sessions=FakeSessions(), title="snapshot"), fake


def _finished() -> tuple[BiofeedbackApp, FakePipeline]:
    """The seeded protocol run to its end: the strap stopped, the session's summary sent."""
    end_s = FULL_PROTOCOL_S + 1.0
    script: list[PipelineEvent] = [
        *seeded_session(end_s),
        Disconnected(end_s, DisconnectReason.USER),
        RecordingChanged(end_s, False, 7),
        SessionFinished(1.7e9, 7, seeded_summary(7)),  # stamped with Unix time, as live
    ]
    fake = FakePipeline(script)
    return make_app(fake, sessions=FakeSessions(), title="snapshot"), fake


STATES = {"settling": 30.0, "baseline": 140.0, "washout": 420.0}
"""Seconds into the seeded protocol (settling 1:00, baseline 2:30, whispering, washout...)."""


@pytest.mark.parametrize("state", list(STATES))
def test_monitor_state(snap_compare: Any, state: str) -> None:
    app, fake = _monitor(STATES[state])
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled(fake))


def test_session_summary_at_120x40(snap_compare: Any) -> None:
    app, fake = _finished()
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled(fake))


def test_session_summary_at_80x24(snap_compare: Any) -> None:
    app, fake = _finished()
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled(fake))


def test_after_the_summary_the_monitor_says_the_session_finished(snap_compare: Any) -> None:
    app, fake = _finished()
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled(fake), press=["escape"])


def test_too_small_terminal(snap_compare: Any) -> None:
    app, fake = _monitor(140.0)
    assert snap_compare(app, terminal_size=(70, 20), run_before=settled(fake))


def test_monitor_at_120x40(snap_compare: Any) -> None:
    app, fake = _monitor()
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled(fake))


def test_monitor_at_80x24(snap_compare: Any) -> None:
    app, fake = _monitor()
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled(fake))


def test_help_screen(snap_compare: Any) -> None:
    app, fake = _monitor()
    assert snap_compare(
        app, terminal_size=(120, 40), run_before=settled(fake), press=["question_mark"]
    )


def test_help_screen_at_80x24(snap_compare: Any) -> None:
    app, fake = _monitor()
    assert snap_compare(
        app, terminal_size=(80, 24), run_before=settled(fake), press=["question_mark"]
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


IRREGULAR_FROM_S = 330.0
"""The seeded session's intervals are AF-like from here on (withheld from about 8:00)."""


def test_monitor_over_irregular_rhythm(snap_compare: Any) -> None:
    """The tachogram's dark-red band where HRV is withheld, the estimates panel's wording and
    the quality panel's withheld count in place of a corrected share."""
    fake = FakePipeline(seeded_session(600.0, irregular_from_s=IRREGULAR_FROM_S))
    app = make_app(fake, sessions=FakeSessions(), title="snapshot")
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled(fake))
