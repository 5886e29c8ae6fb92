"""Per-session contrasts, t intervals, Benjamini-Hochberg, references and the design checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from biofeedback.analysis.blocks import session_responses
from biofeedback.analysis.compare import compare
from biofeedback.analysis.effects import bh_adjust, fit_effect, sessions_needed
from tests.simstudy_support import as_responses, block_studies, study_profile


def test_mean_contrast_is_a_one_sample_t_test() -> None:
    d = np.array([0.31, 0.12, 0.25, 0.40, 0.05])
    e = fit_effect(d, np.array([1.0, -1.0, 0.5, -0.5, 0.0]), adjust_min_n=10)
    ref = stats.ttest_1samp(d, 0.0)
    low, high = ref.confidence_interval(0.95)
    assert e.estimate == pytest.approx(d.mean())
    assert (e.df, e.position_adjusted) == (4, False)
    assert (e.low, e.high) == (pytest.approx(low), pytest.approx(high))
    assert e.p_value == pytest.approx(ref.pvalue)


def test_position_regression_from_enough_sessions() -> None:
    rng = np.random.default_rng(0)
    dpos = rng.choice([-2.0, -0.67, 0.67, 2.0], 12)
    d = 0.2 + 0.1 * dpos + 0.01 * rng.standard_normal(12)
    e = fit_effect(d, dpos, adjust_min_n=10)
    assert e.position_adjusted
    assert e.df == 10
    assert e.estimate == pytest.approx(0.2, abs=0.02)


def test_benjamini_hochberg_is_statsmodels() -> None:
    p = [0.001, 0.04, 0.03, 0.2]
    m = len(p)
    order = np.argsort(p)
    manual = np.minimum.accumulate((np.array(p)[order] * m / np.arange(1, m + 1))[::-1])[::-1]
    expected = np.empty(m)
    expected[order] = manual
    assert bh_adjust(p) == pytest.approx(expected.tolist())


def test_power_estimate_grows_with_the_spread() -> None:
    n1, n2 = sessions_needed(0.15, 0.35, 4), sessions_needed(0.30, 0.35, 4)
    assert n1 is not None
    assert n2 is not None
    assert n1 < n2
    assert sessions_needed(0.0, 0.35, 4) is None


def _study(n: int, effects: tuple[float, ...], seed: int = 2) -> tuple[np.ndarray, ...]:
    b = block_studies(study_profile("quiet", effects), 1, n, seed)
    return b.values[0], b.positions[0], b.baseline[0]


def test_fixed_order_gives_not_enough_data_and_says_why() -> None:
    values, _, base = _study(6, (0.5, 0.0, 0.0, 0.0))
    fixed = np.broadcast_to(np.arange(1.0, 5.0), values.shape)
    c = compare(as_responses(values, fixed, base, "abcd"), "lnrmssd")
    assert {r.verdict for r in c.rows} == {"not enough data"}
    assert c.n_comparisons == 0
    assert any("order never varied" in w for w in c.warnings)


def test_a_control_condition_becomes_the_reference() -> None:
    values, pos, base = _study(5, (0.5, 0.0, 0.0, 0.0))
    c = compare(as_responses(values, pos, base, ["a", "b", "c", "control"]), "lnrmssd")
    assert (c.reference, c.control) == ("control", "control")
    assert "control condition 'control'" in c.reference_text
    assert c.n_comparisons == 3
    assert c.rows[-1].is_control
    assert c.rows[-1].verdict == "control"
    assert not any("no control condition" in w for w in c.warnings)
    d = values[:, 0] - values[:, 3]
    a = next(r for r in c.rows if r.label == "a")
    assert a.mean == pytest.approx(d.mean())
    assert a.vs_baseline.estimate == pytest.approx(np.mean(values[:, 0] - base))


def test_imported_segments_of_kind_control_are_the_control() -> None:
    rng = np.random.default_rng(1)
    rr = 850.0 + 40.0 * rng.standard_normal(1400)
    t = np.cumsum(rr) / 1000.0
    segments = [
        {"label": "baseline", "kind": "baseline", "start_s": 0.0, "end_s": 180.0},
        {"label": "rain", "kind": "trigger", "start_s": 180.0, "end_s": 360.0},
        {"label": "washout", "kind": "washout", "start_s": 360.0, "end_s": 420.0},
        {"label": "documentary", "kind": "control", "start_s": 420.0, "end_s": 600.0},
    ]
    sessions = [
        session_responses(t, rr, np.zeros(rr.size, np.int64), segments, metrics=("lnrmssd",))
        for _ in range(3)
    ]
    c = compare(sessions, "lnrmssd")
    assert (c.control, c.reference) == ("documentary", "control")
    rain = next(r for r in c.rows if r.label == "rain")
    assert rain.n == 3
    assert math.isfinite(rain.mean)


def test_a_null_trigger_beside_a_relaxing_one_reads_less_relaxing_not_arousing() -> None:
    """Against the mean of the other triggers, a trigger with no effect of its own is lower by
    a third of a responder's effect (on the independent model, nulls beside a +0.35 trigger were
    called "responds" in 8.5-32 % of studies, all downwards): the verdict says "less relaxing"
    (than the others), and a warning says why, never "arousing"."""
    values, pos, base = _study(12, (1.2, 0.0, 0.0, 0.0), seed=5)
    c = compare(as_responses(values, pos, base, "abcd"), "lnrmssd")
    by = {r.label: r for r in c.rows}
    assert (by["a"].verdict, by["a"].direction) == ("responds", "more relaxing")
    down = [r.label for r in c.rows if r.verdict == "responds" and r.direction == "less relaxing"]
    assert down  # a strong responder pushes the nulls' contrasts below the SWC
    assert {r.direction for r in c.rows} <= {"more relaxing", "less relaxing", "none"}
    (warning,) = [w for w in c.warnings if "less relaxing than the others only" in w]
    assert warning.startswith(", ".join(down))
    assert "a, which relaxes you" in warning
