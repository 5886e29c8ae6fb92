"""The dashboard's pure parts: braille drawing, chart layout, text panels, help rows, messages."""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import math

import numpy as np
import pytest
from textual.binding import Binding

from biofeedback.hrv.estimates import Value
from biofeedback.live.messages import Notice, SegmentKind, SegmentStarted, SnapshotComputed
from biofeedback.tui.app import alert_for, message_for
from biofeedback.tui.braille import Span, canvas_to_chars, dot_canvas, label_row, render_braille
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
    assert row.plain == "se base  ✦"


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


def test_format_value_states_unit_window_and_the_reason_for_absence() -> None:
    assert format_value("PNS", Value(-0.5, 0.1, None, 60.0, 60, 0.0), "SD", signed=True) == (
        "PNS -0.50 ±0.10 SD, 60 s"
    )
    assert format_value("HR", Value(math.nan, None, None, 60.0, 0, 0.0), "bpm") == (
        "HR — bpm, 60 s: not available"
    )
    assert format_clock(59.01) == "1:00"


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


def test_panels_show_every_number_with_unit_and_window() -> None:
    model = _seeded_model()
    estimates = estimate_lines(model)
    assert estimates[0].startswith("Block so far: lnRMSSD ")
    assert len(estimates[0]) <= 66  # the panel's width at 120 columns
    assert estimates[1].startswith("  HR ")
    assert estimates[1].endswith("bpm · vs baseline, 95 %")
    assert estimates[2].startswith("now: lnRMSSD ")
    assert estimates[2].endswith(" ln(ms), 60 s")
    assert " ±" in estimates[2]
    assert "approx." in estimates[3]
    assert estimates[5].endswith("/min (RSA), 120 s")
    assert segment_lines(model) == [
        "● REC session 7",
        "▶ 1:30 left · whispering (trigger)",
        "playing whispering.mp4",
    ]
    assert quality_lines(model)[0] == "skin contact ok"
    assert "beats in 60 s" in quality_lines(model)[1]


def test_quality_lists_the_processors_honest_flags() -> None:
    model = _seeded_model(120.0)
    assert model.snapshot is not None
    flagged = dataclasses.replace(model.snapshot, flags=("HF unreliable: slow breathing",))
    model.apply(SnapshotComputed(flagged))
    assert "⚠ HF unreliable: slow breathing" in quality_lines(model)


def test_quality_names_a_non_default_artifact_method() -> None:
    model = _seeded_model(120.0)
    assert model.snapshot is not None
    assert not any("artifact detection" in line for line in quality_lines(model))
    robust = dataclasses.replace(
        model.snapshot,
        settings=dataclasses.replace(model.snapshot.settings, artifact_method="robust"),
    )
    model.apply(SnapshotComputed(robust))
    assert "artifact detection: robust (ectopy runs)" in quality_lines(model)


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
    ],
)
def test_docstring_examples_hold(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0
    assert result.failed == 0
