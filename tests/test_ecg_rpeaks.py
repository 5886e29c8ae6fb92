"""R-peaks: on the simulated H10 (truth known exactly), online vs batch, and on MIT-BIH excerpts."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from biofeedback.ecg import OnlineRPeakDetector, detect_r_peaks, match_beats
from devices.simulator import ArtifactRates, SimConfig, SimulatedStrap
from devices.simulator.ecg import EcgConfig, simulate_ecg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from mitdb import MITDB, load

FS = 130


def simulated(duration_s: float, seed: int, **ecg: object):  # type: ignore[no-untyped-def]
    strap = SimulatedStrap(
        SimConfig(duration_s=duration_s, seed=seed, artifacts=ArtifactRates(ectopic=0.04))
    )
    list(strap.events())
    return simulate_ecg(strap.truth, duration_s, EcgConfig(seed=seed, **ecg))  # type: ignore[arg-type]


def test_simulated_beats_found_within_one_sample_including_ectopics() -> None:
    ecg = simulated(300, seed=2)
    found = detect_r_peaks(ecg.samples_uv, FS)
    truth = ecg.r_peak_t_s[(ecg.r_peak_t_s > 1) & (ecg.r_peak_t_s < 299)]
    m = match_beats(truth, found.t_s[(found.t_s > 1) & (found.t_s < 299)])
    assert (m.fn, m.fp) == (0, 0)
    assert np.max(np.abs(m.error_s)) < 1 / FS
    assert np.median(np.abs(m.error_s)) < 0.002
    assert ecg.ventricular.sum() >= 5


def test_noisy_simulation_with_motion_still_finds_the_beats() -> None:
    ecg = simulated(300, seed=3, noise_uv=40.0, motion_per_h=20.0)
    found = detect_r_peaks(ecg.samples_uv, FS)
    m = match_beats(ecg.r_peak_t_s, found.t_s)
    assert m.sensitivity > 0.98
    assert m.positive_predictivity > 0.97


def test_online_detector_reports_each_beat_once_within_the_latency() -> None:
    ecg = simulated(120, seed=4)
    online = OnlineRPeakDetector(FS)
    reported: list[tuple[float, float]] = []
    for start in range(0, len(ecg.samples_uv), 73):
        frame = ecg.samples_uv[start : start + 73]
        now_s = (start + len(frame)) / FS
        reported += [(t, now_s) for t in online.feed(frame).t_s]
    t = np.array([r[0] for r in reported])
    latency = np.array([r[1] - r[0] for r in reported])
    assert np.all(np.diff(t) > 0.25)
    assert latency.max() <= 0.25 + 73 / FS + 1e-9
    m = match_beats(ecg.r_peak_t_s[ecg.r_peak_t_s > 1], t[t > 1])
    assert (m.fn, m.fp) == (0, 0)


@pytest.mark.shared("physionet/mitdb_ecg", "MIT-BIH WFDB records are read from ../shared")
@pytest.mark.parametrize("record", [112, 119])
def test_mitdb_excerpts_at_130_hz(record: int) -> None:
    if not (MITDB / f"{record}.hea").exists():
        pytest.skip(f"{MITDB} not available")
    pytest.importorskip("wfdb")
    rec = load(record, seconds=300)
    found = detect_r_peaks(rec.ecg_uv, FS)
    m = match_beats(rec.beat_t_s, found.t_s)
    assert m.sensitivity > 0.995
    assert m.positive_predictivity > 0.995
    assert np.median(np.abs(m.error_s)) < 0.004


def test_online_detector_algorithmic_latency_fed_one_sample_at_a_time() -> None:
    """Fed one sample at a time (no frame wait), every beat after the 2-s warm-up is reported
    at most 300 ms (39 samples at 130 Hz) after its R-peak sample arrived, counted in samples:
    at the live stage's lookahead of 150 ms, ventricular ectopics (wide, weaker slope) included.

    One sample at a time where a report can fall: from 10 samples after each true R-peak to 40
    after it (none can come sooner than the 150-ms lookahead, 19.5 samples); the rest in one
    piece up to there. Each call sees the stream up to its last sample, as one-by-one would (the
    detector keeps the newest samples, however they came), so a beat reported in that stretch is
    reported at the same sample; one reported later shows as late. A quarter of the calls (on
    this recording the reports equal one-by-one feeding's, every beat at the same sample)."""
    ecg = simulated(60, seed=5)  # a weak, wide ectopic at 56 s: 890 ms late with a 100-ms window
    online = OnlineRPeakDetector(FS, lookahead_s=0.15)
    reported: list[tuple[float, int]] = []
    x = ecg.samples_uv
    r_samples = np.floor(ecg.r_peak_t_s * FS).astype(int)
    ends = sorted({int(r) + j for r in r_samples for j in range(11, 42)} | {len(x)})
    fed = 0
    for end in (e for e in ends if e <= len(x)):
        reported += [(p, end - 1) for p in online.feed(x[fed:end]).position]
        fed = end
    position = np.array([r[0] for r in reported])
    newest = np.array([r[1] for r in reported])
    truth = ecg.r_peak_t_s * FS
    after_warm_up = position > 2 * FS
    m = match_beats(truth[(truth > 2.5 * FS) & (truth < len(x) - FS)] / FS, position / FS)
    assert m.fn == 0
    assert ecg.ventricular[(truth > 2.5 * FS) & (truth < len(x) - FS)].sum() >= 1
    # The latency from the R-peak sample (the truth, not the detector's own estimate of it).
    nearest = truth[np.argmin(np.abs(truth[None, :] - position[:, None]), axis=1)]
    latency = newest[after_warm_up] - np.floor(nearest[after_warm_up])
    assert latency.max() <= 0.3 * FS
    assert np.median(latency) == pytest.approx(0.15 * FS, abs=1.0)
