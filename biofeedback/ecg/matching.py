"""Live: the strap's RR beats matched to the ECG stage's R-peaks, for their shapes.

The live HRV runs on the strap's RR intervals (the Heart Rate Service: what the session
records and what every later analysis recomputes); with a Polar H10 the ECG stage
(:mod:`biofeedback.ecg.online`) finds the same heartbeats in the raw ECG and labels their
shapes. :class:`StrapShapes` tells the HRV processor, for each strap interval, what the two
ECG beats that bound it look like (:class:`~biofeedback.hrv.artifacts_shape.IntervalShape`,
the rule of :func:`biofeedback.ecg.artifacts.interval_shapes`), so the artifact stage takes the
shapes first and timing as the fallback (:mod:`biofeedback.hrv.artifacts_shape`).

Why match rather than feed the processor the ECG-derived RR: the recorded session stays the one
the live numbers were computed on (the strap's RR), and a beat the ECG could not place (an
electrode losing contact, motion noise, the ECG stream stopping) falls back to RR-only for that
beat alone, with no change of source or break of the chain.

The two time bases differ by a constant (a strap beat's time is the running sum of its RRs
anchored at the first notification's arrival, which comes up to seconds late; the ECG samples
carry the sensor clock mapped to the session clock), so the offset is learnt, from the beats:

- *lock*: over the last :data:`HISTORY` strap beats, each offset that puts the newest strap beat
  on an ECG beat within :data:`SEARCH_S` is tried; a strap beat agrees when an ECG beat lies
  within :data:`TOLERANCE_S` of it and that ECG beat's interval equals the strap's within
  :data:`RR_TOLERANCE_MS`. The best offset must explain at least :data:`LOCK_MIN` beats and
  beat every other offset (one beat earlier or later) by :data:`LOCK_MARGIN`: in a very regular
  rhythm two alignments explain the beats equally well and nothing is matched (RR-only) until
  the rhythm tells them apart. The offset is then the median of the agreeing beats' residuals;
- *locked*: a strap interval is matched when the ECG beats at both its ends (within
  :data:`TOLERANCE_S` of them after the offset) are consecutive ECG beats (the interval's own
  agreement is not required here: an ectopic beat's R-peak, wide and of another shape, is often
  placed tens of ms from where the strap put it, and those are the beats that matter); the
  offset follows each match between normal beats slowly (1/8 a beat), so a slow drift between
  the clocks is tracked. :data:`UNLOCK_AFTER`
  consecutive strap beats that the ECG covered but did not match drop the lock, and so does a
  new continuity segment on either side (a reconnect re-anchors the strap's beat times and
  restarts the ECG's sensor-clock mapping).

Tolerances: the strap reports RR in 1/1024 s; the R-peaks here have sub-sample (parabolic)
timing at 130 Hz, a few ms (bench_ecg_rpeaks.py); so an interval agrees within 15 ms, and a beat's
time within 60 ms, far below the shortest plausible RR (250 ms, the range gate).

Pure: times in, shapes out; no I/O.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable
from typing import Final

from biofeedback.ecg.labels import BeatClass
from biofeedback.ecg.online import LiveBeat
from biofeedback.hrv.artifacts_shape import IntervalShape

TOLERANCE_S: Final = 0.06
RR_TOLERANCE_MS: Final = 15.0
SEARCH_S: Final = 6.0
"""Largest offset between the strap's beat times and the ECG's that the lock considers."""
HISTORY: Final = 12
LOCK_MIN: Final = 8
LOCK_MARGIN: Final = 3
UNLOCK_AFTER: Final = 4
KEEP_S: Final = 60.0
"""ECG beats kept (s of ECG time)."""
_ECTOPIC: Final = (BeatClass.VENTRICULAR, BeatClass.SUPRAVENTRICULAR)


class StrapShapes:
    """Shapes of the strap's intervals from the ECG's beats (see the module).

    ``add`` the ECG stage's beats as they come; the HRV processor asks :meth:`interval_shape`
    when it labels a strap interval (:class:`~biofeedback.hrv.processor.HrvProcessor`'s shape
    source).
    """

    def __init__(self) -> None:
        self._t: list[float] = []
        self._label: list[int] = []
        self._ecg_segment: int | None = None
        self._strap_segment: int | None = None
        self._history: deque[tuple[float, float]] = deque(maxlen=HISTORY)
        self.offset_s: float | None = None
        """Strap beat time minus ECG beat time, once locked (``None``: not locked)."""
        self._misses = 0
        self.matched = 0
        """Strap intervals matched so far (their shapes were given)."""

    def add(self, beats: Iterable[LiveBeat]) -> None:
        """ECG beats as the ECG stage reported them (in time order)."""
        for beat in beats:
            if beat.segment != self._ecg_segment:
                self._t.clear()
                self._label.clear()
                self._ecg_segment = beat.segment
                self._unlock()
            self._t.append(beat.t_s)
            self._label.append(int(beat.label))
        if self._t and self._t[0] < self._t[-1] - KEEP_S:
            cut = bisect.bisect_left(self._t, self._t[-1] - KEEP_S)
            del self._t[:cut]
            del self._label[:cut]

    def interval_shape(self, t_end_s: float, rr_ms: float, segment: int) -> IntervalShape:
        """What the ECG says about the strap interval of ``rr_ms`` ending at ``t_end_s``."""
        if segment != self._strap_segment:
            self._strap_segment = segment
            self._history.clear()
            self._unlock()
        self._history.append((t_end_s, rr_ms))
        if self.offset_s is None and not self._lock():
            return IntervalShape.UNKNOWN
        assert self.offset_s is not None
        target = t_end_s - self.offset_s
        if not self._t or self._t[-1] < target + TOLERANCE_S:
            return IntervalShape.UNKNOWN  # the ECG has not got there (yet)
        j = self._at_both_ends(target, rr_ms)
        if j is None:
            self._misses += 1
            if self._misses >= UNLOCK_AFTER:
                self._unlock()
            return IntervalShape.UNKNOWN
        self._misses = 0
        start, end = self._label[j - 1], self._label[j]
        if start == end == BeatClass.NORMAL:  # an ectopic R-peak's timing is its own
            self.offset_s += (t_end_s - self._t[j] - self.offset_s) / 8.0
        self.matched += 1
        if start in _ECTOPIC or end in _ECTOPIC:
            return IntervalShape.ECTOPIC
        if BeatClass.UNKNOWN in (start, end):
            return IntervalShape.UNKNOWN
        return IntervalShape.NORMAL

    def _unlock(self) -> None:
        self.offset_s = None
        self._misses = 0

    def _at_both_ends(self, target_s: float, rr_ms: float) -> int | None:
        """The ECG beat within tolerance of ``target_s`` whose predecessor is within tolerance
        of the interval's start, if any (no ECG beat between: consecutive by construction)."""
        t = self._t
        k = bisect.bisect_left(t, target_s)
        start_s = target_s - rr_ms / 1000.0
        for j in (k - 1, k):
            near = 1 <= j < len(t) and abs(t[j] - target_s) <= TOLERANCE_S
            if near and abs(t[j - 1] - start_s) <= TOLERANCE_S:
                return j
        return None

    def _agreeing(self, target_s: float, rr_ms: float) -> int | None:
        """The ECG beat within tolerance of ``target_s`` whose interval agrees, if any."""
        t = self._t
        k = bisect.bisect_left(t, target_s)
        for j in (k - 1, k):
            near = 1 <= j < len(t) and abs(t[j] - target_s) <= TOLERANCE_S
            if near and abs(1000.0 * (t[j] - t[j - 1]) - rr_ms) <= RR_TOLERANCE_MS:
                return j
        return None

    def _lock(self) -> bool:
        if len(self._history) < LOCK_MIN or not self._t:
            return False
        newest = self._history[-1][0]
        lo = bisect.bisect_left(self._t, newest - SEARCH_S)
        hi = bisect.bisect_right(self._t, newest + SEARCH_S)
        scored: list[tuple[int, float, list[float]]] = []
        for j in range(lo, hi):
            offset = newest - self._t[j]
            residuals = []
            for t_s, rr in self._history:
                k = self._agreeing(t_s - offset, rr)
                if k is not None:
                    residuals.append(t_s - self._t[k])
            scored.append((len(residuals), offset, residuals))
        if not scored:
            return False
        scored.sort(key=lambda s: -s[0])
        best, offset, residuals = scored[0]
        rivals = [n for n, o, _ in scored[1:] if abs(o - offset) > TOLERANCE_S]
        if best < LOCK_MIN or (rivals and max(rivals) > best - LOCK_MARGIN):
            return False
        residuals.sort()
        self.offset_s = residuals[len(residuals) // 2]
        self._misses = 0
        return True
