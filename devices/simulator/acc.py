"""The simulated H10's chest acceleration (mg, x/y/z) with breathing, posture and movement.

A chest strap's accelerometer sees gravity, so it reads the wearer's posture; breathing tilts the
chest wall by a degree or two each breath, which turns into a few tens of mg on the axes across
gravity (the basis of accelerometer-derived respiration; Bates et al. 2010,
doi:10.1109/IEMBS.2010.5627153); each heartbeat adds a small ballistocardiographic jolt; and
movement (the electrode-motion episodes of :mod:`.ecg`) adds large broadband bursts. The breathing
phase is the integral of the strap simulator's time-varying breathing rate, so the truth of
"breaths per minute" is the simulator's own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.signal import butter, sosfilt

from devices.simulator.ecg import breathing_phase, cardiac_beats, motion_envelope
from devices.simulator.truth import GroundTruth

F64 = NDArray[np.float64]

_ACC_STREAM_SEED: Final = 0xACC

POSTURES_DEG: Final = {"upright": (0.0, 0.0), "reclined": (35.0, 0.0), "supine": (85.0, 5.0)}
"""Pitch and roll of the chest from upright, in degrees."""


@dataclass(frozen=True, slots=True)
class AccConfig:
    fs_hz: int = 200
    posture: str = "upright"
    breath_tilt_deg: float = 1.5
    noise_mg: float = 2.0
    bcg_mg: float = 4.0
    movement_mg: float = 150.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.posture not in POSTURES_DEG:
            raise ValueError(f"posture must be one of {sorted(POSTURES_DEG)}")
        if self.fs_hz not in (25, 50, 100, 200):
            raise ValueError("fs_hz must be 25, 50, 100 or 200 (the H10's rates)")


@dataclass(frozen=True, slots=True)
class SimulatedAcc:
    """Sample ``k`` is at ``k / fs_hz`` s; ``samples_mg`` has shape (n, 3)."""

    fs_hz: int
    samples_mg: NDArray[np.int16]
    breathing_rate_hz: F64
    """The true breathing rate at each sample."""
    movement_s: F64


def simulate_acc(
    truth: GroundTruth,
    duration_s: float,
    config: AccConfig = AccConfig(),
    movement_s: F64 | None = None,
) -> SimulatedAcc:
    """Chest acceleration for a simulated session; ``movement_s`` as from the ECG's motion."""
    fs = config.fs_hz
    n = int(duration_s * fs)
    t = np.arange(n) / fs
    rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(_ACC_STREAM_SEED,)))
    pitch0, roll0 = (math.radians(a) for a in POSTURES_DEG[config.posture])
    phase = breathing_phase(truth, t)
    pitch = pitch0 + math.radians(config.breath_tilt_deg) * np.sin(phase)
    roll = roll0 + math.radians(0.3 * config.breath_tilt_deg) * np.sin(phase + 0.4)
    # Gravity in the strap's frame: the x axis points down the body when upright.
    g = 1000.0 * np.stack(
        [-np.cos(pitch) * np.cos(roll), np.sin(roll), np.sin(pitch) * np.cos(roll)], axis=1
    )
    beats = cardiac_beats(truth).t_s
    bcg = np.zeros(n)
    for lag_s, sign in ((0.12, 1.0), (0.2, -0.6)):
        idx = np.rint((beats + lag_s) * fs).astype(np.int64)
        idx = idx[(idx >= 0) & (idx < n)]
        bcg[idx] += sign * config.bcg_mg
    bcg = sosfilt(butter(2, min(15.0, 0.4 * fs), fs=fs, output="sos"), bcg) * 3.0
    g[:, 2] += bcg
    g += config.noise_mg * rng.standard_normal((n, 3))
    moves = np.empty((0, 2)) if movement_s is None else movement_s
    if len(moves):
        band = (0.3, min(8.0, 0.45 * fs))
        burst = sosfilt(
            butter(2, band, btype="band", fs=fs, output="sos"), rng.standard_normal((n, 3)), axis=0
        )
        g += config.movement_mg * 3.0 * burst * motion_envelope(t, moves)[:, None]
    rate = np.interp(t, truth.t_s, truth.breathing_rate_hz) if len(truth.t_s) else np.zeros(n)
    samples = np.clip(np.rint(g), -(2**15), 2**15 - 1).astype(np.int16)
    return SimulatedAcc(fs, samples, rate, moves)
