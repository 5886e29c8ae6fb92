"""The dashboard driven by a scripted fake pipeline, at 120×40 and at 80×24."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Digits, Static

from biofeedback.live.messages import (
    Notice,
    PipelineEvent,
    RecordingChanged,
    SegmentEnded,
    SessionFinished,
)
from biofeedback.sessions.bundle import SessionBundle
from biofeedback.tui.app import BiofeedbackApp, make_app
from biofeedback.tui.messages import BeatReceived
from biofeedback.tui.screens.compare import CompareScreen
from biofeedback.tui.screens.confirm import ConfirmScreen
from biofeedback.tui.screens.devices import DevicePickerScreen
from biofeedback.tui.screens.help import HelpScreen, help_rows
from biofeedback.tui.screens.monitor import MonitorScreen
from biofeedback.tui.screens.sessions import SessionsScreen, SessionViewScreen
from biofeedback.tui.screens.summary import SummaryScreen
from biofeedback.tui.widgets import BrailleChart, Panel
from devices.events import (
    Beat,
    Connected,
    DeviceInfo,
    Disconnected,
    DisconnectReason,
    Reconnecting,
)
from tests.test_tui_support import FakeCompare, FakePipeline, seeded_session, seeded_summary

SIZES = [(120, 40), (80, 24)]
STRAP = ("Polar H10 1A2B3C4D", "A0:9E:1A:00:00:01", -61)


@dataclass(frozen=True)
class Summary:
    id: int
    started_wall_s: float | None
    duration_s: float | None
    source: str | None
    beat_count: int
    protocol: str | None
    status: str


def session_bundle() -> SessionBundle:
    beats = [e for e in seeded_session(400.0) if isinstance(e, Beat)]
    return SessionBundle(
        session={"id": 1, "status": "complete", "source": "simulated"},
        device={"name": "Simulated H10"},
        segments=[
            {"label": "baseline", "kind": "baseline", "start_s": 60.0, "end_s": 210.0},
            {"label": "whispering", "kind": "trigger", "start_s": 210.0, "end_s": 390.0},
        ],
        markers=[{"t_s": 300.0, "kind": "tingle", "label": "", "value": None}],
        beats={
            "t_s": [b.t_s for b in beats],
            "rr_ms": [b.rr_ms for b in beats],
            "rr_raw": [b.rr_raw for b in beats],
            "segment": [b.segment for b in beats],
            "flags": [0 for _ in beats],
        },
        program_version="0.1.0",
    )


class FakeSessions:
    def __init__(self) -> None:
        self.loaded: list[int] = []

    def list_sessions(self) -> list[Summary]:
        return [
            Summary(1, 1.7e9, 400.0, "simulated", 470, "default-asmr", "complete"),
            Summary(2, 1.7e9 + 86400, 1800.0, "ble", 2100, None, "interrupted"),
        ]

    def load_bundle(self, session_id: int) -> SessionBundle:
        self.loaded.append(session_id)
        return session_bundle()


async def fake_scan() -> list[tuple[str, str, int]]:
    return [STRAP]


def new_app(script: list[PipelineEvent] | None = None) -> tuple[BiofeedbackApp, FakePipeline]:
    fake = FakePipeline(script or [])
    app = make_app(
        fake, sessions=FakeSessions(), scan=fake_scan, compare=FakeCompare(), title="test"
    )
    return app, fake


async def settle(pilot: Pilot[object], fake: FakePipeline) -> None:
    """Until the worker took every scripted event and the throttled redraw ran."""
    app = pilot.app
    assert isinstance(app, BiofeedbackApp)
    await pilot.pause()
    while not fake.queue.empty() or app.redraw_pending:
        await pilot.pause(0.02)
    await pilot.pause()


def settled(fake: FakePipeline) -> Callable[[Pilot[object]], Awaitable[None]]:
    """A snapshot's ``run_before``: the strap panel's clock held at the last beat (its "no beats
    for N s" follows the wall clock otherwise), then :func:`settle`."""

    async def run_before(pilot: Pilot[object]) -> None:
        app = pilot.app
        assert isinstance(app, BiofeedbackApp)
        app.monitor.clock = lambda: app.model.last_beat_received_s or 0.0
        await settle(pilot, fake)

    return run_before


def panel_text(app: BiofeedbackApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


@pytest.mark.parametrize("size", SIZES)
async def test_beats_reach_the_screen(size: tuple[int, int]) -> None:
    app, fake = new_app(seeded_session(90.0))
    posted: list[Message] = []
    async with app.run_test(size=size, message_hook=posted.append) as pilot:
        await settle(pilot, fake)
        beats = [e for e in seeded_session(90.0) if isinstance(e, Beat)]
        caption = panel_text(app, "#hr-caption")
        assert f"RR {beats[-1].rr_ms:.0f} ms · {len(beats)} beats" in caption
        assert app.screen.query_one("#hr", Digits).value == str(app.model.device.hr_byte_bpm)
        assert app.screen.query_one("#tachogram", BrailleChart).data is not None
        assert "lnRMSSD" in panel_text(app, "#estimates")
        assert any(isinstance(m, BeatReceived) for m in posted)


@pytest.mark.parametrize("size", SIZES)
async def test_a_lost_strap_shows_reconnecting_then_recovers(size: tuple[int, int]) -> None:
    info = DeviceInfo("Polar H10", "A0:9E", "ble")
    app, fake = new_app([Connected(0.0, info)])
    async with app.run_test(size=size) as pilot:
        await settle(pilot, fake)
        assert "● connected" in panel_text(app, "#device")
        # What the live pipeline emits when a strap drops out (biofeedback/live/pipeline.py).
        fake.push(
            Disconnected(5.0, DisconnectReason.LINK_LOST),
            Notice(5.0, "strap lost (link lost); reconnecting"),
            Reconnecting(5.0, 1, 1.0),
        )
        await settle(pilot, fake)
        assert "reconnecting (attempt 1)" in panel_text(app, "#device")
        fake.push(Reconnecting(6.0, 2, 2.0))
        await settle(pilot, fake)
        assert "reconnecting (attempt 2)" in panel_text(app, "#device")
        toasts = [n.message for n in app._notifications]
        assert toasts == ["strap lost (link lost); reconnecting"]
        fake.push(Connected(9.0, info))
        await settle(pilot, fake)
        assert "● connected" in panel_text(app, "#device")
        assert app.is_running


async def test_notices_and_a_broken_pipeline_become_notifications() -> None:
    class Broken(FakePipeline):
        async def events(self) -> AsyncIterator[PipelineEvent]:
            yield Notice(1.0, "mpv crashed (exit status 1)", "error")
            await asyncio.sleep(0)
            raise RuntimeError("source gone")

    app = make_app(Broken())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        messages = [n.message for n in app._notifications]
        assert "mpv crashed (exit status 1)" in messages
        assert "The live pipeline stopped: source gone" in messages
        assert app.is_running
        assert isinstance(app.screen, MonitorScreen)


def _key_for(description: str) -> str:
    rows = dict((d, k) for k, d in help_rows([*MonitorScreen.BINDINGS, *BiofeedbackApp.BINDINGS]))
    key = rows[description]
    return {"?": "question_mark"}.get(key, key)


PIPELINE_KEYS = {
    "Record on/off": "start_recording",
    "Next segment": "next_segment",
    "Previous segment": "previous_segment",
    "Pause/resume playback": "toggle_pause",
    "Mark trigger start (manual)": "mark_trigger_start",
    "Mark trigger stop (manual)": "mark_trigger_stop",
    "Mark a tingle": "mark_tingle",
}
SCREEN_KEYS = {
    "Sessions browser": SessionsScreen,
    "Compare triggers": CompareScreen,
    "Choose a strap": DevicePickerScreen,
    "Help: list every key": HelpScreen,
}
OTHER_KEYS = {
    "Switch trend metric",
    "Quit (asks while recording)",
    "Summary of the finished session",
}


def test_every_help_entry_is_tested_here() -> None:
    described = {d for _, d in help_rows([*MonitorScreen.BINDINGS, *BiofeedbackApp.BINDINGS])}
    assert described == set(PIPELINE_KEYS) | set(SCREEN_KEYS) | OTHER_KEYS


@pytest.mark.parametrize("size", SIZES)
async def test_each_pipeline_key_does_what_the_help_says(size: tuple[int, int]) -> None:
    app, fake = new_app(seeded_session(30.0))
    async with app.run_test(size=size) as pilot:
        await settle(pilot, fake)
        app.model.recording = False
        for description, call in PIPELINE_KEYS.items():
            await pilot.press(_key_for(description))
            await settle(pilot, fake)
            assert fake.calls[-1] == call, description
        assert app.model.tingles_t_s
        assert app.model.paused
        assert app.model.recording  # the fake answered start_recording with RecordingChanged
        await pilot.press(_key_for("Record on/off"))
        await settle(pilot, fake)
        assert fake.calls[-1] == "stop_recording"
        assert not app.model.recording


@pytest.mark.parametrize("size", SIZES)
async def test_each_screen_key_opens_its_screen(size: tuple[int, int]) -> None:
    app, _fake = new_app()
    async with app.run_test(size=size) as pilot:
        for description, screen in SCREEN_KEYS.items():
            await pilot.press(_key_for(description))
            await pilot.pause()
            assert isinstance(app.screen, screen), description
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, MonitorScreen)


async def test_help_lists_every_binding() -> None:
    app, _ = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = {d for _, d in app.screen.rows}
        assert shown == set(PIPELINE_KEYS) | set(SCREEN_KEYS) | OTHER_KEYS


async def test_the_metric_key_switches_the_trend() -> None:
    app, fake = new_app(seeded_session(300.0))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, fake)
        trend = app.screen.query_one("#trend", BrailleChart)
        assert str(trend.border_title).startswith("relaxation vs baseline (SD)")
        await pilot.press(_key_for("Switch trend metric"))
        await pilot.pause()
        assert str(trend.border_title).startswith("lnRMSSD (ln(ms))")
        await pilot.press("m", "m")
        await pilot.pause()
        assert str(trend.border_title).startswith("relaxation")


async def test_quit_while_recording_asks_first() -> None:
    app, fake = new_app([RecordingChanged(0.0, True, 7)])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, fake)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert app.is_running
        assert app.model.recording
        assert "stop_recording" not in fake.calls
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert fake.calls == ["stop_recording"]
    assert app.return_code == 0


async def test_quit_when_idle_does_not_ask() -> None:
    app, _ = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    assert app.return_value is None


async def test_a_session_opens_read_only_with_its_chart() -> None:
    sessions = FakeSessions()
    app = make_app(FakePipeline(), sessions=sessions)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("down", "up", "enter")
        await pilot.pause()
        assert sessions.loaded == [1]
        assert isinstance(app.screen, SessionViewScreen)
        chart = app.screen.query_one("#session-rr", BrailleChart)
        assert chart.data is not None
        assert chart.data.marks == (300.0,)
        assert "session 1 · complete" in str(app.screen.query_one("#session-info", Panel).render())


async def test_choosing_a_strap_returns_it_to_the_caller() -> None:
    app, _ = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("d")
        await pilot.pause(0.1)
        await pilot.press("enter")
        await pilot.pause()
    assert app.return_value == STRAP


async def test_without_store_or_scanner_the_keys_explain_themselves() -> None:
    app = make_app(FakePipeline())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o", "d", "c")
        await pilot.pause()
        assert isinstance(app.screen, MonitorScreen)
        assert len(app._notifications) == 3


async def test_an_opened_session_shows_its_recomputed_relaxation_trend() -> None:
    class TrendingSessions(FakeSessions):
        def __init__(self) -> None:
            super().__init__()
            self.trended = 0

        def trend(self, bundle: SessionBundle) -> SimpleNamespace:
            self.trended += 1
            return SimpleNamespace(t_s=[100.0, 200.0, 300.0], relaxation=[None, 0.5, 1.5])

    sessions = TrendingSessions()
    app = make_app(FakePipeline(), sessions=sessions)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("down", "up", "enter")
        chart = app.screen.query_one("#session-trend", BrailleChart)
        for _ in range(50):  # the trend is computed in a thread worker
            if chart.data is not None:
                break
            await pilot.pause(0.05)
        assert sessions.trended == 1
        assert chart.data is not None
        assert list(chart.data.xs) == [100.0, 200.0, 300.0]
        assert math.isnan(chart.data.ys[0])
        assert list(chart.data.ys[1:]) == [0.5, 1.5]


async def test_a_finished_session_shows_its_summary_and_u_shows_it_again() -> None:
    summary = seeded_summary(7)
    app, fake = new_app(
        [
            *seeded_session(30.0),
            SegmentEnded(30.0, 0, "settling", False, 30.0),
            RecordingChanged(30.0, False, 7),
            SessionFinished(1.7e9, 7, summary),
        ]
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, fake)
        assert isinstance(app.screen, SummaryScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MonitorScreen)
        assert "session 7 finished" in panel_text(app, "#segment")
        await pilot.press(_key_for("Summary of the finished session"))
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)


async def test_u_before_any_session_finished_explains_itself() -> None:
    app, _ = new_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, MonitorScreen)
        assert "No session has finished yet." in [n.message for n in app._notifications]


async def test_the_strap_panel_says_when_beats_stop_and_when_the_stream_ends() -> None:
    class Ending(FakePipeline):
        ended = asyncio.Event()

        async def events(self) -> AsyncIterator[PipelineEvent]:
            while not self.queue.empty():
                yield await self.queue.get()
            await self.ended.wait()

    fake = Ending(seeded_session(30.0))
    app = make_app(fake, title="test")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, fake)
        assert "● connected" in panel_text(app, "#device")
        last = app.model.last_beat_received_s
        assert last is not None
        app.monitor.clock = lambda: last + 12.0
        await pilot.pause(1.2)  # the strap panel is redrawn once a second
        assert "◌ no beats for 12 s" in panel_text(app, "#device")
        fake.ended.set()
        await pilot.pause(0.3)
        assert "■ stream ended" in panel_text(app, "#device")


@pytest.mark.parametrize("size", [(79, 24), (120, 23), (40, 10)])
async def test_below_80x24_the_monitor_says_the_terminal_is_too_small(
    size: tuple[int, int],
) -> None:
    app, fake = new_app(seeded_session(30.0))
    async with app.run_test(size=size) as pilot:
        await settle(pilot, fake)
        message = panel_text(app, "#too-small")
        assert f"terminal too small (need 80×24, have {size[0]}×{size[1]})" in message
        assert app.screen.query_one("#too-small").display
        assert not app.screen.query_one("#bottom").display
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not app.screen.query_one("#too-small").display
        assert app.screen.query_one("#bottom").display
