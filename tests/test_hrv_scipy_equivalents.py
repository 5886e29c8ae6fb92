"""The numpy forms that keep scipy.signal and scipy.ndimage out of ``analyze`` equal scipy's bit
for bit: the periodic Hann window, a peak's prominence, the rolling rank and median filters; and the
Student-t functions that keep scipy.stats out of the live block estimate equal scipy.stats'."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import ndimage, signal, stats

from biofeedback.hrv.artifacts_rule import WINDOW_MEDIAN_BEATS, window_ranks
from biofeedback.hrv.artifacts_threshold import threshold_labels, threshold_ms
from biofeedback.hrv.frequency import hann_periodic
from biofeedback.hrv.respiration import peak_prominence
from biofeedback.hrv.student_t import t_quantile, t_two_sided_p


def test_hann_window_equals_scipy_get_window() -> None:
    for n in [*range(1, 600), 1024, 1200]:
        assert np.array_equal(hann_periodic(n), signal.get_window("hann", n)), n


def test_peak_prominence_equals_scipy() -> None:
    rng = np.random.default_rng(0)
    checked = 0
    for trial in range(3000):
        x = rng.integers(0, 6, int(rng.integers(1, 30))).astype(np.float64)
        if trial % 3 == 0:
            x[rng.integers(0, x.size)] = np.nan
        peak = int(rng.integers(0, x.size))
        if np.isnan(x[peak]):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy warns about zero prominences
            expected = signal.peak_prominences(x, [peak])[0][0]
        assert peak_prominence(x, peak) == expected, (x.tolist(), peak)
        checked += 1
    assert checked > 2000


@pytest.mark.parametrize("window", [3, 11, 91])
def test_window_ranks_equal_rank_filter_inside(window: int) -> None:
    rng = np.random.default_rng(window)
    for x in (np.round(rng.normal(0, 30, 2000) / 7.8125) * 7.8125, rng.normal(0, 1, 2000)):
        ranks = (0, window // 4, window // 2, window - 1)
        got = window_ranks(x, window, ranks)
        half = window // 2
        for row, rank in zip(got, ranks, strict=True):
            expected = ndimage.rank_filter(x, rank, size=window, mode="nearest")[half:-half]
            assert np.array_equal(row, expected)


def test_threshold_median_equals_scipy_median_filter() -> None:
    rng = np.random.default_rng(4)
    for n in (1, 2, 5, 11, 12, 500):
        x = np.round(800 + 40 * rng.standard_normal(n))
        half = WINDOW_MEDIAN_BEATS // 2
        med = window_ranks(np.pad(x, half, mode="edge"), WINDOW_MEDIAN_BEATS, (half,))[0]
        assert np.array_equal(
            med, ndimage.median_filter(x, size=WINDOW_MEDIAN_BEATS, mode="nearest")
        )
        x[n // 2] += 600.0
        reference = ndimage.median_filter(x, size=WINDOW_MEDIAN_BEATS, mode="nearest")
        far = np.abs(x - reference) > threshold_ms("medium", float(x.mean()))
        assert np.array_equal(threshold_labels(x, "medium") != 0, far)


def test_student_t_equals_scipy_stats() -> None:
    rng = np.random.default_rng(3)
    for _ in range(300):
        df = float(rng.choice([rng.integers(1, 60), rng.uniform(0.5, 200.0)]))
        q = float(rng.uniform(0.5, 0.9999))
        stat = float(rng.normal(0.0, 4.0))
        assert t_quantile(df, q) == pytest.approx(stats.t.ppf(q, df), rel=1e-12)
        assert t_two_sided_p(stat, df) == pytest.approx(2 * stats.t.sf(abs(stat), df), rel=1e-9)
