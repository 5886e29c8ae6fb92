"""The dashboard over sustained irregular rhythm, and the correction level it always shows."""

from __future__ import annotations

import dataclasses

import numpy as np

from biofeedback.hrv.artifacts_threshold import THRESHOLD_LEVELS_S
from biofeedback.hrv.processor import HrvProcessor
from biofeedback.hrv.rhythm import MESSAGE
from biofeedback.hrv.settings import HrvSettings
from biofeedback.live.messages import SnapshotComputed
from biofeedback.tui.chart import WITHHELD_LABEL, withheld_spans
from biofeedback.tui.format import (
    IRREGULAR_LINES,
    correction_line,
    estimate_lines,
    quality_lines,
)
from biofeedback.tui.model import DashboardModel
from devices.events import Beat


def _model(rr_ms: np.ndarray, settings: HrvSettings | None = None) -> DashboardModel:
    processor = HrvProcessor(settings)
    model = DashboardModel()
    t_s = 0.0
    for i, rr in enumerate(rr_ms):
        t_s += rr / 1000.0
        beat = Beat(t_s, float(rr), round(rr * 1.024), 0, i)
        model.apply(beat)
        snapshot = processor.push(beat)
        if snapshot is not None:
            model.apply(SnapshotComputed(snapshot))
    return model


def _sinus_then_af(n_sinus: int = 150, n_af: int = 320) -> np.ndarray:
    rng = np.random.default_rng(11)
    sinus = 900.0 + 40.0 * np.sin(np.arange(n_sinus) / 2.5) + rng.normal(0, 8, n_sinus)
    return np.r_[sinus, 900.0 * rng.uniform(0.65, 1.35, n_af)]


def test_irregular_rhythm_is_marked_withheld_and_not_counted_as_artifacts() -> None:
    model = _model(_sinus_then_af())
    snap = model.snapshot
    assert snap is not None
    assert MESSAGE in snap.flags
    spans = withheld_spans(model)
    assert len(spans) == 1
    assert spans[0].label == WITHHELD_LABEL
    first_af_s = float(np.cumsum(_sinus_then_af())[149]) / 1000.0
    assert first_af_s - 8.0 < spans[0].start < spans[0].end == snap.t_s  # from the onset
    assert model.withheld_beats > 50
    lines = estimate_lines(model)
    assert [*IRREGULAR_LINES] == lines[2:5]
    assert "not a diagnosis" in " ".join(lines)
    assert "ask a doctor" in " ".join(lines)
    assert not any("lnRMSSD" in line for line in lines)  # no vagal value, not even the block's
    quality = quality_lines(model)
    assert not any(line.startswith("corrected beats") for line in quality)
    assert f"withheld {model.withheld_beats} beats, not artifacts" in quality


def test_regular_rhythm_after_irregular_ends_the_span() -> None:
    rng = np.random.default_rng(5)
    sinus = 850.0 + rng.normal(0, 10, 260)
    model = _model(np.r_[_sinus_then_af(), sinus])
    assert model.snapshot is not None
    assert MESSAGE not in model.snapshot.flags
    assert len(model.withheld_spans) == 1
    assert model.withheld_spans[0][1] < model.snapshot.t_s
    assert any(line.startswith("corrected beats") for line in quality_lines(model))


def test_the_correction_level_is_always_shown() -> None:
    model = _model(np.full(120, 900.0) + np.tile([0.0, 20.0], 60))
    assert "correction: automatic (Lipponen–Tarvainen)" in quality_lines(model)
    for level, threshold_s in THRESHOLD_LEVELS_S.items():
        snap = model.snapshot
        assert snap is not None
        line = correction_line(dataclasses.replace(snap, settings=_level(level)))
        assert line == f"correction: {level} (> {1000 * threshold_s:.0f} ms at 60/min)"
    robust = _model(np.full(120, 900.0), HrvSettings(correction="robust"))
    assert "correction: robust (L–T + ectopy runs)" in quality_lines(robust)


def _level(level: str) -> HrvSettings:
    return HrvSettings(correction=level)  # type: ignore[arg-type]


def test_the_band_starts_where_the_episode_began_not_where_it_was_confirmed() -> None:
    """The live check confirms AF-like RR 192 intervals in; the band reaches back to its onset."""
    rr = _sinus_then_af()
    model = _model(rr)
    t = np.cumsum(rr) / 1000.0
    first_af_s, confirmed_s = float(t[149]), float(t[149 + 190])
    snap = model.snapshot
    assert snap is not None
    assert snap.irregular_since_s is not None
    (band,) = withheld_spans(model)
    # Within the 8 beats by which an onset's edge is refined (rhythm.EDGE_BEATS), as batch does.
    assert abs(band.start - first_af_s) < 8.0
    assert band.start == snap.irregular_since_s
    assert confirmed_s - band.start > 120.0  # what the band missed before
