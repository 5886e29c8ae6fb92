"""Sliding windows over a record equal the per-window definitions."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from biofeedback.hrv import time_domain as td
from biofeedback.hrv.dfa import dfa_alpha1
from biofeedback.hrv.frequency import (
    band_power_ms2,
    frequency_domain,
    resample_cubic,
    welch_columns,
)
from biofeedback.hrv.settings import HrvSettings
from biofeedback.hrv.windows import sliding_windows


@pytest.fixture(scope="module")
def long_rr(reference_dir: Path) -> np.ndarray:
    return np.load(reference_dir / "pyhrv" / "SampleNNISeriesLong.npy").astype(np.float64)


def test_time_domain_equals_direct_computation(long_rr: np.ndarray) -> None:
    rr = long_rr[:1500]
    t = np.cumsum(rr) / 1000
    table = sliding_windows(t, rr, window_s=120, step_s=17, correct=False, spectral=False)
    assert len(table) > 50
    for k in range(0, len(table), 7):
        inside = (t > table.t_start_s[k]) & (t <= table.t_end_s[k])
        w = rr[inside]
        assert table.n_beats[k] == w.size
        assert table.reason[k] is None
        assert table.mean_rr_ms[k] == pytest.approx(td.mean_rr_ms(w), rel=1e-9)
        assert table.mean_hr_bpm[k] == pytest.approx(td.mean_hr_bpm(w), rel=1e-9)
        assert table.sdnn_ms[k] == pytest.approx(td.sdnn_ms(w), rel=1e-9)
        assert table.rmssd_ms[k] == pytest.approx(td.rmssd_ms(w), rel=1e-9)
        assert table.sdsd_ms[k] == pytest.approx(td.sdsd_ms(w), rel=1e-9)
        assert table.pnn50_pct[k] == pytest.approx(td.pnn50_pct(w), rel=1e-9)
        assert table.sd1_ms[k] == pytest.approx(td.sd1_ms(w), rel=1e-9)
        assert table.sd2_ms[k] == pytest.approx(td.sd2_ms(w), rel=1e-9)


def test_spectral_columns_equal_single_window_welch(long_rr: np.ndarray) -> None:
    rr = long_rr[:1200]
    t = np.cumsum(rr) / 1000
    table = sliding_windows(t, rr, window_s=300, step_s=60, correct=False)
    grid_s, x = resample_cubic(t, rr, 4.0)
    for k in range(len(table)):
        first = max(0, int(np.ceil((table.t_start_s[k] - grid_s[0]) * 4.0 - 1e-9)))
        one = welch_columns(x[first : first + 1200], HrvSettings())
        assert table.hf_ms2[k] == pytest.approx(band_power_ms2(one, (0.15, 0.40)), rel=1e-9)
        assert table.lf_ms2[k] == pytest.approx(band_power_ms2(one, (0.04, 0.15)), rel=1e-9)


def test_spectral_columns_follow_theory_and_per_window_analysis() -> None:
    rng = np.random.default_rng(5)
    out: list[float] = []
    now = 0.0
    while now < 1200:
        rr_k = 950 + 40 * np.sin(2 * np.pi * 0.25 * now) + rng.normal(0, 3)
        now += rr_k / 1000
        out.append(rr_k)
    rr = np.array(out)
    t = np.cumsum(rr) / 1000
    table = sliding_windows(t, rr, window_s=300, step_s=90, correct=False)
    assert len(table) >= 9
    for k in range(len(table)):
        inside = (t > table.t_start_s[k]) & (t <= table.t_end_s[k])
        direct = frequency_domain(rr[inside], t_s=t[inside])
        assert table.hf_ms2[k] == pytest.approx(40**2 / 2, rel=0.06)
        assert table.hf_ms2[k] == pytest.approx(direct.hf_ms2, rel=0.03)
        assert table.hf_peak_hz[k] == pytest.approx(0.25, abs=1 / 120)
        assert table.respiration_rate_per_min[k] == pytest.approx(15.0, abs=0.3)


def test_windows_never_difference_across_segments() -> None:
    rr = np.tile([800.0, 820.0], 150)
    rr[150:] += 400.0  # a different heart rate after a gap
    seg = np.repeat([0, 1], 150)
    t = np.cumsum(rr) / 1000
    table = sliding_windows(t, rr, seg, window_s=60, step_s=10, correct=False, spectral=False)
    assert np.nanmax(table.rmssd_ms) == pytest.approx(20.0)


def test_invalid_windows_are_nan_with_reason() -> None:
    rr = np.full(400, 800.0) + np.tile([0.0, 15.0], 200)
    rr[100:140:2] = 1600.0  # 20 missed beats inside a few windows
    table = sliding_windows(None, rr, window_s=60, step_s=30, spectral=False)
    bad = [k for k, r in enumerate(table.reason) if r is not None]
    assert bad, "some windows should exceed 5 % corrected beats"
    for k in bad:
        assert math.isnan(table.rmssd_ms[k])
        assert "too many corrected" in str(table.reason[k])
        assert table.artifact_share[k] > 0.05
    row = table.to_dict()
    assert row["rmssd_ms"][bad[0]] is None
    assert isinstance(row["reason"][bad[0]], str)
    assert "ln_rmssd_ln_ms" in row
    assert "lf_hf_ratio" in row


def test_parameters_are_validated() -> None:
    with pytest.raises(ValueError, match="positive"):
        sliding_windows(None, np.full(100, 800.0), window_s=0)


def test_dfa_alpha1_column_equals_a_direct_call_per_window(long_rr: np.ndarray) -> None:
    rr = long_rr[:2500]
    t = np.cumsum(rr) / 1000
    table = sliding_windows(t, rr, window_s=300, step_s=45, correct=False, spectral=False)
    assert np.isfinite(table.dfa_alpha1).sum() > 20
    for k in range(len(table)):
        w = rr[(t > table.t_start_s[k]) & (t <= table.t_end_s[k])]
        if table.reason[k] is None:
            assert table.dfa_alpha1[k] == pytest.approx(dfa_alpha1(w), rel=1e-9)
        else:
            assert math.isnan(table.dfa_alpha1[k])
    assert table.to_dict()["dfa_alpha1"][0] == pytest.approx(table.dfa_alpha1[0])


def test_dfa_alpha1_never_spans_a_gap_nor_takes_too_few_beats() -> None:
    rng = np.random.default_rng(11)
    rr = 800 + 40 * rng.standard_normal(1200)
    seg = np.repeat([0, 1], [700, 500])
    t = np.cumsum(rr) / 1000
    table = sliding_windows(t, rr, seg, window_s=120, step_s=20, correct=False, spectral=False)
    for k in range(len(table)):
        inside = (t > table.t_start_s[k]) & (t <= table.t_end_s[k])
        chains = np.unique(seg[inside])
        if chains.size > 1:
            assert table.reason[k] is None
            assert math.isnan(table.dfa_alpha1[k])
        elif table.reason[k] is None:
            assert table.dfa_alpha1[k] == pytest.approx(dfa_alpha1(rr[inside]), rel=1e-9)
    few = sliding_windows(
        t,
        rr,
        window_s=30,
        step_s=30,
        correct=False,
        spectral=False,
        settings=HrvSettings(window_s=30),
    )
    assert few.reason[0] is None
    assert few.n_beats[0] < few.settings.dfa_min_beats
    assert np.all(np.isnan(few.dfa_alpha1))
