"""The live ECG and chest-motion stage: timed PMD samples in, labelled beats and breathing out.

Pure (numpy and scipy, no asyncio, no I/O): the live pipeline feeds it each frame of samples
with their session times, as it feeds the HRV processor each beat.

- ECG: :class:`~biofeedback.ecg.rpeaks.OnlineRPeakDetector` (Pan-Tompkins on a trailing
  buffer, a beat final once it lies ``lookahead_s`` behind the newest sample) and
  :class:`~biofeedback.ecg.labels.OnlineBeatLabeller` (shape and timing against a running
  normal template). A beat's session time is interpolated at its sub-sample position from the
  samples' own times, so the sensor-clock mapping of :mod:`devices.pmd_stream` carries over.
  Each :class:`LiveBeat` says how far behind the newest sample it was reported
  (``latency_s``, on the sample clock: the lookahead plus the wait for the next frame).
- ACC: the samples are averaged to 10 Hz; every :data:`BREATH_EVERY_S` the last
  :data:`BREATH_WINDOW_S` (at least :data:`BREATH_MIN_S`) go through
  :func:`~biofeedback.ecg.respiration.acc_breathing_rate`; the R amplitudes of the same span go
  through :func:`~biofeedback.ecg.respiration.edr_breathing_rate`, a second, independent estimate.

A new PMD segment (a reconnect, a sensor clock that jumped) restarts the detector and the
breathing buffer: nothing joins samples across a gap.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from biofeedback.ecg.labels import BeatClass, OnlineBeatLabeller
from biofeedback.ecg.respiration import acc_breathing_rate, edr_breathing_rate
from biofeedback.ecg.rpeaks import OnlineRPeakDetector

F64 = NDArray[np.float64]

ECG_FS_HZ: Final = 130.0
ACC_FS_HZ: Final = 200.0
LOOKAHEAD_S: Final = 0.15
"""How far behind the newest sample a beat becomes final: the detector's shortest. In the H10's
0.56-s frames it finds the same beats as 0.25 s (on MIT-BIH DS1, 22 records x 5 min at 130 Hz:
Se 99.24 / +P 98.80 % against 99.18 / 98.82 %; ventricular labels on 106, 109, 119, 203, 208:
Se 87.5 / +P 86.4 % against 86.7 / 85.4 %; both measured before the 150-ms integration window
and the 2026-12 label rules) and reports them about 90 ms sooner. Fed one sample at a time the
detector reports a beat 150 ms after its R-peak sample (bench_ecg_live.py)."""
BREATH_FS_HZ: Final = 10.0
BREATH_WINDOW_S: Final = 60.0
BREATH_MIN_S: Final = 30.0
BREATH_EVERY_S: Final = 5.0
_TIME_KEEP_S: Final = 12.0
"""Sample times kept for placing beats (longer than the detector's 8-s buffer)."""


@dataclass(frozen=True, slots=True)
class LiveBeat:
    """One R-peak found online."""

    t_s: float
    """Session time of the R-peak (sub-sample)."""
    label: BeatClass
    amplitude_uv: float
    rr_ms: float | None
    """Interval from the previous R-peak of the same PMD segment (None for the first)."""
    latency_s: float
    """Newest sample's time at the report minus :attr:`t_s` (the detector's wait)."""
    segment: int


@dataclass(frozen=True, slots=True)
class BreathEstimate:
    """A breathing rate over a window that ends at ``t_s``, with its standard error."""

    t_s: float
    rate_per_min: float
    se_per_min: float
    window_s: float
    method: str


@dataclass(frozen=True, slots=True)
class Breathing:
    """The newest chest (ACC) and ECG-derived estimates; ``None`` while there are none."""

    t_s: float
    chest: BreathEstimate | None
    edr: BreathEstimate | None


class EcgStage:
    """Feed :meth:`ecg` and :meth:`acc` with each frame; read the beats and breathing back."""

    def __init__(
        self,
        *,
        ecg_fs_hz: float = ECG_FS_HZ,
        acc_fs_hz: float = ACC_FS_HZ,
        lookahead_s: float = LOOKAHEAD_S,
    ) -> None:
        self.ecg_fs_hz = ecg_fs_hz
        self.acc_fs_hz = acc_fs_hz
        self.lookahead_s = lookahead_s
        self.label_counts: dict[BeatClass, int] = dict.fromkeys(BeatClass, 0)
        """Beats per label since the start (all segments)."""
        self.beats_total = 0
        self._ecg_segment: int | None = None
        self._acc_segment: int | None = None
        self._new_ecg_segment()
        self._new_acc_segment()

    # -- ECG -------------------------------------------------------------------------------
    def _new_ecg_segment(self) -> None:
        self._detector = OnlineRPeakDetector(self.ecg_fs_hz, lookahead_s=self.lookahead_s)
        self._labeller = OnlineBeatLabeller(self.ecg_fs_hz)
        keep = round(_TIME_KEEP_S * self.ecg_fs_hz)
        self._times: deque[float] = deque(maxlen=keep)
        self._n = 0
        """Samples fed in this segment (the absolute index of the next one)."""
        self._last_beat_s: float | None = None
        self._peaks: deque[tuple[float, float]] = deque()
        """(time, |amplitude|) of this segment's recent beats, for ECG-derived respiration."""

    def ecg(
        self, t_s: NDArray[np.floating], samples_uv: NDArray[np.integer], segment: int = 0
    ) -> list[LiveBeat]:
        """One frame of ECG samples and their session times; the beats that became final."""
        if len(t_s) != len(samples_uv):
            raise ValueError("t_s and samples_uv must be equally long")
        if segment != self._ecg_segment:
            if self._ecg_segment is not None:
                self._new_ecg_segment()
            self._ecg_segment = segment
        if len(t_s) == 0:
            return []
        self._times.extend(np.asarray(t_s, np.float64).tolist())
        self._n += len(t_s)
        found = self._detector.feed(samples_uv)
        if len(found.position) == 0:
            return []
        first_kept = self._n - len(self._times)
        times = np.fromiter(self._times, np.float64, len(self._times))
        local = found.position - first_kept
        at = np.interp(local, np.arange(len(times), dtype=np.float64), times)
        newest = times[-1]
        out: list[LiveBeat] = []
        for pos, t_beat, amp in zip(found.position, at, found.amplitude_uv, strict=True):
            label = BeatClass(
                self._labeller.push(self._detector.wide, self._detector.start, round(pos))
            )
            t = float(t_beat)
            rr = None if self._last_beat_s is None else 1000.0 * (t - self._last_beat_s)
            self._last_beat_s = t
            self._peaks.append((t, abs(float(amp))))
            self.label_counts[label] += 1
            self.beats_total += 1
            out.append(LiveBeat(t, label, float(amp), rr, float(newest - t), segment))
        horizon = newest - BREATH_WINDOW_S
        while self._peaks and self._peaks[0][0] < horizon:
            self._peaks.popleft()
        return out

    # -- ACC -------------------------------------------------------------------------------
    def _new_acc_segment(self) -> None:
        keep = round(BREATH_WINDOW_S * BREATH_FS_HZ)
        self._acc_t: deque[float] = deque(maxlen=keep)
        self._acc: deque[tuple[float, float, float]] = deque(maxlen=keep)
        self._carry_t = np.empty(0)
        self._carry = np.empty((0, 3))
        self._next_breath_s: float | None = None

    def acc(
        self, t_s: NDArray[np.floating], samples_mg: NDArray[np.integer], segment: int = 0
    ) -> Breathing | None:
        """One frame of ACC samples (n, 3) in mg; a new breathing estimate when one is due."""
        if segment != self._acc_segment:
            if self._acc_segment is not None:
                self._new_acc_segment()
            self._acc_segment = segment
        q = max(1, round(self.acc_fs_hz / BREATH_FS_HZ))
        t = np.concatenate([self._carry_t, np.asarray(t_s, np.float64)])
        a = np.concatenate([self._carry, np.asarray(samples_mg, np.float64).reshape(-1, 3)])
        whole = len(t) // q * q
        self._carry_t, self._carry = t[whole:], a[whole:]
        if whole:
            self._acc_t.extend(t[:whole].reshape(-1, q).mean(axis=1).tolist())
            self._acc.extend(map(tuple, a[:whole].reshape(-1, q, 3).mean(axis=1).tolist()))
        if not self._acc_t:
            return None
        now = self._acc_t[-1]
        if self._next_breath_s is None:
            self._next_breath_s = self._acc_t[0] + BREATH_MIN_S
        if now < self._next_breath_s:
            return None
        self._next_breath_s = now + BREATH_EVERY_S
        return Breathing(now, self._chest(now), self._edr(now))

    def _chest(self, now: float) -> BreathEstimate | None:
        span = self._acc_t[-1] - self._acc_t[0]
        if span < BREATH_MIN_S - 1.0 / BREATH_FS_HZ:
            return None
        window = min(BREATH_WINDOW_S, len(self._acc) / BREATH_FS_HZ)
        result = acc_breathing_rate(
            np.asarray(self._acc), BREATH_FS_HZ, window_s=window, step_s=window
        )
        return _last(result.rate_bpm, result.se_bpm, now, window, result.method)

    def _edr(self, now: float) -> BreathEstimate | None:
        if len(self._peaks) < 10:
            return None
        t = np.fromiter((p[0] for p in self._peaks), np.float64, len(self._peaks))
        amp = np.fromiter((p[1] for p in self._peaks), np.float64, len(self._peaks))
        span = float(t[-1] - t[0])
        if span < BREATH_MIN_S:
            return None
        window = min(BREATH_WINDOW_S, span - 0.5)
        result = edr_breathing_rate(t, amp, window_s=window, step_s=window)
        return _last(result.rate_bpm, result.se_bpm, now, window, result.method)


def _last(rate: F64, se: F64, now: float, window_s: float, method: str) -> BreathEstimate | None:
    if len(rate) == 0 or not math.isfinite(float(rate[-1])):
        return None
    return BreathEstimate(now, float(rate[-1]), float(se[-1]), window_s, method)
