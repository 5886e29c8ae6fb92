"""Breathing from the simulated chest (ACC) and from R amplitudes, against the simulated truth."""

from __future__ import annotations

import numpy as np
import pytest

from biofeedback.ecg import detect_r_peaks
from biofeedback.ecg.respiration import acc_breathing_rate, edr_breathing_rate
from devices.simulator import Person, Profile, SimConfig, SimulatedStrap
from devices.simulator.acc import AccConfig, simulate_acc
from devices.simulator.ecg import simulate_ecg


def session(breathing_hz: float, mayer_ms: float | None = None, seed: int = 1):  # type: ignore[no-untyped-def]
    person = Person(breathing_rate_hz=breathing_hz, session_sd_breathing_hz=0.0)
    if mayer_ms is not None:
        person = Person(
            breathing_rate_hz=breathing_hz, session_sd_breathing_hz=0.0, mayer_amplitude_ms=mayer_ms
        )
    strap = SimulatedStrap(SimConfig(duration_s=300, seed=seed, profile=Profile(person=person)))
    list(strap.events())
    return strap.truth


def truth_rate_bpm(truth, t_s: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    return 60.0 * np.interp(t_s, truth.t_s, truth.breathing_rate_hz)


@pytest.mark.parametrize(
    ("breathing_hz", "mayer_ms"),
    [(0.1, None), (0.25, None), (0.2, 40.0)],
    ids=["6-per-min", "15-per-min", "mayer-wave"],
)
def test_acc_breathing_within_one_per_minute(breathing_hz: float, mayer_ms: float | None) -> None:
    truth = session(breathing_hz, mayer_ms)
    acc = simulate_acc(truth, 300, AccConfig(fs_hz=50))
    est = acc_breathing_rate(acc.samples_mg, 50)
    ok = np.isfinite(est.rate_bpm)
    assert ok.mean() > 0.9
    err = np.abs(est.rate_bpm[ok] - truth_rate_bpm(truth, est.t_s[ok]))
    assert err.max() < 1.0
    assert np.all(est.se_bpm[ok] < 1.0)


def test_edr_tracks_breathing_as_a_second_estimate() -> None:
    truth = session(0.25)
    ecg = simulate_ecg(truth, 300)
    peaks = detect_r_peaks(ecg.samples_uv, 130)
    est = edr_breathing_rate(peaks.t_s, peaks.amplitude_uv)
    ok = np.isfinite(est.rate_bpm)
    err = np.abs(est.rate_bpm[ok] - truth_rate_bpm(truth, est.t_s[ok]))
    assert ok.mean() > 0.8
    assert np.median(err) < 1.0
