"""The live processor: equal to the batch definitions, gap-aware, with reasons and a baseline."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pytest

from biofeedback.hrv import time_domain as td
from biofeedback.hrv.artifacts import BeatLabel
from biofeedback.hrv.dfa import dfa_alpha, dfa_alpha1
from biofeedback.hrv.processor import HrvProcessor, Snapshot
from biofeedback.hrv.processor_periodic import BlockDfa
from biofeedback.hrv.settings import HrvSettings
from devices.events import Beat


@dataclass(frozen=True)
class SimpleBeat:
    t_s: float
    rr_ms: float
    segment: int


def simulate(
    duration_s: float,
    rsa_ms: float = 30.0,
    breath_hz: float = 0.25,
    seed: int = 0,
    t0_s: float = 0.0,
    mean_ms: float = 900.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Beat times (s) and RR (ms) of sinus rhythm with RSA and small beat-to-beat noise."""
    rng = np.random.default_rng(seed)
    times: list[float] = []
    rrs: list[float] = []
    t = t0_s
    while t < t0_s + duration_s:
        rr = mean_ms + rsa_ms * math.sin(2 * math.pi * breath_hz * t) + rng.normal(0, 3)
        t += rr / 1000
        times.append(t)
        rrs.append(rr)
    return np.array(times), np.array(rrs)


def run(processor: HrvProcessor, t: np.ndarray, rr: np.ndarray, segment: int = 0) -> list[Snapshot]:
    out = []
    for t_s, rr_ms in zip(t, rr, strict=True):
        snap = processor.push(SimpleBeat(float(t_s), float(rr_ms), segment))
        if snap is not None:
            out.append(snap)
    return out


def test_snapshot_equals_direct_window_computation() -> None:
    t, rr = simulate(400.0)
    snaps = run(HrvProcessor(), t, rr)
    assert len(snaps) == t.size - 2  # labels come two beats late
    for snap in snaps[-200::37]:
        inside = (t > snap.t_s - 60) & (t <= snap.t_s)
        w = rr[inside]
        assert snap.rmssd_ms.n_beats == w.size
        assert snap.rmssd_ms.value == pytest.approx(td.rmssd_ms(w), rel=1e-9)
        assert snap.sdnn_ms.value == pytest.approx(td.sdnn_ms(w), rel=1e-9)
        assert snap.sd1_ms.value == pytest.approx(td.sd1_ms(w), rel=1e-9)
        assert snap.sd2_ms.value == pytest.approx(td.sd2_ms(w), rel=1e-9)
        assert snap.pnn50_pct.value == pytest.approx(td.pnn50_pct(w), rel=1e-9)
        assert snap.hr_bpm.value == pytest.approx(td.mean_hr_bpm(w), rel=1e-9)
        assert snap.ln_rmssd.value == pytest.approx(td.ln_rmssd(w), rel=1e-9)
        assert snap.ln_rmssd.uncertainty == pytest.approx(0.22)
        assert snap.ln_rmssd.window_s == 60.0


def test_running_sums_do_not_drift() -> None:
    t, rr = simulate(5000.0, seed=2)
    # The time-domain running sums are what is tested: spectra every 10 min, not every second.
    processor = HrvProcessor(HrvSettings(spectral_update_s=600.0))
    snap = run(processor, t, rr)[-1]
    w = rr[(t > snap.t_s - 60) & (t <= snap.t_s)]
    assert snap.rmssd_ms.value == pytest.approx(td.rmssd_ms(w), rel=1e-9)
    assert snap.sdnn_ms.value == pytest.approx(td.sdnn_ms(w), rel=1e-9)


def test_accepts_device_beats() -> None:
    processor = HrvProcessor()
    t, rr = simulate(30.0)
    snaps = [
        processor.push(Beat(t_s=float(a), rr_ms=float(b), rr_raw=0, segment=0, index=i))
        for i, (a, b) in enumerate(zip(t, rr, strict=True))
    ]
    assert snaps[0] is None
    assert snaps[1] is None
    assert snaps[2] is not None


def test_absent_values_carry_reasons() -> None:
    t, rr = simulate(100.0)
    snaps = run(HrvProcessor(), t, rr)
    first = snaps[0]
    assert first.rmssd_ms.value is None
    assert first.rmssd_ms.reason is not None
    assert first.rmssd_ms.reason.startswith("too few beats")
    assert first.hf_ms2.value is None
    assert first.relaxation_score.reason is not None
    last = snaps[-1]
    assert last.rmssd_ms.value is not None
    assert last.hf_ms2.value is None
    assert last.hf_ms2.reason is not None
    assert "120 s" in last.hf_ms2.reason
    assert last.relaxation_score.reason == "no baseline recorded"


def test_spectral_values_after_two_minutes() -> None:
    t, rr = simulate(200.0, rsa_ms=40.0, breath_hz=0.2)
    snap = run(HrvProcessor(), t, rr)[-1]
    assert snap.hf_ms2.value == pytest.approx(40**2 / 2, rel=0.1)
    assert snap.hf_ms2.window_s == 120.0
    assert snap.respiration_valid
    assert snap.respiration_rate_per_min.value == pytest.approx(12.0, abs=0.5)
    assert snap.flags == ()


def test_slow_breathing_is_flagged_live() -> None:
    t, rr = simulate(200.0, rsa_ms=40.0, breath_hz=0.1)
    snap = run(HrvProcessor(), t, rr)[-1]
    assert snap.respiration_rate_per_min.value == pytest.approx(6.0, abs=0.5)
    assert any("underestimates" in f for f in snap.flags)
    assert snap.vagal_power_ms2.value is not None
    assert snap.hf_ms2.value is not None
    assert snap.vagal_power_ms2.value > 10 * snap.hf_ms2.value


def test_no_difference_across_segments_and_restart_after_long_gap() -> None:
    processor = HrvProcessor()
    t1, rr1 = simulate(90.0, mean_ms=800.0)
    run(processor, t1, rr1, segment=0)
    t2, rr2 = simulate(20.0, t0_s=t1[-1] + 1.0, mean_ms=1200.0, seed=1)  # 1-s hole: keep window
    snaps = run(processor, t2, rr2, segment=1)
    last = snaps[-1]
    inside0 = rr1[t1 > last.t_s - 60]
    inside1 = rr2[t2 <= last.t_s]
    expected = td.rmssd_ms(
        np.concatenate([inside0, inside1]),
        segment=np.repeat([0, 1], [inside0.size, inside1.size]),
    )
    assert last.rmssd_ms.value == pytest.approx(expected, rel=1e-9)
    assert last.hf_ms2.value is None  # the spectral window restarted with the new segment
    t3, rr3 = simulate(20.0, t0_s=t2[-1] + 30.0, seed=2)  # 30-s hole: windows restart
    snaps = run(processor, t3, rr3, segment=2)
    assert snaps[-1].rmssd_ms.n_beats == int(np.count_nonzero(t3 <= snaps[-1].t_s))


def test_artifacts_are_labelled_and_counted() -> None:
    t, rr = simulate(120.0)
    rr = rr.copy()
    rr[100] = 2 * rr[100]  # a missed beat
    t = np.cumsum(rr) / 1000
    snaps = run(HrvProcessor(), t, rr)
    labels = [s.label for s in snaps]
    assert BeatLabel.MISSED in labels
    late = snaps[-1]
    assert 0 < late.rmssd_ms.artifact_share <= 0.05
    clean_rmssd = td.rmssd_ms(np.delete(rr, 100)[-60:])
    assert late.rmssd_ms.value == pytest.approx(clean_rmssd, rel=0.2)


def test_robust_artifact_setting_reaches_the_live_detector() -> None:
    # 120 s of bigeminy (every other beat 30 % early, full compensatory pause) after 120 s of
    # sinus rhythm: the published rule adapts its thresholds to the bigeminy, the robust does not
    t, rr = simulate(240.0, seed=2)
    rr = rr.copy()
    start = int(np.searchsorted(t, 120.0))
    rr[start::2] *= 0.7
    rr[start + 1 :: 2] += rr[start::2][: rr[start + 1 :: 2].size] * (0.3 / 0.7)
    t = np.cumsum(rr) / 1000
    last = {}
    for method in ("published", "robust"):
        last[method] = run(HrvProcessor(HrvSettings(artifact_method=method)), t, rr)[-1]
        assert last[method].settings.artifact_method == method
    # published: nothing flagged, an RMSSD of 541 ms shown as valid (the ectopy measured as HRV)
    assert last["published"].rmssd_ms.artifact_share < 0.2
    assert last["published"].rmssd_ms.value is not None
    assert last["published"].rmssd_ms.value > 300
    # robust: every beat flagged, so no value, and the reason says why
    assert last["robust"].rmssd_ms.artifact_share > 0.9
    assert last["robust"].rmssd_ms.value is None
    assert "corrected" in (last["robust"].rmssd_ms.reason or "")


def relaxation_after(rsa_ms: float) -> float:
    processor = HrvProcessor()
    t, rr = simulate(60.0, rsa_ms=15.0, seed=3)
    run(processor, t, rr)
    processor.begin_baseline()
    t, rr = simulate(180.0, rsa_ms=15.0, seed=4, t0_s=float(t[-1]))
    run(processor, t, rr)
    baseline = processor.end_baseline()
    assert baseline is not None
    assert baseline.n_windows >= 5
    t, rr = simulate(120.0, rsa_ms=rsa_ms, seed=5, t0_s=float(t[-1]))
    snap = run(processor, t, rr)[-1]
    assert snap.baseline == baseline
    assert not snap.baseline_active
    assert snap.relaxation_score.value is not None
    assert snap.relaxation_score.uncertainty is not None
    return snap.relaxation_score.value


def test_more_vagal_tone_raises_the_relaxation_score() -> None:
    same, more, much_more = (relaxation_after(a) for a in (15.0, 30.0, 60.0))
    assert abs(same) < 2.0
    assert same < more < much_more
    assert more > 2.0


def test_window_length_is_configurable() -> None:
    t, rr = simulate(150.0)
    snap = run(HrvProcessor(HrvSettings(window_s=30.0)), t, rr)[-1]
    assert snap.rmssd_ms.window_s == 30.0
    assert snap.ln_rmssd.uncertainty == pytest.approx(0.41)
    w = rr[(t > snap.t_s - 30) & (t <= snap.t_s)]
    assert snap.rmssd_ms.value == pytest.approx(td.rmssd_ms(w), rel=1e-9)


# --- DFA α1 live ---------------------------------------------------------------------------


def test_dfa_alpha1_equals_direct_computation_on_the_last_two_minutes() -> None:
    t, rr = simulate(300.0, rsa_ms=25.0, seed=6)
    # update every beat so each snapshot's value belongs to its own window
    snaps = run(HrvProcessor(HrvSettings(spectral_update_s=0.0)), t, rr)
    checked = 0
    for snap in snaps[::9]:
        w = rr[(t > snap.t_s - 120) & (t <= snap.t_s)]
        if snap.dfa_alpha1.value is None:
            assert snap.t_s < 120.0
            continue
        assert snap.dfa_alpha1.n_beats == w.size
        assert snap.dfa_alpha1.window_s == 120.0
        assert snap.dfa_alpha1.value == pytest.approx(dfa_alpha1(w), rel=1e-9)
        checked += 1
    assert checked > 10


def test_dfa_alpha1_is_absent_with_reason_until_enough_beats() -> None:
    t, rr = simulate(200.0, seed=7)
    snaps = run(HrvProcessor(), t, rr)
    first = snaps[0].dfa_alpha1
    assert first.value is None
    assert first.reason is not None
    assert first.reason.startswith("too few beats")
    assert first.window_s == 120.0
    early = next(s for s in snaps if s.t_s > 70).dfa_alpha1  # enough beats, window not covered
    assert early.value is None
    assert "window not covered" in str(early.reason)
    assert snaps[-1].dfa_alpha1.value is not None


def test_dfa_alpha1_is_recomputed_at_most_once_per_second() -> None:
    t, rr = simulate(300.0, mean_ms=500.0, seed=8)  # two beats a second
    snaps = [s for s in run(HrvProcessor(), t, rr) if s.dfa_alpha1.value is not None]
    changes = [b.t_s for a, b in itertools.pairwise(snaps) if a.dfa_alpha1 != b.dfa_alpha1]
    assert len(changes) > 100
    assert np.min(np.diff(changes)) >= 1.0


def test_dfa_alpha1_uses_only_the_current_chain() -> None:
    processor = HrvProcessor(HrvSettings(spectral_update_s=0.0))
    t1, rr1 = simulate(200.0, mean_ms=800.0)
    before = run(processor, t1, rr1, segment=0)[-1]
    assert before.dfa_alpha1.value is not None
    t2, rr2 = simulate(110.0, t0_s=t1[-1] + 1.0, mean_ms=1000.0, seed=9, rsa_ms=10.0)
    snaps = [s for s in run(processor, t2, rr2, segment=1) if s.t_s >= t2[0]]  # not the flush
    assert snaps[0].dfa_alpha1.value is None
    assert str(snaps[0].dfa_alpha1.reason).startswith("too few beats")
    last = snaps[-1]
    assert last.t_s - t2[0] < 120  # the 2-min window still reaches back into segment 0
    w = rr2[t2 <= last.t_s]
    assert last.dfa_alpha1.n_beats == w.size
    assert last.dfa_alpha1.value == pytest.approx(dfa_alpha1(w), rel=1e-9)


@pytest.mark.parametrize("overlap", [False, True])
def test_block_dfa_equals_dfa_alpha(overlap: bool) -> None:
    rng = np.random.default_rng(10)
    kernel = BlockDfa((4, 16), overlap, capacity=32)
    for n in (17, 18, 40, 64, 131, 250, 333):
        x = 800 + 5 * np.cumsum(rng.standard_normal(n)) + 30 * rng.standard_normal(n)
        assert kernel.alpha(x) == pytest.approx(dfa_alpha(x, (4, 16), overlap), rel=1e-9)
    assert math.isnan(kernel.alpha(np.full(100, 800.0)))
    assert math.isnan(kernel.alpha(np.full(16, 800.0)))
