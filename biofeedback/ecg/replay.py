"""A recorded session's ECG beat shapes, for replaying its strap intervals as the live run did.

Live, with a Polar H10, the HRV processor asks :class:`~biofeedback.ecg.matching.StrapShapes`
what the ECG beats at both ends of each strap interval look like, and takes the shapes first
(:mod:`biofeedback.hrv.artifacts_shape`). A replay of the session (``show ID --json``'s blocks,
the report) must ask the same question of the stored ECG, or its numbers differ from the live
summary's wherever an ectopic beat's timing alone did not give it away.

:func:`recorded_beats` finds the R-peaks and labels of the stored ECG with the batch functions,
one PMD continuity segment at a time (:func:`~biofeedback.ecg.labels.detect_and_label`: the same
labels as the live labeller, a test; the R-peaks from the same detector without the live one's
150-ms wait), each placed at its session time by the stored sample times. :class:`RecordedShapes`
then feeds them to a fresh :class:`~biofeedback.ecg.matching.StrapShapes` a little ahead of each
strap interval it is asked about (as the live ECG arrives beside the beats), which learns the
offset between the two clocks and matches the intervals exactly as live.

Where the two can still differ: live, an interval whose ECG had not yet arrived when its label
was decided was left to RR timing (at real time about 1 % of the intervals; many more in a
simulation run far faster than real time, whose ECG stage falls behind); the replay has the ECG.

Pure: arrays in, shapes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
from numpy.typing import NDArray

from biofeedback.ecg.labels import BeatClass, detect_and_label
from biofeedback.ecg.matching import SEARCH_S, StrapShapes
from biofeedback.ecg.online import LiveBeat
from biofeedback.hrv.artifacts_shape import IntervalShape

LEAD_S: Final = SEARCH_S + 2.0
"""How far past a strap beat's time the ECG beats are fed before it is matched: the largest
offset between the two clocks the lock considers, and margin."""
MIN_SAMPLES: Final = 260
"""Fewest samples (2 s at 130 Hz) of a continuity segment worth searching for beats."""


def recorded_beats(
    t_s: NDArray[np.floating], ecg_uv: NDArray[np.integer], segment: int, fs_hz: float
) -> list[LiveBeat]:
    """The beats of one continuity segment of stored ECG (samples in time order, their session
    times), labelled by shape, as :class:`LiveBeat` (latency 0: nothing waited for)."""
    times = np.asarray(t_s, dtype=np.float64)
    if times.size != len(ecg_uv):
        raise ValueError("t_s and ecg_uv must be equally long")
    if times.size < MIN_SAMPLES:
        return []
    peaks, labels = detect_and_label(np.asarray(ecg_uv), fs_hz)
    at = np.interp(peaks.position, np.arange(times.size, dtype=np.float64), times)
    out: list[LiveBeat] = []
    last: float | None = None
    for t, label, amp in zip(
        at.tolist(), labels.label.tolist(), peaks.amplitude_uv.tolist(), strict=True
    ):
        rr = None if last is None else 1000.0 * (t - last)
        out.append(LiveBeat(t, BeatClass(label), amp, rr, 0.0, segment))
        last = t
    return out


class RecordedShapes:
    """A shape source (:class:`~biofeedback.hrv.artifacts_shape.ShapeSource`) over recorded
    ECG beats (all segments, in time order): see the module."""

    def __init__(self, beats: Sequence[LiveBeat]) -> None:
        self._beats = beats
        self._next = 0
        self._shapes = StrapShapes()

    @property
    def matched(self) -> int:
        """Strap intervals matched so far."""
        return self._shapes.matched

    def interval_shape(self, t_end_s: float, rr_ms: float, segment: int) -> IntervalShape:
        """What the recorded ECG says about the strap interval of ``rr_ms`` ending at
        ``t_end_s``."""
        stop = self._next
        while stop < len(self._beats) and self._beats[stop].t_s <= t_end_s + LEAD_S:
            stop += 1
        if stop > self._next:
            self._shapes.add(self._beats[self._next : stop])
            self._next = stop
        return self._shapes.interval_shape(t_end_s, rr_ms, segment)
