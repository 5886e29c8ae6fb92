"""The simulated H10's ECG: a P-QRS-T waveform at 130 Hz whose R-peaks are the simulated beats.

Each beat is a sum of Gaussian waves in time (the time-domain form of McSharry et al.'s ECGSYN,
doi:10.1109/TBME.2003.808805): P, Q, R, S, T for a sinus beat, with the P-R and Q-T offsets scaled
by the square root of the RR (Bazett 1920); a ventricular ectopic beat has no P wave, a QRS three
times as wide with a deep late S, and an inverted T (a "wide and bizarre" PVC). Q and S sit far
enough from the R wave that the noise-free waveform's maximum is within 0.5 ms of the beat time.

On top: the R amplitude modulated by breathing (chest impedance, the basis of ECG-derived
respiration), baseline wander at the breathing rate plus a slow drift, white noise, and electrode
motion artifacts (band-limited bursts, Poisson in time) whose intervals are ground truth. The
heart's beats come from the strap simulator's :class:`GroundTruth` (:func:`cardiac_beats`): the
true beats, with each ectopic one moved to its early time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.signal import butter, sosfilt

from devices.simulator.artifacts import Artifact
from devices.simulator.truth import GroundTruth

F64 = NDArray[np.float64]
B = NDArray[np.bool_]

ECG_FS_HZ: Final = 130
_BREATH_GRID_HZ: Final = 10.0
_ECG_STREAM_SEED: Final = 0xEC6


@dataclass(frozen=True, slots=True)
class CardiacBeats:
    """When the heart beat (s, simulated clock) and which beats were ventricular ectopics."""

    t_s: F64
    ventricular: B


def cardiac_beats(truth: GroundTruth) -> CardiacBeats:
    """The beats the ECG shows: the true beats, each ectopic one at its (early) detected time.

    Missed detections are still heartbeats; extra detections are not."""
    t_s = truth.t_s.copy()
    ectopic = truth.artifact == Artifact.ECTOPIC
    # A detection's true beat can lie past the true beats generated so far (the session's end).
    index = truth.sent_true_index
    det = (truth.sent_artifact == Artifact.ECTOPIC) & (index >= 0) & (index < t_s.size)
    moved = truth.sent_true_index[det]
    t_s[moved] = truth.sent_t_s[det]
    return CardiacBeats(t_s, ectopic)


def breathing_phase(truth: GroundTruth, t_s: F64) -> F64:
    """Breathing phase (rad) at ``t_s``: the integral of the simulated, time-varying rate."""
    if len(truth.t_s) == 0:
        return np.zeros_like(t_s)
    end_s = float(max(t_s.max(initial=0.0), truth.t_s[-1])) + 1.0
    grid = np.arange(0.0, end_s, 1.0 / _BREATH_GRID_HZ)
    rate_hz = np.interp(grid, truth.t_s, truth.breathing_rate_hz)
    phase = 2 * np.pi * np.concatenate([[0.0], np.cumsum(rate_hz[:-1])]) / _BREATH_GRID_HZ
    out: F64 = np.interp(t_s, grid, phase)
    return out


@dataclass(frozen=True, slots=True)
class EcgConfig:
    """Amplitudes in µV, rates per hour."""

    r_amplitude_uv: float = 1200.0
    noise_uv: float = 12.0
    wander_uv: float = 120.0
    breathing_modulation: float = 0.12
    """Relative R-amplitude change over a breath (ECG-derived respiration)."""
    motion_per_h: float = 0.0
    motion_uv: float = 500.0
    motion_s: tuple[float, float] = (1.0, 4.0)
    seed: int = 0


@dataclass(frozen=True, slots=True)
class SimulatedEcg:
    """Sample ``k`` is at ``k / fs_hz`` s of simulated time; ground truth beside it."""

    fs_hz: int
    samples_uv: NDArray[np.int32]
    r_peak_t_s: F64
    ventricular: B
    motion_s: F64
    """Electrode-motion episodes, shape (n, 2): start and end (s)."""


@dataclass(frozen=True, slots=True)
class _Wave:
    offset_s: float
    sigma_s: float
    amplitude: float
    rr_scaled: bool = False


_SINUS: Final = (
    _Wave(-0.165, 0.022, 0.12, rr_scaled=True),
    _Wave(-0.030, 0.010, -0.10),
    _Wave(0.0, 0.011, 1.0),
    _Wave(0.032, 0.011, -0.22),
    _Wave(0.27, 0.050, 0.28, rr_scaled=True),
)
_VENTRICULAR: Final = (
    _Wave(0.0, 0.032, 1.15),
    _Wave(0.095, 0.030, -0.55),
    _Wave(0.32, 0.070, -0.35, rr_scaled=True),
)


def _add_waves(
    out: F64, fs_hz: float, t_beat: F64, rr_s: F64, scale: F64, waves: tuple[_Wave, ...]
) -> None:
    n = len(out)
    for wave in waves:
        stretch = np.sqrt(np.clip(rr_s, 0.3, 2.0)) if wave.rr_scaled else 1.0
        centre = t_beat + wave.offset_s * stretch
        half = math.ceil(4 * wave.sigma_s * fs_hz)
        idx = np.rint(centre * fs_hz).astype(np.int64)[:, None] + np.arange(-half, half + 1)
        dt = idx / fs_hz - centre[:, None]
        values = (wave.amplitude * scale)[:, None] * np.exp(-0.5 * (dt / wave.sigma_s) ** 2)
        ok = (idx >= 0) & (idx < n)
        np.add.at(out, idx[ok], values[ok])


def _episodes(
    rng: np.random.Generator, per_h: float, span: tuple[float, float], end_s: float
) -> F64:
    count = int(rng.poisson(per_h * end_s / 3600.0))
    starts = np.sort(rng.uniform(0.0, end_s, count))
    lengths = rng.uniform(span[0], span[1], count)
    kept: list[tuple[float, float]] = []
    for start, length in zip(starts, lengths, strict=True):
        if not kept or start > kept[-1][1]:
            kept.append((float(start), float(min(start + length, end_s))))
    return np.asarray(kept, dtype=np.float64).reshape(-1, 2)


def motion_envelope(t_s: F64, episodes: F64) -> F64:
    """1 inside a motion episode (with 0.2 s ramps), 0 outside."""
    env = np.zeros_like(t_s)
    for start, end in episodes:
        ramp = np.clip(np.minimum(t_s - start, end - t_s) / 0.2, 0.0, 1.0)
        env = np.maximum(env, ramp)
    return env


def simulate_ecg(
    truth: GroundTruth, duration_s: float, config: EcgConfig = EcgConfig()
) -> SimulatedEcg:
    """The ECG of a simulated session, ``duration_s`` long, sampled at 130 Hz (int µV)."""
    fs = ECG_FS_HZ
    n = int(duration_s * fs)
    t = np.arange(n) / fs
    rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(_ECG_STREAM_SEED,)))
    beats = cardiac_beats(truth)
    keep = beats.t_s < duration_s + 1.0
    t_beat, ventricular = beats.t_s[keep], beats.ventricular[keep]
    rr_s = np.diff(t_beat, prepend=t_beat[0] - 1.0) if len(t_beat) else t_beat
    phase_beat = breathing_phase(truth, t_beat)
    scale = config.r_amplitude_uv * (1.0 + config.breathing_modulation * np.sin(phase_beat))
    ecg = np.zeros(n)
    sinus = ~ventricular
    _add_waves(ecg, fs, t_beat[sinus], rr_s[sinus], scale[sinus], _SINUS)
    _add_waves(ecg, fs, t_beat[ventricular], rr_s[ventricular], scale[ventricular], _VENTRICULAR)
    phase = breathing_phase(truth, t)
    drift = np.cumsum(rng.standard_normal(n)) * (config.wander_uv / math.sqrt(60.0 * fs))
    drift -= sosfilt(butter(1, 0.02, fs=fs, output="sos"), drift)
    ecg += config.wander_uv * np.sin(phase + 0.6) + drift
    ecg += config.noise_uv * rng.standard_normal(n)
    motion = _episodes(rng, config.motion_per_h, config.motion_s, duration_s)
    if len(motion):
        burst = sosfilt(
            butter(2, (0.5, 12.0), btype="band", fs=fs, output="sos"), rng.standard_normal(n)
        )
        ecg += config.motion_uv * 2.5 * burst * motion_envelope(t, motion)
    samples = np.clip(np.rint(ecg), -(2**23), 2**23 - 1).astype(np.int32)
    inside = t_beat < duration_s
    return SimulatedEcg(fs, samples, t_beat[inside], ventricular[inside], motion)
