"""Pooled statistics, verdicts, bootstrap intervals, ranking, order effects: hand-built data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from biofeedback.analysis.bootstrap import boot_means, expanded_tail, interval, t975
from biofeedback.analysis.config import CompareSettings
from biofeedback.analysis.order import by_position, order_warning
from biofeedback.analysis.selfreport import average_ranks, spearman_rho
from biofeedback.analysis.stats import baseline_swc, pair_difference, summarise
from biofeedback.analysis.verdict import direction, verdict

CFG = CompareSettings(n_boot=2000)


def test_verdict_needs_interval_excluding_zero_and_worthwhile_size() -> None:
    # Interval excludes zero but the mean is below the smallest worthwhile change.
    assert verdict(0.04, 0.02, 0.06, 0.05, 6) == "no clear response"
    # Worthwhile mean but the interval includes zero.
    assert verdict(0.30, -0.05, 0.65, 0.05, 6) == "no clear response"
    assert verdict(0.30, 0.10, 0.50, 0.05, 6) == "responds"
    # A fall counts too (e.g. heart rate); its direction says which way.
    assert verdict(-3.0, -4.0, -2.0, 1.5, 6) == "responds"
    assert direction(-3.0, -1) == "relaxing"
    assert direction(-0.2, 1) == "arousing"
    assert verdict(0.30, 0.10, 0.50, 0.05, 2) == "not enough data"
    assert verdict(0.30, 0.10, 0.50, math.nan, 6) == "not enough data"


def test_summarise_hand_built_table() -> None:
    table = np.array(
        [
            [0.31, 0.021, 0.5, np.nan],
            [0.29, 0.030, -0.5, 0.2],
            [0.35, 0.025, 0.4, np.nan],
            [0.28, 0.029, -0.3, 0.3],
            [0.33, 0.024, 0.1, np.nan],
        ]
    )
    s = summarise(table, swc=0.05, relax_sign=1, settings=CFG)
    assert s.n == (5, 5, 5, 2)
    assert s.mean[0] == pytest.approx(0.312)
    assert s.verdict == ("responds", "no clear response", "no clear response", "not enough data")
    # Column 1: the interval excludes zero, but the mean (0.026) is below the SWC (0.05).
    assert s.low[1] > 0
    assert s.p_best[0] > 0.9
    assert math.isnan(s.p_best[3])
    assert sum(p for p in s.p_best if math.isfinite(p)) == pytest.approx(1.0)
    again = summarise(table, swc=0.05, relax_sign=1, settings=CFG)
    assert (again.low, again.high) == (s.low, s.high)


def test_heart_rate_best_is_the_largest_fall() -> None:
    table = np.array([[-4.0, -1.0], [-3.5, -0.5], [-4.5, -1.5], [-3.0, 0.0]])
    s = summarise(table, swc=1.0, relax_sign=-1, settings=CFG)
    assert s.p_best[0] > 0.99
    assert s.verdict[0] == "responds"


def test_expanded_interval_covers_like_a_t_interval() -> None:
    """Percentile intervals from 5 sessions undercover; the expanded ones should not."""
    rng = np.random.default_rng(3)
    cfg = CompareSettings(n_boot=1000)
    hits = 0
    trials = 300
    for _ in range(trials):
        x = rng.normal(0.0, 1.0, (5, 1))
        s = summarise(x, swc=0.0, relax_sign=1, settings=cfg)
        hits += s.low[0] <= 0.0 <= s.high[0]
    assert hits / trials >= 0.92


def test_t_quantiles_and_tail() -> None:
    for df in (1, 4, 12, 30, 45, 120):
        assert t975(df) == pytest.approx(sps.t.ppf(0.975, df), abs=2e-3)
    n = 8
    want = sps.norm.cdf(-math.sqrt(n / (n - 1)) * sps.t.ppf(0.975, n - 1))
    assert expanded_tail(n) == pytest.approx(want, rel=3e-3)  # t table to 3 decimals


def test_boot_means_ignore_gaps_and_interval_needs_two() -> None:
    t = np.array([[1.0, np.nan], [3.0, np.nan]])
    out = boot_means(t, np.array([[0, 1], [1, 1]]))
    assert out[:, 0].tolist() == [2.0, 3.0]
    assert np.isnan(out[:, 1]).all()
    assert all(math.isnan(v) for v in interval(out[:, 0], 1))


def test_pair_difference_is_paired_by_session() -> None:
    # Both triggers move with the session (a shared day effect); their difference is steady.
    day = np.array([0.0, 0.5, -0.4, 0.3, -0.2, 0.1])
    table = np.column_stack([day + 0.2, day])
    s = summarise(table, swc=0.05, relax_sign=1, settings=CFG)
    n, mean, low, high = pair_difference(table, s.boot, 0, 1)
    assert (n, mean) == (6, pytest.approx(0.2))
    assert low == pytest.approx(0.2)
    assert high == pytest.approx(0.2)
    assert s.low[0] < 0  # alone, each trigger's interval is wide


def test_baseline_swc() -> None:
    sd, swc = baseline_swc(np.array([3.5, np.nan, 3.7, 3.6]), 0.5)
    assert (sd, swc) == (pytest.approx(0.1), pytest.approx(0.05))
    assert all(math.isnan(v) for v in baseline_swc(np.array([3.5]), 0.5))


def test_spearman_matches_scipy_with_ties() -> None:
    x = [3, 1, 4, 1, 5, 9, 2, 6]
    y = [2.0, 7.0, 1.0, 8.0, 2.0, 8.0, 1.0, 8.0]
    assert spearman_rho(x, y) == pytest.approx(sps.spearmanr(x, y).statistic)
    assert average_ranks([2, 2, 1]).tolist() == [2.5, 2.5, 1.0]
    assert math.isnan(spearman_rho([1, 1, 1], [1, 2, 3]))


def test_order_effects() -> None:
    blocks = [("a", 1, 0.1), ("b", 2, 0.5), ("a", 2, 0.3), ("b", 1, 0.3)]
    rows = by_position(blocks, {"a": 0.2, "b": 0.4})
    assert [(r.position, r.n) for r in rows] == [(1, 2), (2, 2)]
    assert rows[0].residual == pytest.approx(-0.1)
    assert rows[1].residual == pytest.approx(0.1)
    assert order_warning({"a": [1, 1, 1], "b": [2, 2, 2]}) is not None
    assert order_warning({"a": [1, 2], "b": [2, 1]}) is None
    assert order_warning({"a": [1]}) is None
