"""Frequency domain, detrending and respiration: independent recomputation and theory."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy import interpolate, signal, sparse
from scipy.sparse.linalg import spsolve

from biofeedback.hrv.detrend import smoothness_priors_detrend
from biofeedback.hrv.frequency import (
    Spectrum,
    cubic_spline_at,
    frequency_domain,
    lomb_psd_ms2_hz,
)
from biofeedback.hrv.respiration import (
    HF_UNDERESTIMATES_VAGAL,
    respiration_from_spectrum,
)
from biofeedback.hrv.settings import HrvSettings


def beats_from(rr_of_t: Callable[[float], float], duration_s: float) -> np.ndarray:
    """RR series (ms) of a heart whose interval ending at time t is rr_of_t(t)."""
    out: list[float] = []
    t = 0.0
    while t < duration_s:
        rr = rr_of_t(t)
        t += rr / 1000.0
        out.append(rr)
    return np.array(out)


def reference_welch(rr: np.ndarray) -> dict[str, float]:
    """The documented steps, written independently with scipy's public API."""
    t = np.cumsum(rr) / 1000.0
    grid = t[0] + np.arange(int(np.floor((t[-1] - t[0]) * 4.0)) + 1) / 4.0
    x = interpolate.CubicSpline(t, rr)(grid)
    n = x.size
    d2 = sparse.diags([1.0, -2.0, 1.0], [0, 1, 2], shape=(n - 2, n))
    x = x - spsolve((sparse.identity(n) + 500.0**2 * (d2.T @ d2)).tocsc(), x)
    nperseg = min(480, n)
    f, p = signal.welch(
        x,
        fs=4.0,
        window="hann",
        nperseg=nperseg,
        noverlap=nperseg // 2,
        nfft=480,
        detrend="constant",
        scaling="density",
    )

    def band(lo: float, hi: float) -> float:
        # The trapezoid rule from lo to hi, the PSD linearly interpolated at the edges.
        x = np.concatenate([[lo], f[(f > lo) & (f < hi)], [hi]])
        return float(np.trapezoid(np.interp(x, f, p), x))

    return {"vlf": band(0.0033, 0.04), "lf": band(0.04, 0.15), "hf": band(0.15, 0.40)}


@pytest.mark.parametrize("name", ["SampleNNISeriesShort.npy", "SampleNNISeriesLong.npy"])
def test_welch_reproduces_independent_computation(reference_dir: Path, name: str) -> None:
    rr = np.load(reference_dir / "pyhrv" / name).astype(np.float64)
    ours = frequency_domain(rr)
    ref = reference_welch(rr)
    assert ours.vlf_ms2 == pytest.approx(ref["vlf"], rel=1e-6)
    assert ours.lf_ms2 == pytest.approx(ref["lf"], rel=1e-6)
    assert ours.hf_ms2 == pytest.approx(ref["hf"], rel=1e-6)
    assert ours.lf_hf == pytest.approx(ref["lf"] / ref["hf"], rel=1e-6)
    assert ours.lf_nu + ours.hf_nu == pytest.approx(100.0)
    assert ours.settings == HrvSettings()


def test_spline_equals_scipy_cubic_spline() -> None:
    rng = np.random.default_rng(3)
    t = np.cumsum(rng.uniform(0.5, 1.2, 150))
    v = 900 + 40 * rng.standard_normal(150)
    at = np.linspace(t[0], t[-1], 1000)
    expected = interpolate.CubicSpline(t, v)(at)
    np.testing.assert_allclose(cubic_spline_at(t, v, at), expected, rtol=1e-12)


def test_lomb_matches_scipy_lombscargle() -> None:
    rng = np.random.default_rng(7)
    rr = beats_from(lambda t: 900 + 40 * np.sin(2 * np.pi * 0.25 * t), 110.0)
    rr = rr + rng.normal(0, 5, rr.size)
    t = np.cumsum(rr) / 1000.0
    settings = HrvSettings(method="lomb")
    result = frequency_domain(rr, settings=settings)
    freq = result.spectrum.freq_hz
    raw = signal.lombscargle(t, rr - rr.mean(), 2 * np.pi * freq)
    expected = 2.0 * raw * (t[-1] - t[0]) / t.size
    np.testing.assert_allclose(result.spectrum.psd_ms2_hz, expected, rtol=1e-10)
    np.testing.assert_allclose(lomb_psd_ms2_hz(t, rr, freq), expected, rtol=1e-10)


@pytest.mark.parametrize("method", ["welch", "lomb"])
def test_sines_put_peaks_and_power_where_theory_says(method: str) -> None:
    a_hf, a_lf, f_hf, f_lf = 40.0, 30.0, 0.25, 0.10
    rr = beats_from(
        lambda t: 1000 + a_hf * np.sin(2 * np.pi * f_hf * t) + a_lf * np.sin(2 * np.pi * f_lf * t),
        600.0,
    )
    result = frequency_domain(rr, settings=HrvSettings(method=method))  # type: ignore[arg-type]
    df = result.spectrum.df_hz
    assert result.hf_peak_hz == pytest.approx(f_hf, abs=df)
    assert result.lf_peak_hz == pytest.approx(f_lf, abs=df)
    # A sine of amplitude A carries A²/2; the 4-Hz spline of a 1-Hz beat series loses a little.
    assert result.hf_ms2 == pytest.approx(a_hf**2 / 2, rel=0.05)
    assert result.lf_ms2 == pytest.approx(a_lf**2 / 2, rel=0.05)
    assert result.vlf_ms2 < 0.01 * result.hf_ms2


def test_segments_are_analysed_separately() -> None:
    rr = beats_from(lambda t: 1000 + 40 * np.sin(2 * np.pi * 0.25 * t), 300.0)
    jumped = np.concatenate([rr, rr + 300.0])
    seg = np.repeat([0, 1], rr.size)
    t = np.concatenate([np.cumsum(rr), np.cumsum(rr) + 1000.0 * 400]) / 1000.0
    split = frequency_domain(jumped, t_s=t, segment=seg)
    single = frequency_domain(rr)
    # The 300-ms step between chains would flood VLF/LF if the chains were joined.
    assert split.lf_ms2 == pytest.approx(single.lf_ms2, rel=0.2)
    assert split.hf_ms2 == pytest.approx(single.hf_ms2, rel=0.05)


def test_detrend_matches_sparse_solution_and_removes_slow_trend() -> None:
    n = 600
    rng = np.random.default_rng(1)
    t = np.arange(n) / 4.0
    z = 5.0 * np.sin(2 * np.pi * 0.3 * t) + 0.2 * t + rng.normal(0, 0.1, n)
    d2 = sparse.diags([1.0, -2.0, 1.0], [0, 1, 2], shape=(n - 2, n))
    expected = z - spsolve((sparse.identity(n) + 500.0**2 * (d2.T @ d2)).tocsc(), z)
    np.testing.assert_allclose(smoothness_priors_detrend(z), expected, atol=1e-8)
    detrended = smoothness_priors_detrend(z)
    assert abs(np.polyfit(t, detrended, 1)[0]) < 0.01  # the 0.2/s ramp is gone
    assert np.std(detrended) == pytest.approx(5.0 / np.sqrt(2), rel=0.05)  # 0.3 Hz kept


def test_slower_breathing_lowers_the_rsa_peak() -> None:
    rates = []
    for f_breath in (0.30, 0.20, 0.12):
        rr = beats_from(lambda t, f=f_breath: 950 + 35 * np.sin(2 * np.pi * f * t), 300.0)
        result = frequency_domain(rr)
        resp = respiration_from_spectrum(result.spectrum, result.settings)
        assert resp.valid
        assert resp.rate_per_min == pytest.approx(60 * f_breath, abs=0.5)
        rates.append(resp.rate_per_min)
    assert rates[0] > rates[1] > rates[2]


def test_slow_breathing_flags_hf_and_reports_vagal_power() -> None:
    rr = beats_from(lambda t: 950 + 40 * np.sin(2 * np.pi * 0.1 * t), 300.0)  # 6 breaths/min
    result = frequency_domain(rr)
    resp = respiration_from_spectrum(result.spectrum, result.settings)
    assert resp.slow_breathing
    assert HF_UNDERESTIMATES_VAGAL in resp.flags
    assert resp.vagal_power_ms2 == pytest.approx(40**2 / 2, rel=0.1)
    assert result.hf_ms2 < 0.05 * resp.vagal_power_ms2


def test_flat_spectrum_has_no_valid_respiration() -> None:
    freq = np.arange(0, 2.0, 1 / 120)
    resp = respiration_from_spectrum(Spectrum(freq, np.ones_like(freq)), HrvSettings())
    assert not resp.valid
    assert resp.flags == ("no clear respiratory peak",)


def test_settings_validate_and_serialise() -> None:
    with pytest.raises(ValueError, match="window_s"):
        HrvSettings(window_s=20.0)
    with pytest.raises(ValueError, match="spectral_window_s"):
        HrvSettings(spectral_window_s=60.0)
    with pytest.raises(ValueError, match="method"):
        HrvSettings(method="ar")  # type: ignore[arg-type]
    data = json.loads(json.dumps(HrvSettings().to_dict()))
    assert data["hf_band_hz"] == [0.15, 0.40]
    assert data["detrend_lambda"] == 500.0
