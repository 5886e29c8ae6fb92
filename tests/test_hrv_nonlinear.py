"""Sample/approximate entropy and DFA: exact against O(n²), golden against NeuroKit2 0.2.13."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from biofeedback.hrv import entropy
from biofeedback.hrv.dfa import dfa_alpha, dfa_alpha1, dfa_alpha2, dfa_fluctuations_ms
from biofeedback.hrv.entropy import (
    approximate_entropy,
    sample_and_approximate_entropy,
    sample_entropy,
    template_match_counts,
    tolerance_ms,
)
from biofeedback.hrv.nonlinear import NonlinearResult, NonlinearSettings, nonlinear_metrics


def brute_counts(x, length, r, distance=None):
    """Textbook O(n²): for each template, templates within Chebyshev distance <= r (self incl.).

    max_k |x[i+k] - x[j+k]| <= r  <=>  every |x[i+k] - x[j+k]| <= r, so AND the shifted
    n × n matrices of single-value matches. ``distance``: the n × n |x[i] - x[j]|, if the
    caller already has it."""
    x = np.asarray(x, dtype=np.float64)
    if distance is None:
        distance = np.abs(x[:, None] - x[None, :])
    close = distance <= r
    n_templates = x.size - length + 1
    match = close[:n_templates, :n_templates].copy()
    for k in range(1, length):
        match &= close[k : k + n_templates, k : k + n_templates]
    return match.sum(axis=1)


def brute_entropies(x, m, r):
    """Richman & Moorman SampEn and Pincus ApEn written out from the O(n²) counts."""
    n = len(x)
    emb_m = np.lib.stride_tricks.sliding_window_view(np.asarray(x, dtype=np.float64), m)[: n - m]
    emb_m1 = np.lib.stride_tricks.sliding_window_view(np.asarray(x, dtype=np.float64), m + 1)
    b = int((np.abs(emb_m[:, None] - emb_m[None]).max(axis=2) <= r).sum()) - (n - m)
    a = int((np.abs(emb_m1[:, None] - emb_m1[None]).max(axis=2) <= r).sum()) - (n - m)
    phi_m = np.mean(np.log(brute_counts(x, m, r) / (n - m + 1)))
    phi_m1 = np.mean(np.log(brute_counts(x, m + 1, r) / (n - m)))
    return a, b, -math.log(a / b), phi_m - phi_m1


def random_series(kind, n, rng):
    if kind == "float":
        return 800 + 60 * rng.standard_normal(n)
    if kind == "int_ties":  # integer ms with a narrow range: ties everywhere
        return rng.integers(780, 800, n).astype(np.float64)
    if kind == "int_walk":  # integer ms, realistic drift plus RSA-like noise
        return np.round(850 + np.cumsum(rng.normal(0, 4, n)) + rng.normal(0, 25, n))
    if kind == "tenths":  # decimal steps: fl(a - b) lands on either side of r = 0.2
        return np.round(rng.normal(80, 0.5, n), 1)
    return np.round(rng.normal(800, 40, n) / 7.8125) * 7.8125  # 128 Hz clock, as LTDB


KINDS = ["float", "int_ties", "int_walk", "tenths", "clock128"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [200, 2000])
def test_match_counts_equal_brute_force(kind, n):
    rng = np.random.default_rng(KINDS.index(kind) * 10_000 + n)
    x = random_series(kind, n, rng)
    # r = 0.2 SD, plus radii that equal many differences exactly (boundary ties)
    radii = [tolerance_ms(x), 0.0, 0.2, 2.0, 15.625]
    distance = np.abs(x[:, None] - x[None, :])
    for r in radii:
        for length in (1, 2, 3):
            expected = brute_counts(x, length, r, distance)
            assert np.array_equal(template_match_counts(x, length, r), expected)


@pytest.mark.parametrize("kind", ["int_ties", "tenths", "float"])
def test_chunked_fallback_equals_brute_force(kind, monkeypatch):
    monkeypatch.setattr(entropy, "DENSE_CELL_BUDGET", 0)
    monkeypatch.setattr(entropy, "FENWICK_CELL_BUDGET", 0)
    x = random_series(kind, 700, np.random.default_rng(7))
    for r in (tolerance_ms(x), 0.2, 2.0):
        for length in (2, 3):
            assert np.array_equal(template_match_counts(x, length, r), brute_counts(x, length, r))


@pytest.mark.parametrize("kind", KINDS)
def test_entropies_equal_textbook_definitions(kind):
    x = random_series(kind, 600, np.random.default_rng(3))
    for m in (1, 2, 3):
        r = tolerance_ms(x)
        a, b, sampen, apen = brute_entropies(x, m, r)
        assert 0 < a <= b
        got_sampen, got_apen = sample_and_approximate_entropy(x, m, r)
        assert got_sampen == pytest.approx(sampen, rel=1e-13)
        assert got_apen == pytest.approx(apen, rel=1e-12)


def test_matches_are_inclusive_at_the_boundary():
    # |810 - 800| == r counts as a match (<=, as Richman & Moorman and NeuroKit2)
    assert template_match_counts([800.0, 810.0], 1, 10.0).tolist() == [2, 2]
    assert template_match_counts([800.0, 810.0], 1, np.nextafter(10.0, 0)).tolist() == [1, 1]


def test_sampen_special_cases():
    assert sample_entropy([800.0] * 50) == 0.0
    assert math.isnan(sample_entropy([800, 900, 1000, 1100, 1200], r_ms=1.0))  # B == 0
    assert math.isinf(sample_entropy([800, 810, 800, 900, 1000], r_ms=15.0))  # A == 0, B > 0


def test_tolerance_ddof():
    x = [800.0, 1000.0]
    assert tolerance_ms(x) == 0.2 * np.std(x, ddof=1)
    assert tolerance_ms(x, ddof=0) == 0.2 * np.std(x, ddof=0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sample_entropy([800, 810, 820], m=2), "rr_ms needs at least"),
        (lambda: sample_entropy([800, 810, 820, 830], m=0), "m must be"),
        (lambda: sample_entropy([[800, 810]]), "rr_ms must be one-dimensional"),
        (lambda: approximate_entropy([800, math.nan, 820, 830]), "rr_ms must be finite"),
        (lambda: template_match_counts([1.0, 2.0], 2, -1.0), "r must be"),
        (lambda: template_match_counts([1.0, 2.0], 0, 1.0), "length must be"),
        (lambda: dfa_alpha(np.ones(16), (4, 16)), "rr_ms needs more than 16 beats"),
        (lambda: dfa_alpha(np.ones(100), (4, 4)), "scales_beats"),
        (lambda: NonlinearSettings(m=0), "m must be"),
        (lambda: NonlinearSettings(r_factor=0.0), "r_factor"),
        (lambda: NonlinearSettings(r_ddof=2), "r_ddof"),
        (lambda: NonlinearSettings(alpha2_scales_beats=(64, 16)), "alpha2_scales_beats"),
    ],
)
def test_invalid_input_names_the_parameter(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- NeuroKit2 0.2.13 golden values ---------------------------------------------------------
# x = RR as float64 (np.load(...).astype(np.float64) / np.loadtxt(..., dtype=np.float64)).
# SampEn: nk.entropy_sample(x, delay=1, dimension=m, tolerance="sd")[0]
# ApEn:   nk.entropy_approximate(x, delay=1, dimension=2, tolerance="sd")[0]
#   tolerance="sd" is 0.2 * np.std(x, ddof=1), our default (r_factor=0.2, r_ddof=1).
# DFA:    nk.fractal_dfa(x, scale=np.arange(lo, hi + 1), overlap=ov)[0]
GOLDEN = {
    "pyhrv/SampleNNISeriesShort.npy": {
        "sampen": 1.7122387639675833,
        "apen": 1.2091316047819358,
        "sampen_m3": 1.5581446180465497,
        # α1 omitted here: see test_dfa_flat_window_difference
        "alpha2": 0.9187344358127056,
        "alpha2_overlap": 0.9619869498751976,
    },
    "rhenanbartels_hrv/rest_rri.txt": {
        "sampen": 1.7738200322056985,
        "apen": 1.499443504687715,
        "sampen_m3": 1.6079041698021517,
        "alpha1": 0.880579078065984,
        "alpha1_overlap": 0.8628366746120724,
        "alpha2": 0.949905795265445,
        "alpha2_overlap": 0.9530871782663827,
    },
    "pyhrv/SampleNNISeriesLong.npy": {
        "sampen": 1.2495265377824505,
        "apen": 1.4256929646810246,
        "sampen_m3": 1.1826086916732759,
        "alpha2": 0.8656019899990203,
        "alpha2_overlap": 0.8717790855508796,
    },
}


def load_rr(reference_dir: Path, name: str) -> np.ndarray:
    path = reference_dir / name
    if path.suffix == ".npy":
        return np.load(path).astype(np.float64)
    return np.loadtxt(path, dtype=np.float64)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_entropies_match_neurokit2(reference_dir, name):
    x = load_rr(reference_dir, name)
    gold = GOLDEN[name]
    assert sample_entropy(x) == pytest.approx(gold["sampen"], abs=1e-9)
    assert approximate_entropy(x) == pytest.approx(gold["apen"], abs=1e-9)
    assert sample_entropy(x, m=3) == pytest.approx(gold["sampen_m3"], abs=1e-9)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_dfa_matches_neurokit2(reference_dir, name):
    x = load_rr(reference_dir, name)
    gold = GOLDEN[name]
    for key, scales in (("alpha1", (4, 16)), ("alpha2", (16, 64))):
        for suffix, overlap in (("", False), ("_overlap", True)):
            if key + suffix in gold:
                got = dfa_alpha(x, scales, overlap=overlap)
                assert got == pytest.approx(gold[key + suffix], abs=1e-6)


def test_dfa_flat_window_difference(reference_dir):
    """Where we differ from NeuroKit2 on purpose.

    The 5-minute pyHRV file has one 4-beat window of four equal RR (a straight profile, zero
    residual). NeuroKit2 drops windows with residual variance <= 1e-8 before averaging; Peng's
    F(n) averages over all windows, which we do. So F(4) differs, F(5..16) agree.
    """
    x = load_rr(reference_dir, "pyhrv/SampleNNISeriesShort.npy")
    # nk.fractal_dfa(x, scale=np.arange(4, 17), overlap=False)[1]["Fluctuations"][:, 0]
    nk_fluct = [
        35.80504440465445, 47.823175547039796, 53.0634001276452, 60.32216336353615,
        69.57682156177772, 68.07976133847637, 62.710244211845286, 82.82785693411076,
        86.69441348017372, 78.68047766448429, 92.08727921771045, 89.61629038386103,
        103.2022756901855,
    ]  # fmt: skip
    ours = dfa_fluctuations_ms(x, (4, 16))
    np.testing.assert_allclose(ours[1:], nk_fluct[1:], rtol=1e-10)
    n_windows = x.size // 4
    assert ours[0] ** 2 == pytest.approx(nk_fluct[0] ** 2 * (n_windows - 1) / n_windows)
    # NeuroKit2 gives α1 = 0.6630346909992982 here; ours is slightly higher.
    assert dfa_alpha1(x) == pytest.approx(0.6652155441501327, abs=1e-9)


def test_tolerance_ddof_is_immaterial_on_integer_rr(reference_dir):
    """NeuroKit2 takes r from the sample SD (ddof=1, our default); other tools use the
    population SD (ddof=0). On integer-ms RR both r fall between the same integers, so every count,
    and NeuroKit2's value with tolerance=0.2 * np.std(x) (ddof=0), is the same."""
    x = load_rr(reference_dir, "pyhrv/SampleNNISeriesShort.npy")
    r0, r1 = tolerance_ms(x, ddof=0), tolerance_ms(x, ddof=1)
    assert r0 < r1
    assert math.floor(r0) == math.floor(r1)
    # nk.entropy_sample(x, delay=1, dimension=2, tolerance=0.2 * np.std(x))[0]
    assert sample_entropy(x, r_ms=r0) == pytest.approx(1.7122387639675833, abs=1e-9)


def test_entropies_match_installed_neurokit2_on_random_series():
    nk = pytest.importorskip("neurokit2")
    rng = np.random.default_rng(11)
    for kind in ("float", "int_ties", "tenths"):
        x = random_series(kind, 300, rng)
        want_s = nk.entropy_sample(x, delay=1, dimension=2, tolerance="sd")[0]
        want_a = nk.entropy_approximate(x, delay=1, dimension=2, tolerance="sd")[0]
        assert sample_entropy(x) == pytest.approx(want_s, abs=1e-9)
        assert approximate_entropy(x) == pytest.approx(want_a, abs=1e-9)


# --- DFA on synthetic noise ----------------------------------------------------------------


def exact_linear_dfa_alpha(integrations: int) -> float:
    """Expected α of linear DFA over 4..16 beats for white noise (1) or a random walk (2):
    E[F²(n)] = tr(R Rᵀ)/n with R = (I - P) Lᵏ, P the projection on [1, t], L the summation."""
    scales = np.arange(4, 17)
    fluct = []
    for n in scales:
        lower = np.linalg.matrix_power(np.tril(np.ones((n, n))), integrations)
        design = np.column_stack([np.ones(n), np.arange(n)])
        resid = (np.eye(n) - design @ np.linalg.pinv(design)) @ lower
        fluct.append(math.sqrt(np.trace(resid @ resid.T) / n))
    return float(np.polyfit(np.log(scales), np.log(fluct), 1)[0])


def pink_noise(n, rng):
    freq = np.fft.rfftfreq(n)
    spectrum = rng.standard_normal(freq.size) + 1j * rng.standard_normal(freq.size)
    spectrum[0] = 0
    spectrum[1:] /= np.sqrt(freq[1:])
    x = np.fft.irfft(spectrum, n)
    return x / x.std()


def test_dfa_white_noise_random_walk_and_pink_noise():
    rng = np.random.default_rng(2024)
    white = rng.standard_normal(20_000)
    # finite-scale bias: white noise over 4–16 beats is 0.58 in expectation, not 0.5
    assert exact_linear_dfa_alpha(1) == pytest.approx(0.583, abs=0.001)
    assert dfa_alpha1(800 + 50 * white) == pytest.approx(exact_linear_dfa_alpha(1), abs=0.03)
    assert dfa_alpha1(800 + 50 * white) == pytest.approx(0.5, abs=0.1)
    assert dfa_alpha2(800 + 50 * white) == pytest.approx(0.5, abs=0.05)
    walk = 800 + np.cumsum(white)
    assert dfa_alpha1(walk) == pytest.approx(1.5, abs=0.05)
    assert dfa_alpha2(walk) == pytest.approx(1.5, abs=0.1)
    pink = 800 + 50 * pink_noise(20_000, rng)
    assert dfa_alpha1(pink) == pytest.approx(1.0, abs=0.1)
    assert dfa_alpha2(pink) == pytest.approx(1.0, abs=0.1)


def test_dfa_is_invariant_to_offset_and_scale():
    x = 800 + 50 * np.random.default_rng(5).standard_normal(500)
    assert dfa_alpha1(3 * x + 100) == pytest.approx(dfa_alpha1(x), abs=1e-12)


def test_dfa_constant_series_is_nan():
    assert math.isnan(dfa_alpha1(np.full(120, 800.0)))


def test_dfa_alpha1_on_a_live_two_minute_window():
    rr = 1000 + 60 * np.random.default_rng(9).standard_normal(120)
    assert 0.2 < dfa_alpha1(rr) < 1.0
    assert math.isfinite(dfa_alpha1(rr[:17]))  # 17 beats suffice for scales 4–16
    with pytest.raises(ValueError, match="rr_ms needs more than 16 beats"):
        dfa_alpha1(rr[:16])


# --- nonlinear_metrics -----------------------------------------------------------------------


def test_nonlinear_metrics_combines_the_functions():
    x = random_series("int_walk", 1500, np.random.default_rng(1))
    res = nonlinear_metrics(x)
    assert res == NonlinearResult(
        n_beats=1500,
        m=2,
        r_ms=tolerance_ms(x),
        sampen=sample_entropy(x),
        apen=approximate_entropy(x),
        dfa_alpha1=dfa_alpha(x, (4, 16)),
        dfa_alpha2=dfa_alpha(x, (16, 64)),
    )
    settings = NonlinearSettings(m=3, r_factor=0.15, r_ddof=0, dfa_overlap=True)
    other = nonlinear_metrics(x, settings)
    assert other.r_ms == 0.15 * np.std(x)
    assert other.sampen == sample_entropy(x, m=3, r_ms=other.r_ms)
    assert other.dfa_alpha1 == dfa_alpha(x, (4, 16), overlap=True)


def test_nonlinear_metrics_short_series_gives_nan_not_error():
    res = nonlinear_metrics([800.0, 810.0, 790.0])
    assert math.isnan(res.sampen)
    assert math.isnan(res.dfa_alpha1)
    res = nonlinear_metrics(800 + 30 * np.random.default_rng(0).standard_normal(40))
    assert math.isfinite(res.sampen)
    assert math.isfinite(res.dfa_alpha1)
    assert math.isnan(res.dfa_alpha2)
    assert res.to_dict() == {
        "n_beats": 40,
        "entropy_m": 2,
        "entropy_r_ms": res.r_ms,
        "sampen": res.sampen,
        "apen": res.apen,
        "dfa_alpha1": res.dfa_alpha1,
        "dfa_alpha2": None,
    }


def test_nonlinear_metrics_on_a_whole_day(reference_dir):
    rr = np.loadtxt(reference_dir / "physionet" / "rr_healthy_000_ms.txt", dtype=np.float64)
    res = nonlinear_metrics(rr)
    assert res.n_beats == 80_441
    # NeuroKit2 0.2.13 on this file (8 s and 5 s there, about 0.5 s for all four here):
    # nk.entropy_sample(x, delay=1, dimension=2, tolerance="sd")[0]
    assert res.sampen == pytest.approx(0.7493966712258363, abs=1e-9)
    # nk.entropy_approximate(x, delay=1, dimension=2, tolerance="sd")[0]
    assert res.apen == pytest.approx(0.8703329827662234, abs=1e-9)
    # nk.fractal_dfa(x, scale=np.arange(16, 65), overlap=False)[0]
    assert res.dfa_alpha2 == pytest.approx(1.0889757758836944, abs=1e-6)
    assert 1.0 < res.dfa_alpha1 < 1.2  # NeuroKit2 1.1122: it drops flat windows, see above


@pytest.mark.parametrize("budget", [None, 0])
def test_small_batches_give_the_same_counts(monkeypatch, budget):
    """Index arrays are built in row batches to bound memory; batch edges must not matter."""
    monkeypatch.setattr(entropy, "_CHUNK_CELLS", 300)
    monkeypatch.setattr(entropy, "DENSE_CELL_BUDGET", 0)
    if budget is not None:
        monkeypatch.setattr(entropy, "FENWICK_CELL_BUDGET", budget)
    x = random_series("int_ties", 700, np.random.default_rng(8))
    for length in (2, 3):
        assert np.array_equal(template_match_counts(x, length, 2.0), brute_counts(x, length, 2.0))
