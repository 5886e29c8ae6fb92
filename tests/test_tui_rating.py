"""The self-report modal: a RatingRequested from the pipeline asks, the answer is recorded."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from biofeedback.live.messages import RatingRequested
from biofeedback.tui.app import make_app
from biofeedback.tui.screens.monitor import MonitorScreen
from biofeedback.tui.screens.rating import RatingScreen, parse_rating
from tests.test_tui_app import settle
from tests.test_tui_support import FakePipeline, seeded_session

SIZES = [(120, 40), (80, 24)]
ASK = RatingRequested(400.0, "whispering")


async def open_modal(pilot: Pilot[object], fake: FakePipeline) -> RatingScreen:
    await settle(pilot, fake)
    fake.push(ASK)
    await settle(pilot, fake)
    screen = pilot.app.screen
    assert isinstance(screen, RatingScreen)
    return screen


def error_text(screen: RatingScreen) -> str:
    return str(screen.query_one("#rating-error", Static).render())


@pytest.mark.parametrize("size", SIZES)
async def test_typing_two_ratings_and_enter_records_them(size: tuple[int, int]) -> None:
    fake = FakePipeline(seeded_session(90.0))
    app = make_app(fake)
    async with app.run_test(size=size) as pilot:
        screen = await open_modal(pilot, fake)
        assert screen.focused is screen.query_one("#relaxation", Input)
        await pilot.press("7", "enter")
        await pilot.pause()
        assert screen.focused is screen.query_one("#tingles", Input)
        assert error_text(screen) == ""
        await pilot.press("3", "enter")
        await settle(pilot, fake)
        assert fake.ratings == [("whispering", 7, 3)]
        assert isinstance(app.screen, MonitorScreen)


@pytest.mark.parametrize("size", SIZES)
async def test_escape_skips_without_recording(size: tuple[int, int]) -> None:
    fake = FakePipeline(seeded_session(90.0))
    app = make_app(fake)
    async with app.run_test(size=size) as pilot:
        await open_modal(pilot, fake)
        await pilot.press("5", "escape")
        await settle(pilot, fake)
        assert isinstance(app.screen, MonitorScreen)
        assert fake.ratings == []
        assert "record_rating" not in fake.calls


@pytest.mark.parametrize("size", SIZES)
async def test_out_of_range_or_non_numeric_answers_are_refused(size: tuple[int, int]) -> None:
    fake = FakePipeline(seeded_session(90.0))
    app = make_app(fake)
    async with app.run_test(size=size) as pilot:
        screen = await open_modal(pilot, fake)
        await pilot.press("1", "1", "enter")
        await pilot.pause()
        assert error_text(screen) == 'relaxation: "11" is not a whole number from 0 to 10'
        assert screen.focused is screen.query_one("#relaxation", Input)
        await pilot.press("backspace", "backspace", "x", "enter")
        await pilot.pause()
        assert error_text(screen) == 'relaxation: "x" is not a whole number from 0 to 10'
        await pilot.press("backspace", "8", "tab", "enter")
        await pilot.pause()
        assert error_text(screen) == "tingles: type a whole number from 0 to 10"
        assert app.screen is screen
        assert fake.ratings == []
        await pilot.press("0", "enter")
        await settle(pilot, fake)
        assert fake.ratings == [("whispering", 8, 0)]


async def test_the_monitor_keeps_updating_behind_the_modal() -> None:
    fake = FakePipeline(seeded_session(90.0))
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_modal(pilot, fake)
        before = app.model.beats_total
        caption = str(app.monitor.query_one("#hr-caption", Static).render())
        fake.push(*seeded_session(120.0)[len(seeded_session(90.0)) :])
        await settle(pilot, fake)
        assert isinstance(app.screen, RatingScreen)
        assert app.model.beats_total > before
        assert str(app.monitor.query_one("#hr-caption", Static).render()) != caption


async def test_a_refused_rating_is_reported() -> None:
    class Refusing(FakePipeline):
        async def record_rating(self, label: str, relaxation: int, tingles: int) -> None:
            raise ValueError("not recording: the rating was not stored")

    fake = Refusing()
    app = make_app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_modal(pilot, fake)
        await pilot.press("4", "enter", "6", "enter")
        await settle(pilot, fake)
        assert isinstance(app.screen, MonitorScreen)
        assert [n.message for n in app._notifications] == [
            "not recording: the rating was not stored"
        ]


def test_parse_rating_accepts_only_whole_numbers_0_to_10() -> None:
    assert [parse_rating(t) for t in ("0", "10", " 5 ", "07")] == [0, 10, 5, 7]
    refused = ("", " ", "-1", "11", "x", "7.0", "1e1", "+3")
    assert [parse_rating(t) for t in refused] == [None] * len(refused)
