"""The dashboard model: a pure accumulator of pipeline events (no Textual, no HRV maths)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np

from biofeedback.live.messages import (
    MarkerRecorded,
    RecordingChanged,
    SegmentEnded,
    SegmentKind,
    SegmentStarted,
)
from biofeedback.tui.model import BEAT_HISTORY_S, DashboardModel, LinkState
from biofeedback.tui.trend_metric import TrendMetric
from devices.events import (
    BatteryRead,
    Beat,
    BeatFlag,
    Connected,
    DeviceInfo,
    Disconnected,
    DisconnectReason,
    MalformedPacket,
    Reconnecting,
    SignalStrength,
)
from tests.test_tui_support import seeded_session


def _beats(n: int, rr_ms: float = 1000.0, segment: int = 0, t0_s: float = 0.0) -> list[Beat]:
    return [Beat(t0_s + (i + 1) * rr_ms / 1000, rr_ms, 1024, segment, i) for i in range(n)]


def test_beats_accumulate_and_old_ones_are_dropped() -> None:
    model = DashboardModel()
    for beat in _beats(int(BEAT_HISTORY_S) + 100):
        model.apply(beat)
    assert model.beats_total == int(BEAT_HISTORY_S) + 100
    assert len(model.beat_t_s) == int(BEAT_HISTORY_S) + 1
    assert model.beat_t_s[-1] - model.beat_t_s[0] == BEAT_HISTORY_S
    assert model.now_s == model.beat_t_s[-1]


def test_recent_beats_break_the_line_at_continuity_gaps() -> None:
    model = DashboardModel()
    for beat in [*_beats(3), *_beats(2, 800.0, segment=1, t0_s=10.0)]:
        model.apply(beat)
    t, rr = model.recent_beats(60.0)
    assert np.isnan(rr).sum() == 1
    assert np.isnan(rr[3])
    assert t[3] == t[4]
    assert rr[~np.isnan(rr)].tolist() == [1000.0] * 3 + [800.0] * 2
    t_short, _ = model.recent_beats(1.0)
    assert t_short.tolist() == [10.8, 11.6]


def test_segments_open_close_and_count_down_on_the_source_clock() -> None:
    model = DashboardModel()
    model.apply(SegmentStarted(0.0, 0, "baseline", SegmentKind.BASELINE, 120.0))
    model.apply(Beat(30.0, 1000.0, 1024, 0, 0))
    assert model.current_segment is not None
    assert model.remaining_s() == 90.0
    model.apply(SegmentStarted(121.0, 1, "whispering", SegmentKind.TRIGGER, None, "w.mp4"))
    assert model.segments[0].end_s == 121.0
    assert model.remaining_s() is None  # "until the media ends"
    model.apply(SegmentEnded(200.0, 1, "whispering", complete=False))
    assert model.current_segment is None
    assert model.segments[1].end_s == 200.0


def test_markers_record_tingles_and_pause_state() -> None:
    model = DashboardModel()
    model.apply(MarkerRecorded(5.0, "tingle", "key"))
    model.apply(MarkerRecorded(6.0, "playback", "paused", 12.5))
    assert model.tingles_t_s == [5.0]
    assert model.paused
    model.apply(MarkerRecorded(7.0, "playback", "resumed", 12.5))
    assert not model.paused


def test_manual_trigger_marks_shade_a_trigger_only_without_a_protocol() -> None:
    model = DashboardModel()
    model.apply(MarkerRecorded(10.0, "playback", "started", "manual"))
    model.apply(MarkerRecorded(70.0, "playback", "ended:stopped", "manual"))
    [manual] = model.segments
    assert (manual.kind, manual.start_s, manual.end_s) == (SegmentKind.TRIGGER, 10.0, 70.0)
    model.apply(SegmentStarted(80.0, 0, "baseline", SegmentKind.BASELINE, 120.0))
    model.apply(MarkerRecorded(90.0, "playback", "started", "manual"))
    model.apply(MarkerRecorded(95.0, "playback", "ended:stopped", "manual"))
    assert [s.label for s in model.segments] == ["trigger", "baseline"]
    assert model.segments[1].end_s is None  # a protocol segment is not ended by a manual mark


def test_device_status_follows_a_disconnect_and_recovery() -> None:
    model = DashboardModel()
    info = DeviceInfo("H10", "AA:BB", "ble")
    model.apply(Connected(0.0, info))
    model.apply(BatteryRead(0.0, 77))
    model.apply(SignalStrength(0.0, -58))
    model.apply(Disconnected(10.0, DisconnectReason.LINK_LOST))
    assert model.device.state is LinkState.DISCONNECTED
    model.apply(Reconnecting(10.0, 1, 1.0))
    model.apply(Reconnecting(11.0, 2, 2.0))
    assert model.device.state is LinkState.RECONNECTING
    assert model.device.attempt == 2
    model.apply(Connected(14.0, info))
    assert model.device.state is LinkState.CONNECTED
    assert model.device.attempt == 0
    assert (model.device.battery_percent, model.device.rssi_dbm) == (77, -58)


def test_problems_are_counted_not_fatal() -> None:
    model = DashboardModel()
    model.apply(MalformedPacket(1.0, 1.0, b"\x10", "too short"))
    model.apply(Beat(1.0, 3000.0, 3072, 0, 0, BeatFlag.IMPLAUSIBLE))
    assert (model.device.malformed_packets, model.implausible_beats) == (1, 1)


def test_recording_state_and_versions_say_what_changed() -> None:
    model = DashboardModel()
    model.apply(RecordingChanged(0.0, True, 3))
    assert model.recording
    assert model.session_id == 3
    before = (model.beats_version, model.trend_version, model.status_version)
    model.apply(Beat(1.0, 1000.0, 1024, 0, 0))
    after = (model.beats_version, model.trend_version, model.status_version)
    assert after == (before[0] + 1, before[1], before[2])


def test_snapshots_build_a_trend_per_metric_with_gaps_as_nan() -> None:
    model = DashboardModel()
    for event in seeded_session(400.0):
        model.apply(event)
    t, relaxation = model.trend_series()
    assert t.size == relaxation.size > 300
    assert math.isnan(relaxation[0])  # no baseline yet at the start
    assert np.isfinite(relaxation[-1])
    # The seeded trigger raises vagal tone: the score ends above the baseline.
    assert relaxation[-1] > 0
    assert model.switch_metric() is TrendMetric.LN_RMSSD
    _, ln = model.trend_series()
    assert model.snapshot is not None
    assert ln[-1] == model.snapshot.ln_rmssd.value
    assert [s.label for s in model.segments] == ["settling", "baseline", "whispering", "washout"]


def test_the_model_and_its_text_load_without_textual() -> None:
    modules = ["biofeedback.tui.model", "biofeedback.tui.format", "biofeedback.tui.chart"]
    code = (
        f"import importlib, sys; [importlib.import_module(m) for m in {modules!r}]; "
        "print(','.join(m for m in ('textual', 'scipy', 'bleak') if m in sys.modules))"
    )
    repo = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo
    )
    assert out.stdout.strip() == ""
