"""Polar Sensor Logger ECG and ACC files written from the simulated H10, with their truth.

No real Polar Sensor Logger ECG or ACC export is in ../shared/reference (checked: MANIFEST.md
lists RR files only), so the tests write them in the app's layout (FACTS §4.5; a real row is
``2026-07-26T21:56:26.765;838432586543515816;0.0;-166``): the local phone time, the sensor clock
in ns since 2000-01-01, ms from the first sample, the value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from devices.simulator import ArtifactRates, Person, Profile, SimConfig, SimulatedStrap
from devices.simulator.acc import AccConfig, simulate_acc
from devices.simulator.ecg import EcgConfig, simulate_ecg

ECG_HEADER = "Phone timestamp;sensor timestamp [ns];timestamp [ms];ecg [uV]"
ACC_HEADER = "Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]"
SENSOR_T0_NS = 838_432_586_543_515_816
START = dt.datetime(2026, 7, 26, 21, 56, 26, 765000)


@dataclass(frozen=True)
class Simulated:
    ecg_uv: NDArray[np.int32]
    r_peak_t_s: NDArray[np.float64]
    ventricular: NDArray[np.bool_]
    acc_mg: NDArray[np.int16]
    acc_fs_hz: int
    breathing_per_min: float


def simulate(duration_s: float, *, seed: int = 5, breathing_hz: float = 0.25) -> Simulated:
    person = Person(breathing_rate_hz=breathing_hz, session_sd_breathing_hz=0.0)
    strap = SimulatedStrap(
        SimConfig(
            duration_s=duration_s,
            seed=seed,
            artifacts=ArtifactRates(ectopic=0.05),
            profile=Profile(person=person),
        )
    )
    list(strap.events())
    ecg = simulate_ecg(strap.truth, duration_s, EcgConfig(seed=seed))
    acc = simulate_acc(strap.truth, duration_s, AccConfig(fs_hz=25))
    return Simulated(
        ecg.samples_uv, ecg.r_peak_t_s, ecg.ventricular, acc.samples_mg, 25, 60 * breathing_hz
    )


def _rows(fs_hz: float, n: int, keep: NDArray[np.bool_] | None = None) -> list[tuple[str, int]]:
    out = []
    for k in range(n):
        if keep is not None and not keep[k]:
            continue
        ns = round(k * 1e9 / fs_hz)
        phone = (START + dt.timedelta(microseconds=ns // 1000)).isoformat(timespec="milliseconds")
        out.append((phone, ns))
    return out


def write_ecg(
    path: Path, samples: NDArray[np.integer], *, keep: NDArray[np.bool_] | None = None
) -> Path:
    """``samples`` at 130 Hz as a Polar Sensor Logger ECG file (``keep``: rows written)."""
    lines = [ECG_HEADER]
    values = samples.tolist()
    for phone, ns in _rows(130, len(values), keep):
        k = round(ns * 130 / 1e9)
        lines.append(f"{phone};{SENSOR_T0_NS + ns};{ns / 1e6:.6f};{values[k]}")
    path.write_text("\n".join(lines) + "\n")
    return path


def write_acc(path: Path, samples: NDArray[np.integer], fs_hz: int, *, ms: bool = False) -> Path:
    """``samples`` (n, 3) as a Polar Sensor Logger ACC file (``ms``: with ``timestamp [ms]``)."""
    header = ACC_HEADER.replace(";X", ";timestamp [ms];X") if ms else ACC_HEADER
    lines = [header]
    values = samples.tolist()
    for (phone, ns), (x, y, z) in zip(_rows(fs_hz, len(values)), values, strict=True):
        stamp = f"{ns / 1e6:.6f};" if ms else ""
        lines.append(f"{phone};{SENSOR_T0_NS + ns};{stamp}{x};{y};{z}")
    path.write_text("\n".join(lines) + "\n")
    return path
