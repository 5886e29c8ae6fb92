"""Kubios-style threshold correction (and ``none``) beat by beat: the live form of
:mod:`.artifacts_threshold`.

Batch compares every in-range interval with the median of the 11 intervals centred on it (the
ends padded with the edge value) and flags it when it differs by more than the level's threshold
scaled with the chain's mean RR. Online, an interval is labelled once the 5 intervals after it
have arrived (``LOOKAHEAD_BEATS``: about 4-5 s at rest), so its median is exactly the batch
median, the start of a chain padded as batch pads it and its end (a flush, at a continuity break
or the end of the stream) too. What differs from batch:

- the threshold is scaled with the mean of the chain's in-range intervals *known so far* (up to
  the lookahead), not of the whole chain: the first minute of a chain can differ where the heart
  rate drifts;
- a flagged interval is replaced by linear interpolation between the previous accepted NN value
  and the next interval of the lookahead within the threshold of its window's median (or that
  median when there is none), not by a cubic spline through all accepted intervals: the labels
  are the same, the replaced values differ by a few ms;
- an out-of-range interval (:func:`.artifacts_rule.in_range`) waits for the next in-range one
  for its linear fill, as batch fills it; leading ones in a chain are dropped (no NN), as batch.

``none`` corrects nothing: in-range intervals pass unchanged with no delay (an out-of-range one
waits for its fill). Agreement of live and batch labels on real records: ``tests/test_threshold_
online.py``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from biofeedback.hrv.artifacts_rule import (
    RR_GATE_MAX_MS,
    RR_GATE_MIN_MS,
    WINDOW_MEDIAN_BEATS,
    BeatLabel,
    LabelledBeat,
)
from biofeedback.hrv.artifacts_shape import IntervalShape, apply_shape_one
from biofeedback.hrv.artifacts_threshold import THRESHOLD_LEVELS_S, threshold_ms
from biofeedback.hrv.correction_levels import CorrectionLevel

LOOKAHEAD_BEATS = WINDOW_MEDIAN_BEATS // 2
"""Intervals after the labelled one that its median needs (5 of the 11)."""

ShapeArg = IntervalShape | Callable[[], IntervalShape]


@dataclass(slots=True)
class _Item:
    index: int
    rr_ms: float
    x_ms: float | None
    """The value in the median series: the interval, or its linear fill if out of range
    (``None`` until the next in-range interval arrives)."""
    shape: ShapeArg
    out_of_range: bool


class OnlineThresholdDetector:
    """Labels and NN values for one chain at a time, with :data:`LOOKAHEAD_BEATS` lookahead
    (none for ``level="none"``); the same interface as
    :class:`.artifacts_online.OnlineArtifactDetector` (``push``, ``flush``, ``reset``)."""

    def __init__(self, level: CorrectionLevel) -> None:
        if level != "none" and level not in THRESHOLD_LEVELS_S:
            raise ValueError(f"level must be 'none' or a threshold level, got {level!r}")
        self.level = level
        self.lookahead = 0 if level == "none" else LOOKAHEAD_BEATS
        self.reset()

    def reset(self) -> None:
        """Forget the chain (a continuity gap); unlabelled beats are discarded."""
        self._next_index = 0
        self._waiting: deque[_Item] = deque()
        """Pushed, not labelled yet, in order (out-of-range ones included)."""
        self._past: deque[float] = deque(maxlen=LOOKAHEAD_BEATS)
        """The median series' values before the oldest waiting in-range one."""
        self._started = False
        self._last_x: float | None = None
        self._last_x_index = -1
        self._sum = 0.0
        self._count = 0
        self._last_nn: float | None = None

    def push(self, rr_ms: float, shape: ShapeArg = IntervalShape.UNKNOWN) -> list[LabelledBeat]:
        """Add one RR interval (ms); the beats whose label became final."""
        value = float(rr_ms)
        index = self._next_index
        self._next_index += 1
        ok = RR_GATE_MIN_MS <= value <= RR_GATE_MAX_MS
        if not ok and not self._started:
            # Leading out-of-range intervals of a chain: no NN value, as batch drops them.
            return [LabelledBeat(index, value, BeatLabel.OUT_OF_RANGE, ())]
        item = _Item(index, value, value if ok else None, shape, not ok)
        self._waiting.append(item)
        if ok:
            self._started = True
            self._fill(item)
        return self._ready(final=False)

    def flush(self) -> list[LabelledBeat]:
        """Label every waiting beat (end of the chain: the edge value pads the median), then
        start afresh as after :meth:`reset`."""
        if self._last_x is not None:
            for item in self._waiting:
                if item.x_ms is None:  # trailing out-of-range: the last in-range value
                    item.x_ms = self._last_x
        out = self._ready(final=True)
        self.reset()
        return out

    def _fill(self, item: _Item) -> None:
        """Linear fill of the out-of-range intervals since the previous in-range one."""
        assert item.x_ms is not None
        gap = [w for w in self._waiting if w.x_ms is None]
        if gap and self._last_x is not None:
            span = item.index - self._last_x_index
            for w in gap:
                frac = (w.index - self._last_x_index) / span
                w.x_ms = self._last_x + frac * (item.x_ms - self._last_x)
        for w in [*gap, item]:
            assert w.x_ms is not None
            self._sum += w.x_ms
            self._count += 1
        self._last_x, self._last_x_index = item.x_ms, item.index

    def _ready(self, *, final: bool) -> list[LabelledBeat]:
        out: list[LabelledBeat] = []
        while self._waiting:
            head = self._waiting[0]
            if head.x_ms is None:
                break
            known = [w.x_ms for w in self._waiting if w.x_ms is not None]
            if not final and len(known) <= self.lookahead:
                break
            ahead = known[1 : 1 + self.lookahead]
            self._waiting.popleft()
            out.append(self._label(head, head.x_ms, ahead))
            self._past.append(head.x_ms)
        return out

    def _label(self, item: _Item, x: float, ahead: list[float]) -> LabelledBeat:
        shape = item.shape() if callable(item.shape) else item.shape
        if self.level == "none":
            label = BeatLabel.OUT_OF_RANGE if item.out_of_range else BeatLabel.NORMAL
            return self._out(item, label, x)
        half = LOOKAHEAD_BEATS
        before = list(self._past)
        before = [before[0] if before else x] * (half - len(before)) + before
        after = ahead + [ahead[-1] if ahead else x] * (half - len(ahead))
        window = sorted([*before, x, *after])
        median = window[half]
        threshold = threshold_ms(self.level, self._sum / self._count)
        if item.out_of_range:
            label = BeatLabel.OUT_OF_RANGE
        elif abs(x - median) > threshold:
            label = BeatLabel.LONG if x > median else BeatLabel.SHORT
        else:
            label = BeatLabel.NORMAL
        label = apply_shape_one(label, shape)
        if label == BeatLabel.NORMAL:
            return self._out(item, label, x)
        steps, target = next(
            ((k, v) for k, v in enumerate(ahead, 1) if abs(v - median) <= threshold),
            (1, median),
        )
        last = self._last_nn
        nn = target if last is None else last + (target - last) / (steps + 1)
        return self._out(item, label, nn)

    def _out(self, item: _Item, label: BeatLabel, nn: float) -> LabelledBeat:
        self._last_nn = nn
        return LabelledBeat(item.index, item.rr_ms, label, (nn,))
