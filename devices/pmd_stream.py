"""PMD frames placed on the session clock: sample times, clock drift, gaps (pure, no I/O).

A PMD frame carries the sensor time of its *last* sample (ns since 2000-01-01). The sensor clock
and the host clock run at slightly different rates (Polar's TimeSystemExplained.md), and frames
arrive after a variable radio delay that is never negative. :class:`SensorClock` therefore maps
sensor time to session time by the *lower envelope* of ``arrival - sensor``: the least delay in
each 10-s block is the closest the two clocks came; a line fitted through the recent blocks'
minima gives the offset and the drift (ppm), re-fitted every block. bleakheart uses one offset
from the first frame instead, so its times drift by the clocks' difference.

:class:`PmdTimeline` turns frames into :class:`EcgSamples` / :class:`AccSamples` with one session
time per sample. A restart (reconnect) or a sensor time that jumps back or far ahead begins a new
*segment*; nothing downstream may join samples across segments, and :class:`PmdGap` says where.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from devices.pmd import EcgFrame, MeasurementType, PmdFrame

F64 = NDArray[np.float64]

BLOCK_S: Final = 10.0
FIT_BLOCKS: Final = 30
"""Blocks (of ``BLOCK_S``) in the drift fit: 5 minutes."""
SLEW_S: Final = 0.002
"""Most a frame's first sample time moves towards a new clock fit (2 ms per ~0.5-s frame)."""
MAX_JUMP_S: Final = 5.0
"""A frame whose sensor time is this far from the expected one starts a new segment."""


class SensorClock:
    """Sensor ns -> session seconds, offset and drift tracked from frame arrivals."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything (a new segment: the sensor clock may have been reset)."""
        self._origin_ns: int | None = None
        self._blocks: deque[tuple[float, float]] = deque(maxlen=FIT_BLOCKS)
        self._block_start = 0.0
        self._block_min: tuple[float, float] | None = None
        self._offset_s = 0.0
        self._slope = 0.0

    @property
    def drift_ppm(self) -> float:
        """How much faster the host clock runs than the sensor's, in parts per million."""
        return self._slope * 1e6

    @property
    def offset_s(self) -> float:
        return self._offset_s

    def observe(self, sensor_ns: int, arrival_s: float) -> None:
        """One frame: its last sample's sensor time and when it arrived (session clock)."""
        if self._origin_ns is None:
            self._origin_ns = sensor_ns
            self._block_start = 0.0
            self._offset_s = arrival_s
        x = (sensor_ns - self._origin_ns) / 1e9
        delay = arrival_s - x
        if self._block_min is None or delay < self._block_min[1]:
            self._block_min = (x, delay)
        if not self._blocks:
            self._offset_s = min(self._offset_s, delay)
        if x - self._block_start >= BLOCK_S:
            self._blocks.append(self._block_min)
            self._block_min = None
            self._block_start = x
            self._fit()

    def _fit(self) -> None:
        xs = np.array([b[0] for b in self._blocks])
        ys = np.array([b[1] for b in self._blocks])
        if len(xs) >= 3 and xs[-1] - xs[0] > 0:
            slope, intercept = np.polyfit(xs, ys, 1)
            self._slope, self._offset_s = float(slope), float(intercept)
        else:
            self._slope, self._offset_s = 0.0, float(ys.min())

    def to_session_s(self, sensor_ns: F64 | float) -> F64:
        """Session seconds of sensor times (ns since 2000), with the current offset and drift."""
        origin = 0 if self._origin_ns is None else self._origin_ns
        x = (np.asarray(sensor_ns, dtype=np.float64) - origin) / 1e9
        out: F64 = x * (1.0 + self._slope) + self._offset_s
        return out


@dataclass(frozen=True, slots=True)
class EcgSamples:
    """ECG samples of one frame, each with its session time."""

    t_s: F64
    samples_uv: NDArray[np.int32]
    sensor_ns: int
    """The frame's timestamp (last sample)."""
    segment: int


@dataclass(frozen=True, slots=True)
class AccSamples:
    """ACC samples of one frame, shape (n, 3) in mg, each with its session time."""

    t_s: F64
    samples_mg: NDArray[np.int16]
    sensor_ns: int
    segment: int


@dataclass(frozen=True, slots=True)
class PmdGap:
    """Samples of ``measurement`` are missing from ``t_s`` on; a new segment starts after."""

    t_s: float
    measurement: MeasurementType
    segment: int
    reason: str


class PmdTimeline:
    """Frames in, timed samples out; one per measurement type."""

    def __init__(self, measurement: MeasurementType, nominal_rate_hz: float) -> None:
        self.measurement = measurement
        self.nominal_rate_hz = nominal_rate_hz
        self.clock = SensorClock()
        self.segment = 0
        self._last_ns: int | None = None
        self._last_t_s: float | None = None
        self._period_ns = 1e9 / nominal_rate_hz

    @property
    def measured_rate_hz(self) -> float:
        """The sample rate on the sensor's clock, from the frames' timestamps."""
        return 1e9 / self._period_ns

    def restart(self, t_s: float, reason: str) -> PmdGap:
        """The stream stopped (disconnect, restart): the next frame begins a new segment."""
        gap = PmdGap(
            self._last_t_s if self._last_t_s is not None else t_s,
            self.measurement,
            self.segment + 1,
            reason,
        )
        self._new_segment()
        return gap

    def _new_segment(self) -> None:
        self.segment += 1
        self._last_ns = None
        self._last_t_s = None
        self.clock.reset()

    def feed(self, frame: PmdFrame, arrival_s: float) -> list[EcgSamples | AccSamples | PmdGap]:
        """The frame's samples on the session clock, after a gap if the sensor clock jumped."""
        out: list[EcgSamples | AccSamples | PmdGap] = []
        n = len(frame.samples_uv) if isinstance(frame, EcgFrame) else len(frame.samples_mg)
        ts = frame.timestamp_ns
        if self._last_ns is not None:
            step_ns = ts - self._last_ns
            expected_ns = n * self._period_ns
            if step_ns <= 0 or abs(step_ns - expected_ns) > MAX_JUMP_S * 1e9:
                out.append(self.restart(arrival_s, "sensor clock jumped"))
            elif abs(step_ns / n - self._period_ns) < 0.02 * self._period_ns:
                # Smooth the period estimate over about 50 frames.
                self._period_ns += (step_ns / n - self._period_ns) / 50.0
        self.clock.observe(ts, arrival_s)
        self._last_ns = ts
        sensor = ts - self._period_ns * np.arange(n - 1, -1, -1, dtype=np.float64)
        t_s = self.clock.to_session_s(sensor)
        if self._last_t_s is not None and not (out and isinstance(out[0], PmdGap)):
            # Slew towards the fitted mapping instead of jumping: times stay evenly spaced and
            # increasing when the offset or drift estimate moves.
            step_s = self._period_ns / 1e9 * (1.0 + self.clock.drift_ppm * 1e-6)
            start = self._last_t_s + step_s
            start += float(np.clip(t_s[0] - start, -SLEW_S, SLEW_S))
            t_s = start + step_s * np.arange(n, dtype=np.float64)
        self._last_t_s = float(t_s[-1])
        if isinstance(frame, EcgFrame):
            out.append(EcgSamples(t_s, np.asarray(frame.samples_uv, np.int32), ts, self.segment))
        else:
            out.append(AccSamples(t_s, np.asarray(frame.samples_mg, np.int16), ts, self.segment))
        return out
