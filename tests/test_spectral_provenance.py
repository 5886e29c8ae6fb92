"""Spectral provenance (issue 16, item 6): Lomb's detrend as exported, trapezoid band power, VLF
caveat."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from biofeedback.hrv.analysis import analyze_record
from biofeedback.hrv.frequency import (
    Spectrum,
    band_power_ms2,
    frequency_domain,
    trapezoid_weights,
    welch_columns,
)
from biofeedback.hrv.settings import HrvSettings
from tests.cli_support import run_cli

REST = Path(__file__).parent / "data" / "rhenanbartels_hrv" / "rest_rri.txt"


def _rr(duration_s: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(duration_s / 0.9)
    t = np.arange(n) * 0.9
    return (
        900
        + 30 * np.sin(2 * np.pi * 0.25 * t)
        + 20 * np.sin(2 * np.pi * 0.02 * t)
        + rng.normal(0, 5, n)
    )


@pytest.mark.parametrize("asked", ["smoothness_priors", "none", "mean"])
def test_lomb_exports_the_mean_removal_it_does(asked: str) -> None:
    settings = HrvSettings(method="lomb", detrend=asked)  # type: ignore[arg-type]
    assert settings.detrend == "mean"
    rr = _rr(300.0)
    doc = analyze_record(rr, settings=settings).to_dict()
    assert doc["settings"]["detrend"] == "mean"  # type: ignore[index]
    assert doc["frequency"]["detrend"] == "mean"  # type: ignore[index]
    # What it does: nothing but the mean, so no other detrend setting changes the spectrum.
    plain = frequency_domain(rr, settings=settings)
    for lam in (10.0, 500.0):
        other = frequency_domain(rr, settings=HrvSettings(method="lomb", detrend_lambda=lam))
        np.testing.assert_array_equal(other.spectrum.psd_ms2_hz, plain.spectrum.psd_ms2_hz)


def test_welch_mean_is_its_none() -> None:
    assert HrvSettings(detrend="mean").detrend == "none"


def test_cli_lomb_with_smoothness_priors_exports_mean() -> None:
    out = run_cli(
        "analyze", str(REST), "--json", "--method", "lomb", "--detrend", "smoothness-priors:500"
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["settings"]["detrend"] == "mean"
    assert doc["settings"]["time_detrend"] == "smoothness_priors"  # time domain: as asked
    assert doc["frequency"]["caveats"] == []


@pytest.mark.parametrize(
    ("f_hz", "band", "segment_s"), [(0.25, "hf", 120.0), (0.10, "lf", 120.0), (0.02, "vlf", 300.0)]
)
def test_a_pure_sinusoid_lands_in_its_band_with_its_power(
    f_hz: float, band: str, segment_s: float
) -> None:
    # A 0.02-Hz sine has 2.4 cycles in a 120-s segment (1.5 % lost to its mean removal): 300 s.
    settings = HrvSettings(detrend="none", welch_segment_s=segment_s)
    a = 40.0
    t = np.arange(0, 600.0, 1 / settings.resample_hz)
    spectrum = welch_columns(1000 + a * np.sin(2 * np.pi * f_hz * t), settings)
    powers = {
        name: band_power_ms2(spectrum, getattr(settings, f"{name}_band_hz"))
        for name in ("vlf", "lf", "hf")
    }
    assert powers[band] == pytest.approx(a**2 / 2, rel=0.01)
    assert sum(v for k, v in powers.items() if k != band) < 1e-3 * powers[band]


def test_trapezoid_is_exact_on_a_piecewise_linear_psd_and_bands_partition() -> None:
    freq = np.arange(0, 2.0001, 1 / 120)
    spectrum = Spectrum(freq, 3.0 + 5.0 * freq)  # ∫ = 3(b−a) + 2.5(b²−a²)
    for lo, hi in [(0.0033, 0.04), (0.04, 0.15), (0.15, 0.40)]:
        exact = 3 * (hi - lo) + 2.5 * (hi**2 - lo**2)
        assert band_power_ms2(spectrum, (lo, hi)) == pytest.approx(exact, rel=1e-12)
    parts = sum(trapezoid_weights(freq, b) for b in [(0.0033, 0.04), (0.04, 0.15), (0.15, 0.4)])
    np.testing.assert_allclose(parts, trapezoid_weights(freq, (0.0033, 0.4)), atol=1e-15)


def test_the_vlf_caveat_follows_window_and_detrending() -> None:
    rr = _rr(300.0)
    default = frequency_domain(rr)  # 120-s segments, smoothness priors λ = 500
    assert default.vlf_retained_share == pytest.approx(0.17, abs=0.01)
    assert len(default.caveats) == 1
    assert "83 %" in default.caveats[0]
    assert "λ = 500" in default.caveats[0]
    short = frequency_domain(rr, settings=HrvSettings(detrend="none", welch_segment_s=30.0))
    assert short.caveats
    assert "30-s segments" in short.caveats[0]
    five_min = frequency_domain(rr, settings=HrvSettings(detrend="none", welch_segment_s=300.0))
    assert five_min.caveats == []
    doc = analyze_record(rr, settings=HrvSettings(detrend="none", welch_segment_s=300.0)).to_dict()
    assert doc["frequency"]["caveats"] == []  # type: ignore[index]
    assert analyze_record(rr).to_dict()["frequency"]["caveats"]  # type: ignore[index]
