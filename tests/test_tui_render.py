"""The dashboard's pure parts: braille drawing, chart layout, text panels, help rows, messages."""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import itertools
import math

import numpy as np
import pytest
from textual.binding import Binding

from biofeedback.hrv.estimates import Value
from biofeedback.live.messages import (
    Notice,
    SegmentEnded,
    SegmentKind,
    SegmentStarted,
    SessionFinished,
    SnapshotComputed,
)
from biofeedback.tui.app import alert_for, message_for
from biofeedback.tui.braille import (
    Span,
    canvas_to_chars,
    dot_canvas,
    label_row,
    render_braille,
    time_ticks,
)
from biofeedback.tui.chart import ChartData, chart_lines, nice_range
from biofeedback.tui.format import (
    device_lines,
    estimate_lines,
    format_clock,
    format_value,
    quality_lines,
    segment_lines,
)
from biofeedback.tui.messages import BeatReceived, SnapshotUpdated, StatusChanged
from biofeedback.tui.model import DashboardModel, DeviceStatus, LinkState
from biofeedback.tui.screens.help import help_rows
from biofeedback.tui.screens.monitor import MonitorScreen
from devices.events import Beat, Disconnected, DisconnectReason, Reconnecting
from tests.test_tui_support import seeded_session


def test_a_flat_line_lights_one_dot_row_across_the_canvas() -> None:
    canvas = dot_canvas(np.arange(10.0), np.full(10, 5.0), 5, 2, (0.0, 9.0), (0.0, 10.0))
    assert canvas.shape == (8, 10)
    lit_rows = np.flatnonzero(canvas.any(axis=1))
    assert lit_rows.tolist() == [3]  # row 7 - rint(5 * 7 / 10)
    assert canvas[3].all()


def test_a_nan_breaks_the_line_instead_of_bridging_the_gap() -> None:
    xs = np.array([0.0, 1.0, 2.0, 3.0])
    joined = dot_canvas(xs, [0.0, 0.0, 10.0, 10.0], 2, 2, (0.0, 3.0), (0.0, 10.0))
    broken = dot_canvas(xs, [0.0, 0.0, math.nan, 10.0], 2, 2, (0.0, 3.0), (0.0, 10.0))
    assert joined[:, 2].sum() == 8  # the jump is drawn as a vertical stroke
    assert broken[:, 2].sum() == 0
    assert broken[0, 3]
    assert broken[:, 3].sum() == 1


def test_points_outside_the_x_range_are_dropped_and_y_is_clipped() -> None:
    canvas = dot_canvas([-5.0, 0.5], [1.0, 99.0], 1, 1, (0.0, 1.0), (0.0, 1.0))
    assert canvas.sum() == 1
    assert canvas[0].any()  # 99 clipped to the top row


def test_braille_packing_follows_the_unicode_dot_numbering() -> None:
    canvas = np.zeros((4, 2), dtype=bool)
    canvas[0, 0] = True  # dot 1
    canvas[3, 1] = True  # dot 8
    assert canvas_to_chars(canvas) == [chr(0x2800 + 0x01 + 0x80)]


def test_render_braille_has_the_asked_size_and_shades_span_columns() -> None:
    rng = np.random.default_rng(1)
    xs = np.arange(600.0)
    ys = 900 + 50 * rng.standard_normal(600)
    spans = [Span(0.0, 299.5, "baseline", "#16324a")]
    lines = render_braille(xs, ys, 40, 6, (700.0, 1100.0), spans)
    assert len(lines) == 6
    assert all(len(line.plain) == 40 for line in lines)
    shaded = [c for c in range(40) if lines[0].get_style_at_offset(_console(), c).bgcolor]
    assert shaded == list(range(20))


def _console():  # a console only to resolve styles; nothing is printed
    from rich.console import Console

    return Console(width=80)


def test_label_row_keeps_labels_apart_and_marks_win() -> None:
    row = label_row(
        [Span(0.0, 3.0, "settling", "red"), Span(3.0, 10.0, "base", "blue")], [9.0], 10, (0, 10)
    )
    assert row.plain == "s… base  ✦"


SESSION_SEGMENTS = [
    ("settling", 0, 60),
    ("baseline", 60, 240),
    ("tapping", 240, 420),
    ("washout", 420, 480),
    ("personal-attention", 480, 660),
    ("washout", 660, 720),
    ("whispering", 720, 900),
    ("washout", 900, 960),
    ("crinkling", 960, 1000),
]


@pytest.mark.parametrize("width", [20, 40, 74, 114])
def test_segment_labels_never_touch_and_a_cut_label_ends_in_an_ellipsis(width: int) -> None:
    spans = [Span(a, b, label, "blue") for label, a, b in SESSION_SEGMENTS]
    row = label_row(spans, [500.0, 800.0], width, (0.0, 1000.0)).plain
    assert len(row) == width
    words = row.replace("✦", " ").split()
    labels = [label for label, _, _ in SESSION_SEGMENTS]
    for word in words:
        # Each word is a whole label or a label's start cut with an ellipsis, never two run
        # together ("settlibaseline") nor a bare cut ("tappin").
        assert word in labels or (
            word.endswith("…") and any(label.startswith(word[:-1]) for label in labels)
        ), (word, row)
    assert "baseline" in row if width >= 74 else True


def test_time_ticks_fall_on_round_session_times_and_never_touch() -> None:
    for x_range in [(0.0, 180.0), (820.0, 1000.0), (0.0, 1137.0), (0.0, 7200.0)]:
        for width in (20, 74, 114):
            ticks = time_ticks(x_range, width)
            assert ticks, (x_range, width)
            cols = [c for c, _ in ticks]
            assert cols == sorted(cols)
            gaps = [b - a for a, b in itertools.pairwise(cols)]
            assert all(g >= len(label) + 2 for g, (_, label) in zip(gaps, ticks, strict=False))
    assert [label for _, label in time_ticks((820.0, 1000.0), 74)] == [
        "14:00",
        "14:30",
        "15:00",
        "15:30",
        "16:00",
        "16:30",
    ]


def test_nice_range_widens_to_the_minimum_and_centres_z_scores() -> None:
    assert nice_range(np.array([900.0, 905.0]), 100.0, 50.0) == (850.0, 950.0)
    assert nice_range(np.array([math.nan]), 4.0, 1.0, centre=0.0) == (-2.0, 2.0)
    assert nice_range(np.array([-4.2, 1.0]), 4.0, 1.0, centre=0.0) == (-5.0, 5.0)
    assert nice_range(np.array([math.nan]), 100.0, 50.0) == (0.0, 100.0)


def test_chart_lines_fill_the_widget_with_a_label_row_and_a_y_axis() -> None:
    data = ChartData(
        np.arange(100.0),
        np.linspace(800, 1000, 100),
        (800.0, 1000.0),
        (0.0, 99.0),
        (Span(0.0, 50.0, "baseline", "blue"),),
        (75.0,),
    )
    lines = chart_lines(data, 50, 8)
    assert len(lines) == 8
    assert lines[0].plain.strip().startswith("baseline")
    assert lines[1].plain.startswith(" 1000 ")
    assert lines[-1].plain.startswith("  800 ")
    assert all(len(line.plain) == 50 for line in lines)
    assert chart_lines(data, 5, 8)[0].plain == "(too small)"
    timed = chart_lines(dataclasses.replace(data, time_axis=True), 50, 8)
    assert len(timed) == 8
    assert timed[-2].plain.startswith("  800 ")
    assert timed[-1].plain.startswith(" m:ss ╵0:00 ")
    assert all(len(line.plain) == 50 for line in timed)
    # Two rows are too few to give one to the axis.
    assert len(chart_lines(dataclasses.replace(data, time_axis=True), 50, 3)) == 3


def test_format_value_states_unit_window_and_the_reason_for_absence() -> None:
    assert format_value("PNS", Value(-0.5, 0.1, None, 60.0, 60, 0.0), "SD", signed=True) == (
        "PNS -0.50 ±0.10 SD, 60 s"
    )
    assert format_value("HR", Value(math.nan, None, None, 60.0, 0, 0.0), "bpm") == (
        "HR — bpm, 60 s: not available"
    )
    assert format_clock(59.01) == "1:00"


def test_the_strap_panel_says_when_beats_stop() -> None:
    connected = DeviceStatus(LinkState.CONNECTED, "H10")
    assert device_lines(connected, silent_s=2.0)[0] == "● connected"
    assert device_lines(connected, silent_s=12.4)[0] == "◌ no beats for 12 s"
    assert device_lines(connected, silent_s=95.0)[0] == "◌ no beats for 1:35"
    assert device_lines(connected, stream_ended=True)[0] == "■ stream ended"
    stopped = DeviceStatus(LinkState.DISCONNECTED, "H10", reason=DisconnectReason.USER)
    assert device_lines(stopped)[0] == "○ stream stopped"
    model = DashboardModel()
    model.apply(Beat(1.0, 800.0, 819, 0, 0), 100.0)
    assert model.silent_s(107.5) == 7.5
    assert DashboardModel().silent_s(5.0) is None


def test_device_lines_tell_each_link_state() -> None:
    assert device_lines(DeviceStatus(LinkState.CONNECTED, "H10", battery_percent=80))[0] == (
        "● connected"
    )
    lost = DeviceStatus(LinkState.DISCONNECTED, "H10", detail="link lost", rssi_dbm=-70)
    assert device_lines(lost) == ["○ disconnected: link lost", "H10", "battery — %  RSSI -70 dBm"]
    assert device_lines(DeviceStatus())[0] == "… waiting for the strap"


def _seeded_model(until_s: float = 300.0) -> DashboardModel:
    model = DashboardModel()
    for event in seeded_session(until_s):
        model.apply(event)
    return model


ESTIMATES_WIDTH_AT_80 = 52
"""Characters the estimates panel shows at 80 columns (``.-narrow #estimates`` less padding)."""


def test_panels_show_every_number_with_unit_and_window() -> None:
    model = _seeded_model()
    estimates = estimate_lines(model)
    assert estimates[0].startswith("Block so far: lnRMSSD ")
    assert estimates[1].startswith("  RMSSD ")
    assert " · HR " in estimates[1]
    assert estimates[1].endswith("bpm · 95 %")
    assert estimates[2].startswith("now 60 s: lnRMSSD ")
    assert " ±" in estimates[2]
    assert " ln ms, RMSSD " in estimates[2]
    assert estimates[2].endswith(" ms")
    assert estimates[3].startswith("now 60 s: HR ")
    assert estimates[3].endswith(" bpm")
    assert estimates[4].startswith("PNS index ")
    assert "(approx.)" in estimates[4]
    assert estimates[5].endswith("/min, 120 s")
    assert all(len(line) <= ESTIMATES_WIDTH_AT_80 for line in estimates), estimates
    assert segment_lines(model) == [
        "● REC session 7",
        "▶ whispering (trigger)",
        "1:30 left · playing whispering.mp4",
    ]
    assert quality_lines(model)[0] == "skin contact ok"
    assert quality_lines(model)[1] == "corrected beats 0.0 %"
    assert quality_lines(model)[2].endswith(" beats in 60 s")


@pytest.mark.parametrize(
    ("until_s", "lead"),
    [
        (30.0, "Settling 0:30 of 1:00: not analysed"),
        (140.0, "Baseline 1:20 of 2:30 recorded"),
        (230.0, "Block so far: first value in 0:40"),
        (380.0, "Block so far: lnRMSSD "),
    ],
)
def test_the_lead_line_says_what_each_state_waits_for(until_s: float, lead: str) -> None:
    lines = estimate_lines(_seeded_model(until_s))
    assert lines[0].startswith(lead), lines
    assert all(len(line) <= ESTIMATES_WIDTH_AT_80 for line in lines), lines


def test_a_finished_session_points_at_its_summary() -> None:
    model = _seeded_model(30.0)
    model.apply(SegmentEnded(30.0, 0, "settling", False, 60.0))
    model.apply(SessionFinished(1.7e9, 7, {"beats": 30}))  # the pipeline stamps Unix time
    assert (model.now_s or 0.0) < 100.0  # the charts keep the source clock
    assert segment_lines(model) == [
        "○ not recording",
        "session 7 finished",
        "u summary · c compare",
    ]


def test_long_reasons_are_shortened_for_the_panel() -> None:
    ambiguous = Value.absent(
        "ambiguous: the 6.0/min peak may be the 0.1-Hz Mayer wave, not breathing; "
        "HF peak at 15.0/min",
        120.0,
        150,
        0.0,
    )
    line = format_value("Breathing", ambiguous, "/min", 1)
    assert line == "Breathing — /min, 120 s: ambiguous, 6.0 or 15.0/min"
    assert len(line) <= ESTIMATES_WIDTH_AT_80
    short = Value.absent("need 120 s of continuous beats, have 47 s", 120.0, 50, 0.0)
    assert format_value("Breathing", short, "/min", 1).endswith(": 47 of 120 s of beats so far")


def test_quality_lists_the_processors_honest_flags() -> None:
    model = _seeded_model(120.0)
    assert model.snapshot is not None
    flagged = dataclasses.replace(model.snapshot, flags=("HF unreliable: slow breathing",))
    model.apply(SnapshotComputed(flagged))
    assert "⚠ HF unreliable: slow breathing" in quality_lines(model)


def test_quality_names_the_correction_level() -> None:
    model = _seeded_model(120.0)
    assert model.snapshot is not None
    assert "correction: automatic (Lipponen–Tarvainen)" in quality_lines(model)
    robust = dataclasses.replace(
        model.snapshot,
        settings=dataclasses.replace(model.snapshot.settings, artifact_method="robust"),
    )
    model.apply(SnapshotComputed(robust))
    assert "correction: robust (L–T + ectopy runs)" in quality_lines(model)


def test_estimates_wait_for_the_first_window() -> None:
    assert estimate_lines(DashboardModel()) == ["waiting for the first HRV window…"]


def test_help_lists_every_monitor_binding_with_its_key() -> None:
    rows = help_rows([*MonitorScreen.BINDINGS, Binding("x", "hidden", "")])
    assert ("space", "Pause/resume playback") in rows
    assert len(rows) == len(MonitorScreen.BINDINGS)


def test_high_rate_messages_coalesce_and_alerts_do_not() -> None:
    beat = Beat(1.0, 800.0, 819, 0, 0)
    assert BeatReceived(beat).can_replace(BeatReceived(beat))
    assert SnapshotUpdated(1.0).can_replace(SnapshotUpdated(0.5))
    assert not StatusChanged().can_replace(BeatReceived(beat))
    assert isinstance(message_for(beat), BeatReceived)
    assert isinstance(
        message_for(SegmentStarted(0.0, 0, "b", SegmentKind.BASELINE, 60.0)), StatusChanged
    )


def test_notices_become_alerts_and_link_events_stay_in_the_panel() -> None:
    alert = alert_for(Notice(5.0, "strap lost (link lost); reconnecting"))
    assert alert is not None
    assert (alert.text, alert.severity) == ("strap lost (link lost); reconnecting", "warning")
    # The pipeline's Notice already announces the outage: no second toast for the same thing.
    assert alert_for(Disconnected(5.0, DisconnectReason.LINK_LOST)) is None
    assert alert_for(Reconnecting(6.0, 2, 4.0)) is None


@pytest.mark.parametrize(
    "module",
    [
        "biofeedback.tui.braille",
        "biofeedback.tui.chart",
        "biofeedback.tui.format",
        "biofeedback.tui.trend_metric",
        "biofeedback.tui.screens.help",
        "biofeedback.tui.screens.devices",
        "biofeedback.tui.screens.compare",
        "biofeedback.tui.screens.rating",
        "biofeedback.tui.forest",
        "biofeedback.tui.compare_data",
        "biofeedback.tui.model",
    ],
)
def test_docstring_examples_hold(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0
    assert result.failed == 0
