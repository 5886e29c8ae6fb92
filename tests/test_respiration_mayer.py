"""The 0.1-Hz Mayer wave is not reported as 6/min breathing (issue 15, breathing honestly)."""

from __future__ import annotations

import numpy as np
import pytest

from biofeedback.hrv.frequency import frequency_domain
from biofeedback.hrv.processor import HrvProcessor
from biofeedback.hrv.respiration import AMBIGUOUS_PREFIX, respiration_from_spectrum
from tests.test_hrv_frequency import beats_from


def _resp(rr: np.ndarray):  # type: ignore[no-untyped-def]
    result = frequency_domain(rr)
    return respiration_from_spectrum(result.spectrum, result.settings)


def test_breathing_at_15_per_min_beside_a_larger_mayer_wave_is_ambiguous() -> None:
    # breathing 15/min at 12 ms plus a 0.1-Hz wave of 25 ms: the case that read "6.00/min, valid"
    rr = beats_from(
        lambda t: 950 + 12 * np.sin(2 * np.pi * 0.25 * t) + 25 * np.sin(2 * np.pi * 0.1 * t + 1),
        300.0,
    )
    resp = _resp(rr)
    assert not resp.valid
    assert not resp.slow_breathing
    assert np.isnan(resp.vagal_power_ms2)  # the Mayer power is not called vagal power
    (flag,) = resp.flags
    assert flag.startswith(AMBIGUOUS_PREFIX)
    assert "Mayer" in flag
    assert "15.0/min" in flag


def test_breathing_on_the_third_harmonic_of_the_mayer_wave_is_ambiguous() -> None:
    # breathing at 17.4/min (0.29 Hz, 10 ms) is 3 x a 0.0967-Hz Mayer wave (25 ms): a line that
    # strong is no harmonic (simulated sessions read "5.8/min, valid" for 17/min breathing)
    rr = beats_from(
        lambda t: 950 + 10 * np.sin(2 * np.pi * 0.29 * t) + 25 * np.sin(2 * np.pi * 0.0967 * t),
        120.0,
    )
    resp = _resp(rr)
    assert not resp.valid
    (flag,) = resp.flags
    assert flag.startswith(AMBIGUOUS_PREFIX)
    assert "17.4/min" in flag


def test_resonance_breathing_at_6_per_min_is_breathing() -> None:
    # a strong 0.1-Hz RSA with its IPFM harmonics and a little beat noise, no HF breathing line
    rng = np.random.default_rng(1)
    rr = beats_from(lambda t: 950 + 60 * np.sin(2 * np.pi * 0.1 * t), 300.0)
    rr = rr + rng.normal(0, 2, rr.size)
    resp = _resp(rr)
    assert resp.valid
    assert resp.rate_per_min == pytest.approx(6.0, abs=0.3)
    assert resp.slow_breathing


def test_the_live_rate_says_why_it_is_absent() -> None:
    rr = beats_from(
        lambda t: 950 + 12 * np.sin(2 * np.pi * 0.25 * t) + 25 * np.sin(2 * np.pi * 0.1 * t + 1),
        200.0,
    )
    processor = HrvProcessor()
    t = np.cumsum(rr) / 1000.0

    class Beat:
        def __init__(self, t_s: float, rr_ms: float) -> None:
            self.t_s, self.rr_ms, self.segment = t_s, rr_ms, 0

    snaps = [
        s for a, b in zip(t.tolist(), rr.tolist(), strict=True) if (s := processor.push(Beat(a, b)))
    ]
    rate = snaps[-1].respiration_rate_per_min
    assert rate.value is None
    assert (rate.reason or "").startswith(AMBIGUOUS_PREFIX)
