"""Beat labels from shape and timing, and the RR intervals with artifact labels they feed."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import sosfiltfilt

from biofeedback.ecg import (
    BeatClass,
    OnlineBeatLabeller,
    detect_and_label,
    ecg_intervals,
    match_beats,
)
from biofeedback.ecg.beat_windows import noise_before
from biofeedback.ecg.labels import HORIZON_BEATS, _label_at, after_bigeminal_pause
from biofeedback.ecg.rpeaks import _sos
from biofeedback.hrv.artifacts import BeatLabel
from devices.simulator import ArtifactRates, SimConfig, SimulatedStrap
from devices.simulator.ecg import EcgConfig, simulate_ecg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from mitdb import MITDB, load

FS = 130


def simulated(duration_s: float, seed: int):  # type: ignore[no-untyped-def]
    strap = SimulatedStrap(
        SimConfig(duration_s=duration_s, seed=seed, artifacts=ArtifactRates(ectopic=0.04))
    )
    list(strap.events())
    return simulate_ecg(strap.truth, duration_s, EcgConfig(seed=seed))


def _truth_at(ecg, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    m = match_beats(ecg.r_peak_t_s, t_s)
    ventricular = np.zeros(len(t_s), dtype=bool)
    ventricular[m.matched_detection] = ecg.ventricular[m.matched_reference]
    return ventricular, m.matched_detection


def test_simulated_ventricular_ectopics_are_labelled_and_sinus_beats_are_not() -> None:
    ecg = simulated(600, seed=5)
    peaks, labels = detect_and_label(ecg.samples_uv, FS)
    truth, matched = _truth_at(ecg, peaks.t_s)
    judged = matched & (labels.label != BeatClass.UNKNOWN)
    said_v = labels.label == BeatClass.VENTRICULAR
    assert truth[judged].sum() >= 10
    assert said_v[judged & truth].all()
    assert not said_v[judged & ~truth].any()
    assert (labels.label == BeatClass.UNKNOWN).sum() <= 8


def test_online_labeller_gives_the_batch_labels() -> None:
    ecg = simulated(180, seed=6)
    peaks, labels = detect_and_label(ecg.samples_uv, FS)
    wide = sosfiltfilt(_sos(FS, 0.5, 40.0), ecg.samples_uv.astype(np.float64))
    online = OnlineBeatLabeller(FS)
    got = [online.push(wide, 0, round(p)) for p in peaks.position]
    assert got == labels.label.tolist()


def test_intervals_take_shape_where_known_and_rr_rule_elsewhere() -> None:
    t = np.arange(10) * 0.8
    t[5] -= 0.3
    cls = np.array([3, 3, 0, 0, 0, 2, 0, 0, 0, 0])
    rr_only = np.array([0, 4, 0, 0, 1, 1, 0, 2, 0], dtype=np.int8)
    got = ecg_intervals(t, cls, rr_only)
    assert np.allclose(got.rr_ms[3:6], [800.0, 500.0, 1100.0])
    assert got.labels.tolist() == [0, 4, 0, 0, 1, 1, 0, 2, 0]
    assert got.from_shape.tolist() == [False, False] + [True] * 7
    # A ventricular beat the RR rule missed is ectopic on both sides.
    got = ecg_intervals(t, cls, np.zeros(9, np.int8))
    assert got.labels[4] == got.labels[5] == BeatLabel.ECTOPIC
    assert (np.delete(got.labels, [4, 5]) == BeatLabel.NORMAL).all()


def test_empty_and_mismatched_inputs() -> None:
    assert ecg_intervals(np.array([1.0]), np.array([0])).rr_ms.size == 0
    with pytest.raises(ValueError, match="same length"):
        ecg_intervals(np.array([1.0, 2.0]), np.array([0]))
    assert _label_at(np.zeros(100), np.empty(0, np.intp), FS).label.size == 0


@pytest.mark.shared("physionet/mitdb_ecg", "MIT-BIH WFDB records are read from ../shared")
def test_mitdb_119_bigeminy_ventricular_beats() -> None:
    pytest.importorskip("wfdb")
    if not (MITDB / "119.hea").exists():
        pytest.skip(f"{MITDB} not available")
    rec = load(119, seconds=600)
    peaks, labels = detect_and_label(rec.ecg_uv, FS)
    m = match_beats(rec.beat_t_s, peaks.t_s)
    sym = np.full(len(peaks.t_s), "X")
    sym[m.matched_detection] = rec.beat_symbol[m.matched_reference]
    is_v = sym == "V"
    said_v = labels.label == BeatClass.VENTRICULAR
    assert is_v.sum() > 100
    assert (is_v & said_v).sum() / is_v.sum() > 0.95
    assert (is_v & said_v).sum() / said_v.sum() > 0.95


def _mitdb_or_skip(name: int) -> None:
    pytest.importorskip("wfdb")
    if not (MITDB / f"{name}.hea").exists():
        pytest.skip(f"{MITDB} not available")


@pytest.mark.shared("physionet/mitdb_ecg", "MIT-BIH WFDB records are read from ../shared")
def test_mitdb_207_escape_rhythm_stays_ventricular() -> None:
    """The 105-beat ventricular escape rhythm of record 207 is a type of its own born
    ventricular (the beat-type memory), not the template it would become by look-back alone."""
    _mitdb_or_skip(207)
    rec = load(207)
    peaks, labels = detect_and_label(rec.ecg_uv, FS)
    m = match_beats(rec.beat_t_s, peaks.t_s)
    sym = np.full(len(peaks.t_s), "X")
    sym[m.matched_detection] = rec.beat_symbol[m.matched_reference]
    # The longest stretch of consecutive escape beats.
    edges = np.diff(np.concatenate([[0], (sym == "E").astype(int), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    longest = np.argmax(ends - starts)
    run = np.arange(starts[longest], ends[longest])
    assert len(run) >= 100
    assert (labels.label[run] == BeatClass.VENTRICULAR).mean() > 0.9


@pytest.mark.shared("physionet/mitdb_ecg", "MIT-BIH WFDB records are read from ../shared")
def test_mitdb_223_online_labeller_gives_the_batch_labels_past_the_horizon() -> None:
    """More beats than the look-back horizon, with ventricular runs: the beat types carried
    online give the batch labels."""
    _mitdb_or_skip(223)
    rec = load(223, seconds=660)
    peaks, labels = detect_and_label(rec.ecg_uv, FS)
    assert len(peaks.position) > HORIZON_BEATS + 200
    wide = sosfiltfilt(_sos(FS, 0.5, 40.0), rec.ecg_uv.astype(np.float64))
    online = OnlineBeatLabeller(FS)
    got = [online.push(wide, 0, round(p)) for p in peaks.position]
    assert got == labels.label.tolist()
    assert (labels.label == BeatClass.VENTRICULAR).sum() > 50


def test_the_beat_after_a_bigeminal_pause_is_found_by_the_rr_alone() -> None:
    # Sinus 1.0 s, then bigeminy: ectopic at 0.6 s, the next sinus beat after a 1.4 s pause.
    rr = np.array([np.nan, 1.0, 1.0, 1.0] + [0.6, 1.4] * 6)
    got = after_bigeminal_pause(rr)
    # Once 8 RRs alternate (from the 11th beat on), the beats after the long RRs.
    assert got.tolist() == [False] * 11 + [True, False, True, False, True]
    assert not after_bigeminal_pause(np.full(20, 0.8)).any()
    assert after_bigeminal_pause(rr[:3]).tolist() == [False] * 3


def test_a_burst_of_noise_before_a_beat_is_measured_over_its_50_ms() -> None:
    wide = np.zeros(400)
    peak = np.array([200], np.intp)
    wide[150:156] = [0.0, 40.0, -40.0, 40.0, -40.0, 0.0]  # 46 ms of spikes, 154 ms before
    mean, spike = noise_before(wide, peak, FS, np.array([0], np.intp))
    assert spike[0] > 3 * mean[0] > 0
    quiet_mean, quiet = noise_before(np.zeros(400), peak, FS, np.array([0], np.intp))
    assert quiet_mean[0] == quiet[0] == 0.0
