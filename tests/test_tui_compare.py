"""The compare screen over a fake comparison, its pure forest plot, and the store-backed source."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Group
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from biofeedback.analysis.view import CompareView, ForestPoint
from biofeedback.errors import BiofeedbackError
from biofeedback.sessions.store import SessionStore
from biofeedback.tui.app import make_app
from biofeedback.tui.compare_data import store_compare
from biofeedback.tui.forest import ForestData, forest_lines, forest_range, forest_row, nice_ceil
from biofeedback.tui.screens.compare import CompareScreen
from biofeedback.tui.screens.monitor import MonitorScreen
from biofeedback.tui.widgets import ForestPlot
from tests.recording_support import record_simulated
from tests.test_tui_support import COMPARE_ROWS, FOREST, ORDER_WARNING, FakeCompare, FakePipeline

SIZES = [(120, 40), (80, 24)]


# -- the forest plot, pure ------------------------------------------------------------------


def test_forest_rows_put_interval_mean_and_guides_in_their_columns() -> None:
    points = (
        ForestPoint("brush", 0.2, 0.1, 0.3, "responds"),
        ForestPoint("tap", -0.1, -0.3, 0.1, "no clear response"),
    )
    # 5 label cells + 1 gap + 13 plot cells; axis ±0.3 puts x at column round(20 x + 6).
    lines = [line.plain for line in forest_lines(ForestData(points, 0.1, "ln ms"), 19)]
    assert lines == [
        "brush     ┊ │ ├─●─┤",
        "tap   ├───●─┼─┤    ",
        "      -0.3  0  +0.3",
    ]


def test_a_missing_interval_or_mean_draws_only_what_is_known() -> None:
    x_range = (-1.0, 1.0)
    only_mean = forest_row(
        ForestPoint("a", 0.5, math.nan, math.nan, "not enough data"), 0.2, x_range, 9
    )
    assert only_mean.plain == "   ┊│┊●  "
    nothing = forest_row(
        ForestPoint("b", math.nan, math.nan, math.nan, "not enough data"), math.nan, x_range, 9
    )
    assert nothing.plain == "    │    "


def test_the_verdict_colours_the_interval_and_not_the_guides() -> None:
    row = forest_row(ForestPoint("a", 0.2, 0.1, 0.3, "responds"), 0.1, (-0.3, 0.3), 13)
    styles = {row.plain[span.start]: str(span.style) for span in row.spans}
    assert styles["●"] == "bold green"
    assert styles["┊"] == "dim"


def test_the_axis_is_symmetric_round_and_covers_every_interval_and_the_swc() -> None:
    assert forest_range(FOREST, 0.06) == (-0.5, 0.5)
    assert forest_range([ForestPoint("hr", -3.2, -6.1, -0.4, "responds")], 1.5) == (-8.0, 8.0)
    assert forest_range([], 0.9) == (-1.0, 1.0)
    assert forest_range([], math.nan) == (-1.0, 1.0)
    assert [nice_ceil(x) for x in (0.061, 1.0, 9.5, 11.0)] == [0.08, 1.0, 10.0, 15.0]


def test_long_labels_are_cut_and_a_narrow_plot_says_so() -> None:
    long = ForestPoint("personal attention with brushing", 0.1, 0.0, 0.2, "no clear response")
    lines = forest_lines(ForestData((long,), 0.05, "ln ms"), 40)
    assert lines[0].plain.startswith("personal … ")
    assert all(len(line.plain) == 40 for line in lines)
    assert [t.plain for t in forest_lines(ForestData((long,), 0.05, "ln ms"), 12)] == [
        "(too small)"
    ]


# -- the screen, over a fake comparison -----------------------------------------------------


async def computed(pilot: Pilot[object]) -> CompareScreen:
    """The compare screen once its comparison has arrived."""
    screen = pilot.app.screen
    assert isinstance(screen, CompareScreen)
    for _ in range(500):
        if not screen.computing:
            await pilot.pause()
            return screen
        await pilot.pause(0.01)
    raise AssertionError("the comparison never arrived")


def title(screen: CompareScreen) -> str:
    return str(screen.query_one("#compare-title", Static).render())


@pytest.mark.parametrize("size", SIZES)
async def test_c_opens_the_table_and_the_forest_plot(size: tuple[int, int]) -> None:
    compare = FakeCompare()
    app = make_app(FakePipeline(), compare=compare)
    async with app.run_test(size=size) as pilot:
        await pilot.press("c")
        screen = await computed(pilot)
        assert compare.requests == ["lnrmssd"]
        assert title(screen).startswith("lnrmssd vs baseline, 5 of 5 sessions")
        table: DataTable[str] = screen.query_one(DataTable)
        assert [table.get_row_at(i) for i in range(table.row_count)] == [
            list(r) for r in COMPARE_ROWS
        ]
        forest = screen.query_one(ForestPlot)
        assert forest.data is not None
        assert forest.data.points == FOREST
        assert "±SWC 0.06" in str(forest.border_title)
        rendered = forest.render()
        assert isinstance(rendered, Group)
        rows = [text.plain for text in rendered.renderables if isinstance(text, Text)]
        assert [r.split()[0] for r in rows[:3]] == ["whispering", "tapping", "crinkling"]
        assert all("●" in r for r in rows[:3])
        # Every trigger row and the axis are on screen, even at 80×24.
        assert forest.content_region.height == len(FOREST) + 1
        assert forest.region.bottom <= size[1]
        warnings = str(screen.query_one("#compare-warnings", Static).render())
        assert warnings == f"⚠ {ORDER_WARNING}"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MonitorScreen)


@pytest.mark.parametrize("size", SIZES)
async def test_the_metric_key_asks_again_for_the_next_metric(size: tuple[int, int]) -> None:
    compare = FakeCompare()
    app = make_app(FakePipeline(), compare=compare)
    async with app.run_test(size=size) as pilot:
        await pilot.press("c")
        await computed(pilot)
        for expected in ("hr", "hf", "pns", "lnrmssd"):
            await pilot.press("m")
            screen = await computed(pilot)
            assert compare.requests[-1] == expected
            assert title(screen).startswith(f"{expected} vs baseline")
            assert screen.query_one(DataTable).row_count == len(COMPARE_ROWS)
        assert compare.requests == ["lnrmssd", "hr", "hf", "pns", "lnrmssd"]


async def test_the_screen_says_computing_until_the_comparison_arrives() -> None:
    compare = FakeCompare()
    compare.gate.clear()
    app = make_app(FakePipeline(), compare=compare)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert screen.computing
        assert title(screen).endswith("(lnrmssd): computing…")
        assert screen.query_one(DataTable).row_count == 0
        compare.gate.set()
        await computed(pilot)
        assert screen.query_one(DataTable).row_count == len(COMPARE_ROWS)


async def test_a_failed_comparison_is_shown_and_the_dashboard_lives_on() -> None:
    def broken(metric_key: str) -> CompareView:
        raise BiofeedbackError("the session store is locked")

    app = make_app(FakePipeline(), compare=broken)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        screen = await computed(pilot)
        assert title(screen) == "cannot compare: the session store is locked"
        assert app.is_running
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MonitorScreen)


# -- the store-backed source ----------------------------------------------------------------


def _record(db: Path, seed: int) -> None:
    record_simulated(db, seed=seed)


def test_store_compare_reads_the_finished_sessions_for_each_metric(
    tmp_path: Path,
) -> None:
    db = tmp_path / "store.db"
    for seed in (21, 22):
        _record(db, seed)
    with SessionStore(db) as store:
        compute = store_compare(store)
        view = compute("lnrmssd")
        assert view.title.startswith("ΔlnRMSSD (ln ms) vs others, 2 of 2 sessions")
        labels = {p.label for p in view.forest}
        assert labels == {"whispering", "personal-attention", "tapping", "crinkling"}
        assert [row[0] for row in view.rows] == [p.label for p in view.forest]
        # A session still being written is left out: its last block is not over.
        store.conn.execute("UPDATE sessions SET status = 'recording' WHERE id = 2")
        hr = compute("hr")
        assert hr.unit == "bpm"
        assert "1 of 1 sessions" in hr.title


def test_the_dashboard_loads_the_analysis_layer_only_when_it_compares() -> None:
    # The statistics pull in scipy; the dashboard itself starts without them.
    code = (
        "import sys, biofeedback.tui.app; "
        "print(sorted({'scipy', 'biofeedback.analysis'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
