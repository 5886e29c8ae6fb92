"""Parasympathetic estimates: uncertainty, minimum-data rules and relations on simulated data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from biofeedback.hrv.analysis import analyze_record
from biofeedback.hrv.estimates import (
    NORM_MEAN_RR_MS,
    NORM_RMSSD_MS,
    NORM_SD1_MS,
    Baseline,
    Value,
    ln_rmssd_uncertainty,
    ln_rmssd_value,
    pns_index,
    relaxation_score,
    window_reason,
)
from biofeedback.hrv.settings import HrvSettings

SETTINGS = HrvSettings()


def simulated_rr(rsa_ms: float, seed: int = 0, duration_s: float = 300.0) -> np.ndarray:
    """Sinus rhythm with RSA of amplitude ``rsa_ms`` at 0.25 Hz plus small beat noise."""
    rng = np.random.default_rng(seed)
    out: list[float] = []
    t = 0.0
    while t < duration_s:
        rr = 900 + rsa_ms * math.sin(2 * math.pi * 0.25 * t) + rng.normal(0, 4)
        t += rr / 1000
        out.append(rr)
    return np.array(out)


def test_uncertainty_hits_esco_flatt_limits_of_agreement() -> None:
    assert ln_rmssd_uncertainty(60) == pytest.approx(0.22)
    assert ln_rmssd_uncertainty(30) == pytest.approx(0.41)
    assert ln_rmssd_uncertainty(10) == pytest.approx(0.94)
    widths = [ln_rmssd_uncertainty(w) for w in (5, 10, 20, 30, 45, 60, 120, 300)]
    assert widths == sorted(widths, reverse=True)
    assert 0.41 > ln_rmssd_uncertainty(45) > 0.22


def test_uncertainty_widens_with_artifact_share() -> None:
    assert ln_rmssd_uncertainty(60, 0.05) == pytest.approx(2 * ln_rmssd_uncertainty(60))
    assert ln_rmssd_uncertainty(60, 0.01) > ln_rmssd_uncertainty(60, 0.0)
    with pytest.raises(ValueError, match="window_s"):
        ln_rmssd_uncertainty(0.0)


@pytest.mark.parametrize(
    ("n_beats", "covered_s", "share", "expected"),
    [
        (10, 60.0, 0.0, "too few beats"),
        (60, 30.0, 0.0, "window not covered"),
        (60, 60.0, 0.06, "too many corrected beats"),
    ],
)
def test_minimum_data_rules_return_reasons(
    n_beats: int, covered_s: float, share: float, expected: str
) -> None:
    reason = window_reason(n_beats, covered_s, 60.0, share, SETTINGS)
    assert reason is not None
    assert reason.startswith(expected)
    value = ln_rmssd_value(40.0, 60.0, n_beats, covered_s, share, SETTINGS)
    assert value.value is None
    assert value.uncertainty is None
    assert value.reason == reason
    pns = pns_index(900.0, 40.0, 28.0, 60.0, n_beats, covered_s, share, SETTINGS)
    assert pns.value is None
    assert pns.reason == reason


def test_window_at_the_limits_is_accepted() -> None:
    assert window_reason(20, 48.0, 60.0, 0.05, SETTINGS) is None


def test_pns_index_is_mean_of_z_scores() -> None:
    norm = pns_index(
        NORM_MEAN_RR_MS[0], NORM_RMSSD_MS[0], NORM_SD1_MS[0], 60.0, 60, 60.0, 0.0, SETTINGS
    )
    assert norm.value == pytest.approx(0.0)
    one_sd = pns_index(
        sum(NORM_MEAN_RR_MS), sum(NORM_RMSSD_MS), sum(NORM_SD1_MS), 60.0, 60, 60.0, 0.0, SETTINGS
    )
    assert one_sd.value == pytest.approx(1.0)
    assert one_sd.uncertainty is not None
    assert one_sd.uncertainty > 0


def test_relaxation_score_needs_a_baseline() -> None:
    ln = Value(3.5, 0.22, None, 60.0, 60, 0.0)
    assert relaxation_score(ln, None, SETTINGS).reason == "no baseline recorded"
    short = relaxation_score(ln, Baseline(3.0, 0.2, 2), SETTINGS)
    assert short.value is None
    assert short.reason is not None
    assert "baseline too short" in short.reason
    absent = Value.absent("too few beats: 3 < 20", 60.0, 3, 0.0)
    assert relaxation_score(absent, Baseline(3.0, 0.2, 10), SETTINGS).reason == absent.reason


def test_relaxation_score_is_a_z_score_with_floored_sd() -> None:
    ln = Value(3.5, 0.22, None, 60.0, 60, 0.0)
    assert relaxation_score(ln, Baseline(3.0, 0.25, 10), SETTINGS).value == pytest.approx(2.0)
    steady = relaxation_score(ln, Baseline(3.0, 0.01, 10), SETTINGS)
    assert steady.value == pytest.approx(0.5 / SETTINGS.relaxation_sd_floor)
    baseline = Baseline.from_values([3.0, 3.2, 2.8, 3.1, 2.9])
    assert baseline.mean_ln_rmssd == pytest.approx(3.0)
    assert baseline.sd_ln_rmssd == pytest.approx(np.std([3.0, 3.2, 2.8, 3.1, 2.9], ddof=1))


def test_more_vagal_tone_raises_rmssd_and_pns_index() -> None:
    reports = [analyze_record(simulated_rr(rsa)) for rsa in (10.0, 25.0, 50.0)]
    rmssd = [r.time.rmssd_ms for r in reports]
    pns = [r.pns_index.value for r in reports]
    ln = [r.ln_rmssd.value for r in reports]
    assert rmssd == sorted(rmssd)
    assert rmssd[0] < rmssd[-1] / 2
    assert all(p is not None for p in pns)
    assert pns == sorted(pns)  # type: ignore[type-var]
    assert ln == sorted(ln)  # type: ignore[type-var]
    assert all(r.reason is None for r in reports)


def test_record_with_too_many_corrections_has_no_estimates() -> None:
    rr = simulated_rr(20.0)
    rr[::12] *= 2.0  # a missed beat every 12 beats: > 5 % corrected
    report = analyze_record(rr)
    assert report.corrected_share > 0.05
    assert report.ln_rmssd.value is None
    assert report.ln_rmssd.reason is not None
    assert "too many corrected" in report.ln_rmssd.reason
    assert report.pns_index.value is None
    assert report.to_dict()["valid"] is False


def test_short_record_has_no_spectrum_and_says_why() -> None:
    report = analyze_record(simulated_rr(20.0, duration_s=90.0))
    assert report.frequency is None
    assert report.respiration is None
    assert report.frequency_reason == "no continuous stretch of 120 s"
    assert report.to_dict()["frequency"] is None
