"""Simulator realism: resting HRV, the RSA peak, trigger responses, tingles (20 seeds).

The quiet (:func:`~devices.simulator.profile.ideal`) variants of the profiles: the day-level
nuisances are tested in ``test_simstudy_simulator.py``.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from scipy.signal import welch

from devices.simulator import (
    GroundTruth,
    SimConfig,
    SimulatedStrap,
    load_profile,
    parse_segments,
)
from devices.simulator.profile import ideal

SEEDS = range(20)


@cache
def session(
    seed: int,
    profile: str = "responder",
    spec: str = "baseline:300,whispering:300",
) -> GroundTruth:
    strap = SimulatedStrap(
        SimConfig(seed=seed, profile=ideal(load_profile(profile)), segments=parse_segments(spec))
    )
    for _ in strap.events():
        pass
    return strap.truth


def rmssd_ms(rr_ms: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.diff(rr_ms) ** 2)))


def rsa_peak_hz(t_s: np.ndarray, rr_ms: np.ndarray) -> float:
    """Peak of the RR spectrum in 0.04-0.5 Hz: 4 Hz linear resampling, Welch, 64 s Hann."""
    grid = np.arange(t_s[0], t_s[-1], 0.25)
    rr = np.interp(grid, t_s, rr_ms)
    f, p = welch(rr - rr.mean(), fs=4.0, nperseg=256, detrend="linear")
    band = (f >= 0.04) & (f <= 0.5)
    return float(f[band][np.argmax(p[band])])


@pytest.mark.parametrize("seed", SEEDS)
def test_resting_window_has_realistic_hrv_and_rsa_peak(seed: int) -> None:
    truth = session(seed)
    rest = truth.segment_index == 0
    rr = truth.rr_true_ms[rest]
    assert 20 <= rmssd_ms(rr) <= 80
    assert 30 <= float(np.std(rr)) <= 100
    breathing_hz = float(np.mean(truth.breathing_rate_hz[rest]))
    assert abs(rsa_peak_hz(truth.t_s[rest], rr) - breathing_hz) <= 0.02


def test_session_breathing_rate_is_near_the_profile_rate() -> None:
    rates = [np.mean(session(s).breathing_rate_hz[session(s).segment_index == 0]) for s in SEEDS]
    assert abs(np.mean(rates) - load_profile("responder").person.breathing_rate_hz) < 0.01


def test_whispering_lowers_heart_rate_by_the_profile_delta() -> None:
    profile = load_profile("responder")
    whispering = profile.response("whispering")
    assert whispering is not None
    settle_s = 300 + 4 * whispering.onset_s
    changes = []
    for seed in SEEDS:
        truth = session(seed)
        base = truth.rr_true_ms[truth.segment_index == 0]
        block = truth.rr_true_ms[(truth.segment_index == 1) & (truth.t_s > settle_s)]
        changes.append(60000 / block.mean() - 60000 / base.mean())
    assert np.mean(changes) == pytest.approx(whispering.delta_hr_bpm, abs=1.0)


def test_whispering_raises_vagal_tone_and_rmssd() -> None:
    gains = []
    for seed in SEEDS:
        truth = session(seed)
        base = truth.rr_true_ms[truth.segment_index == 0]
        block = truth.rr_true_ms[(truth.segment_index == 1) & (truth.t_s > 400)]
        gains.append(np.log(rmssd_ms(block)) - np.log(rmssd_ms(base)))
    assert np.mean(gains) == pytest.approx(0.35, abs=0.15)


def test_crinkling_and_unknown_triggers_leave_the_responder_at_baseline() -> None:
    for label in ("crinkling", "dancing", "washout"):
        truth = session(0, spec=f"baseline:120,{label}:120")
        assert np.ptp(truth.vagal_tone) == 0.0
        assert np.ptp(truth.breathing_rate_hz) < 0.05


def test_non_responder_does_not_slow_down() -> None:
    changes = []
    for seed in range(10):
        truth = session(seed, "non-responder")
        base = truth.rr_true_ms[truth.segment_index == 0]
        block = truth.rr_true_ms[(truth.segment_index == 1) & (truth.t_s > 400)]
        changes.append(60000 / block.mean() - 60000 / base.mean())
    assert abs(np.mean(changes)) < 1.0


def test_slower_breathing_moves_the_rsa_peak_lower() -> None:
    peaks = []
    for spec in ("baseline:300", "whispering:300"):
        truth = session(1, spec=spec)
        late = truth.t_s > 150
        peaks.append(rsa_peak_hz(truth.t_s[late], truth.rr_true_ms[late]))
    assert peaks[1] < peaks[0]


def test_tingles_are_transient_accelerations_recorded_in_the_truth() -> None:
    truth = session(2, "tingles", "baseline:120,whispering:600")
    assert len(truth.tingle_t_s) >= 10
    assert np.all((truth.tingle_t_s >= 120) & (truth.tingle_t_s < 720))
    hr = 60000 / truth.rr_true_ms
    lifts = []
    for t in truth.tingle_t_s:
        before = hr[(truth.t_s > t - 4) & (truth.t_s <= t)]
        after = hr[(truth.t_s > t + 1) & (truth.t_s <= t + 5)]
        lifts.append(after.mean() - before.mean())
    assert np.median(lifts) > 2.0


def test_beat_times_are_on_the_1024_hz_clock() -> None:
    truth = session(4)
    ticks = truth.t_s * 1024
    assert np.array_equal(ticks, np.round(ticks))
    assert np.array_equal(np.diff(truth.t_s) * 1000, truth.rr_true_ms[1:])


@pytest.mark.parametrize("c", [0.0, 0.3, 0.9958, 1.0 - 1e-9])
def test_the_one_pole_recursion_is_lfilter(c: float) -> None:
    """The simulator's slow processes step as ``scipy.signal.lfilter`` would (to rounding)."""
    from scipy.signal import lfilter

    from devices.simulator.recursion import one_pole

    rng = np.random.default_rng(7)
    for n in (0, 1, 2, 63, 64, 65, 4800):
        x = rng.standard_normal(n) * 40.0
        y_prev = float(rng.standard_normal())
        b = float(rng.uniform(0.01, 2.0))
        expected = lfilter([b], [1.0, -c], x, zi=[c * y_prev])[0]
        got = one_pole(b, c, x, y_prev)
        assert got.shape == expected.shape
        assert np.allclose(got, expected, rtol=1e-12, atol=1e-12)
    # the heart-rate display's smoothing, written as lfilter([a], [1, a - 1]) before
    a, x, prev = 0.2, rng.uniform(50, 90, 700), 61.3
    expected = lfilter([a], [1.0, a - 1.0], x, zi=[(1 - a) * prev])[0]
    assert np.allclose(one_pole(a, 1.0 - a, x, prev), expected, rtol=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_simulated_beats_are_those_lfilter_gives(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rounding differences never move a beat by a strap tick (1/1024 s) or change a flag."""
    from scipy.signal import lfilter

    import devices.simulator.physiology as physiology
    import devices.simulator.strap as strap_module

    def run() -> GroundTruth:
        config = SimConfig(seed=seed, duration_s=3600.0, profile=load_profile("responder"))
        strap = SimulatedStrap(config)
        for _ in strap.events():
            pass
        return strap.truth

    ours = run()

    def by_lfilter(b: float, c: float, x: np.ndarray, y_prev: float) -> np.ndarray:
        return np.asarray(lfilter([b], [1.0, -c], x, zi=[c * y_prev])[0])

    monkeypatch.setattr(physiology, "one_pole", by_lfilter)
    monkeypatch.setattr(strap_module, "one_pole", by_lfilter)
    theirs = run()
    for name in ("t_s", "sent_t_s", "sent_rr_raw", "artifact", "segment_index"):
        assert np.array_equal(getattr(ours, name), getattr(theirs, name)), name
