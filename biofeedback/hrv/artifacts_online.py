"""Lipponen & Tarvainen (2019) beat classification: the shared rule and the online detector.

Lipponen JA, Tarvainen MP (2019), A robust algorithm for heart rate variability time series
artefact correction using novel beat classification, J Med Eng Technol 43(3):173-181,
doi:10.1080/03091902.2019.1640306.

The online detector labels each pushed RR interval two beats later (the rule's S22 subspace needs
``dRR[i+1]`` and ``dRR[i+2]``). Its windows are *trailing*: the 91-beat quartile deviation of
``dRR`` and the 11-beat median end at the newest (lookahead) beat, the 91-beat quartile deviation
of ``mRR`` ends at the labelled beat (QD of the signed series, see :mod:`.artifacts`). Each window
is a bounded sorted list, so a push costs O(window) memory moves, never a pass over history. The
batch form with centred windows is :mod:`biofeedback.hrv.artifacts`.
"""

from __future__ import annotations

import enum
import math
from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

ALPHA: Final = 5.2
C1: Final = 0.13
C2: Final = 0.17
WINDOW_QD_BEATS: Final = 91
WINDOW_MEDIAN_BEATS: Final = 11
RR_GATE_MIN_MS: Final = 250.0
RR_GATE_MAX_MS: Final = 2500.0
ROBUST_TH1_CAP: Final = 0.2
"""Robust mode: the dRR threshold never exceeds this fraction of the local median RR (Malik's
20 % rule: Malik M et al. 1993, Eur Heart J 14:1473, doi:10.1093/eurheartj/14.11.1473)."""
ROBUST_WARMUP_BEATS: Final = 20
"""Robust mode: differences taken into the dRR window as they come, before any is judged."""
"""Robust mode: differences accepted into the threshold windows before any beat is judged."""

BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]
LabelArray = NDArray[np.int8]


class BeatLabel(enum.IntEnum):
    """What the detector decided about one RR interval."""

    NORMAL = 0
    ECTOPIC = 1
    MISSED = 2
    EXTRA = 3
    LONG = 4
    SHORT = 5
    OUT_OF_RANGE = 6


_PATTERN_LABELS: Final = (BeatLabel.ECTOPIC, BeatLabel.MISSED, BeatLabel.EXTRA)
"""Robust mode: beats with these labels never enter the threshold windows."""

INTERPOLATED_LABELS: Final = (
    BeatLabel.ECTOPIC,
    BeatLabel.LONG,
    BeatLabel.SHORT,
    BeatLabel.OUT_OF_RANGE,
)


@dataclass(frozen=True, slots=True)
class LabelledBeat:
    """One pushed RR interval with its final label and what replaces it in the NN series (ms).

    ``nn_ms`` is ``(rr,)`` if normal, two halves if missed, ``()`` if extra (its time is merged
    into the next interval) and one interpolated value for ectopic, long, short or out of range.
    """

    index: int
    rr_ms: float
    label: BeatLabel
    nn_ms: tuple[float, ...]


def in_range(rr_ms: FloatArray) -> BoolArray:
    """Range gate: ``RR_GATE_MIN_MS <= rr <= RR_GATE_MAX_MS`` (NaN and ±inf are out)."""
    return (rr_ms >= RR_GATE_MIN_MS) & (rr_ms <= RR_GATE_MAX_MS)


def ectopic_and_candidates(
    d_prev: FloatArray, d: FloatArray, d_next: FloatArray
) -> tuple[BoolArray, BoolArray]:
    """Subspace 1 (S11, S12) on normalised dRR: ectopic beats and long/short candidates.

    Returns ``(ectopic, candidate)``; a candidate passed the ``|dRR| > 1`` gate but is not ectopic.
    """
    s12 = np.where(
        d > 0, np.maximum(d_prev, d_next), np.where(d < 0, np.minimum(d_prev, d_next), 0.0)
    )
    primary = np.abs(d) > 1.0
    ectopic = primary & (((d > 1.0) & (s12 < -C1 * d - C2)) | ((d < -1.0) & (s12 > -C1 * d + C2)))
    return ectopic, primary & ~ectopic


def classify(
    d: FloatArray,
    d_next: FloatArray,
    d_next2: FloatArray,
    m: FloatArray,
    rr_ms: FloatArray,
    rr_next_ms: FloatArray,
    med_ms: FloatArray,
    th2_ms: FloatArray,
    ectopic: BoolArray,
    evaluate: BoolArray,
) -> LabelArray:
    """Subspace 2 (S21, S22), the median criterion and the missed/extra tests (paper, Fig. 1).

    ``evaluate`` marks beats examined as long/short: the candidates themselves and the beat after
    a candidate when ``|dRR[i+1]| < |dRR[i+2]|``. ``rr_next_ms`` is NaN where unknown (never extra).
    """
    s22 = np.where(d >= 0, np.minimum(d_next, d_next2), np.maximum(d_next, d_next2))
    long_ = (d > 1.0) & (s22 < -1.0)
    short = (d < -1.0) & (s22 > 1.0)
    deviant = evaluate & (long_ | short | (np.abs(m) > 3.0))
    missed = deviant & long_ & (np.abs(rr_ms / 2.0 - med_ms) < th2_ms)
    with np.errstate(invalid="ignore"):
        extra = deviant & short & (np.abs(rr_ms + rr_next_ms - med_ms) < th2_ms)
    labels = np.zeros(d.shape, dtype=np.int8)
    is_long = long_ | (~short & (m > 0))
    labels[deviant] = np.where(is_long[deviant], BeatLabel.LONG, BeatLabel.SHORT)
    labels[missed] = BeatLabel.MISSED
    labels[extra] = BeatLabel.EXTRA
    labels[ectopic] = BeatLabel.ECTOPIC
    return labels


def normalise(value: FloatArray, threshold: FloatArray) -> FloatArray:
    """``value / threshold``; a zero threshold (flat window) maps 0 to 0 and the rest to ±inf."""
    out = np.where(value == 0, 0.0, np.copysign(np.inf, value))
    np.divide(value, threshold, out=out, where=threshold > 0)
    return out


def lerp(a: float, b: float, t: float) -> float:
    """Linear interpolation written exactly as numpy's ``quantile`` does it, so both forms agree."""
    diff = b - a
    return b - diff * (1.0 - t) if t >= 0.5 else a + diff * t


class _SortedWindow:
    """The last ``size`` values, kept sorted, for exact numpy-linear quantiles in O(size)."""

    __slots__ = ("_fifo", "_size", "_sorted")

    def __init__(self, size: int) -> None:
        self._size = size
        self._fifo: deque[float] = deque()
        self._sorted: list[float] = []

    def add(self, value: float) -> None:
        if len(self._fifo) == self._size:
            del self._sorted[bisect_left(self._sorted, self._fifo.popleft())]
        self._fifo.append(value)
        insort(self._sorted, value)

    @property
    def count(self) -> int:
        return len(self._fifo)

    def quantile(self, q: float) -> float:
        pos = q * (len(self._sorted) - 1)
        lo = int(pos)
        t = pos - lo
        if t == 0.0:
            return self._sorted[lo]
        return lerp(self._sorted[lo], self._sorted[lo + 1], t)

    def qd(self) -> float:
        return (self.quantile(0.75) - self.quantile(0.25)) / 2.0


@dataclass(frozen=True, slots=True)
class _Held:
    """Robust mode: a labelled beat waiting for the next label, with its local median."""

    beat: LabelledBeat
    med_ms: float


@dataclass(slots=True)
class _Pending:
    index: int
    rr_ms: float
    gated_ms: float
    out_of_range: bool
    drr_ms: float
    fed: bool


class OnlineArtifactDetector:
    """Beat-by-beat Lipponen & Tarvainen (2019) labelling with trailing windows.

    doi:10.1080/03091902.2019.1640306. A beat is final once ``lookahead`` later beats are known.
    Differences from the batch form: the windows trail (a beat's QD and median are those of the
    ``window_qd``/``window_median`` beats ending at the newest beat), neighbour differences are
    normalised with the current threshold, and an interpolated interval is replaced by the local
    median (an out-of-range one by interpolation to the next valid interval within the lookahead,
    else the last valid value). Out-of-range intervals before the first valid one are dropped
    (``nn_ms == ()``). The decision rule itself is the batch one (:func:`classify`).

    Edges: after ``reset`` the windows hold only the beats seen so far (pandas ``min_periods=1``),
    so the first beats of a segment are judged against few neighbours; ``flush`` labels the last
    ``lookahead`` beats with the missing later differences counted as 0, as the batch form does.

    ``robust=True`` is this project's extension for sustained ectopy (bigeminy, trigeminy,
    couplets), where the published rule adapts its thresholds to the ectopic rhythm itself
    (README, "Artifact correction"). Four changes, the decision rule unchanged: (1) the two
    quartile-deviation windows skip beats labelled ectopic, missed or extra (a dRR enters only
    when neither of its beats is one; the first ``ROBUST_WARMUP_BEATS`` differences enter as they
    come). Long and short beats do enter: taking only normal beats locked the thresholds at a
    quiet rhythm's spread when breathing became slow and deep (RSA ±250 ms), flagging most beats;
    (2) the dRR threshold is capped at ``ROBUST_TH1_CAP`` x the local median RR; (3) the dRR of a
    beat that follows a corrected one is taken against the replacement, not the raw interval, so
    the sinus beat after an ectopic pair is not flagged; (4) a beat shorter than the local median
    right before an interval labelled ectopic on its long side is labelled ectopic too (both
    intervals around a premature beat are wrong). (4) holds each beat back one more beat:
    labels come three beats late. Every decision depends on the previous ones, so the batch
    functions run this same sequence in robust mode.

    >>> det = OnlineArtifactDetector()
    >>> rr_ms = [800, 810, 790, 805, 795, 810, 800, 790, 805, 1600, 800, 795, 810]
    >>> beats = [beat for rr in rr_ms for beat in det.push(rr)]
    >>> beats[9]
    LabelledBeat(index=9, rr_ms=1600.0, label=<BeatLabel.MISSED: 2>, nn_ms=(800.0, 800.0))
    """

    def __init__(
        self,
        *,
        lookahead: int = 2,
        window_qd: int = WINDOW_QD_BEATS,
        window_median: int = WINDOW_MEDIAN_BEATS,
        robust: bool = False,
    ) -> None:
        if lookahead < 2:
            raise ValueError(f"lookahead must be at least 2 beats, got {lookahead}")
        if window_qd < 1 or window_median < 1:
            raise ValueError("window_qd and window_median must be positive")
        self._lookahead = lookahead
        self._window_qd = window_qd
        self._window_median = window_median
        self._robust = robust
        self.reset()

    def reset(self) -> None:
        """Forget all history, e.g. after a continuity gap; unlabelled beats are discarded."""
        self._next_index = 0
        self._pending: deque[_Pending] = deque()
        self._drr_win = _SortedWindow(self._window_qd)
        self._m_win = _SortedWindow(self._window_qd)
        self._rr = _SortedWindow(self._window_median)
        self._last_gated_ms: float | None = None
        self._prev_labelled_ms: float | None = None
        self._prev_drr_ms = 0.0
        self._after_candidate = False
        self._carry_ms = 0.0
        self._prev_normal = True
        self._prev_clean = True
        self._prev_nn_ms: float | None = None
        self._held: _Held | None = None
        self._last_med_ms = 0.0
        self._last_drr_ms = 0.0

    def push(self, rr_ms: float) -> list[LabelledBeat]:
        """Add one RR interval (ms); returns the beats whose label became final (usually one)."""
        value = float(rr_ms)
        if math.isnan(value):
            raise ValueError("rr_ms must not be NaN")
        index = self._next_index
        self._next_index += 1
        valid = RR_GATE_MIN_MS <= value <= RR_GATE_MAX_MS
        if self._last_gated_ms is None and not valid:
            return [LabelledBeat(index, value, BeatLabel.OUT_OF_RANGE, ())]
        previous = self._last_gated_ms
        gated = value if valid or previous is None else previous
        drr_ms = 0.0 if previous is None else gated - previous
        fed = not self._robust or self._drr_win.count < ROBUST_WARMUP_BEATS
        if fed:
            self._drr_win.add(drr_ms)
        self._last_gated_ms = gated
        self._rr.add(gated)
        self._pending.append(_Pending(index, value, gated, not valid, drr_ms, fed))
        if len(self._pending) > self._lookahead:
            return self._emit(self._label_oldest())
        return []

    def flush(self) -> list[LabelledBeat]:
        """Label the beats still waiting (end of segment), then start afresh as after ``reset``."""
        out = [beat for _ in range(len(self._pending)) for beat in self._emit(self._label_oldest())]
        if self._held is not None:
            out.append(self._held.beat)
        self.reset()
        return out

    def _emit(self, beat: LabelledBeat) -> list[LabelledBeat]:
        """Robust mode: hold each beat until the next is labelled (rule 4 of the class notes)."""
        if not self._robust:
            return [beat]
        held, self._held = self._held, _Held(beat, self._last_med_ms)
        if held is None:
            return []
        if (
            beat.label == BeatLabel.ECTOPIC
            and self._last_drr_ms > 0
            and held.beat.label == BeatLabel.NORMAL
            and held.beat.nn_ms == (held.beat.rr_ms,)
            and held.beat.rr_ms < held.med_ms
        ):
            ectopic = BeatLabel.ECTOPIC
            return [LabelledBeat(held.beat.index, held.beat.rr_ms, ectopic, (held.med_ms,))]
        return [held.beat]

    def _label_oldest(self) -> LabelledBeat:
        beat = self._pending.popleft()
        med = self._rr.quantile(0.5)
        m = beat.gated_ms - med
        m = 2.0 * m if m < 0 else m
        robust = self._robust
        if robust:
            if not self._prev_normal and self._prev_nn_ms is not None:
                beat.drr_ms = beat.gated_ms - self._prev_nn_ms
            if self._m_win.count == 0:
                self._m_win.add(m)
            th1 = min(ALPHA * self._drr_win.qd(), ROBUST_TH1_CAP * med)
        else:
            self._m_win.add(m)
            th1 = ALPHA * self._drr_win.qd()
        # The rule only looks further at a beat past the |dRR| > 1 gate or right after a
        # candidate; skipping numpy for the rest keeps a push at a few microseconds.
        if abs(beat.drr_ms) <= th1 and not self._after_candidate:
            label = BeatLabel.NORMAL
            self._after_candidate = False
        else:
            label = self._classify(beat, med, m, th1)
        self._prev_drr_ms = beat.drr_ms
        if beat.out_of_range:
            label = BeatLabel.OUT_OF_RANGE
        nn = self._replacement(beat, label, med)
        self._prev_labelled_ms = beat.gated_ms
        if robust:
            clean = label not in _PATTERN_LABELS
            if clean and self._prev_clean:
                self._drr_win.add(beat.drr_ms)
            if clean:
                self._m_win.add(m)
            self._prev_clean = clean
            self._prev_normal = label == BeatLabel.NORMAL
            self._prev_nn_ms = nn[-1] if nn else self._prev_nn_ms
            self._last_med_ms, self._last_drr_ms = med, beat.drr_ms
        return LabelledBeat(beat.index, beat.rr_ms, label, nn)

    def _classify(self, beat: _Pending, med: float, m: float, th1: float) -> BeatLabel:
        ahead = [p.drr_ms for p in list(self._pending)[:2]]
        raw = np.array([self._prev_drr_ms, beat.drr_ms, *ahead, 0.0, 0.0][:4])
        d = normalise(raw, np.full(4, th1))
        th2 = np.array([ALPHA * self._m_win.qd()])
        ectopic, candidate = ectopic_and_candidates(d[0:1], d[1:2], d[2:3])
        rr_next = self._pending[0].gated_ms if self._pending else math.nan
        label = classify(
            d[1:2],
            d[2:3],
            d[3:4],
            normalise(np.array([m]), th2),
            np.array([beat.gated_ms]),
            np.array([rr_next]),
            np.array([med]),
            th2,
            ectopic,
            candidate | self._after_candidate,
        )[0]
        self._after_candidate = bool(candidate[0]) and abs(d[2]) < abs(d[3])
        return BeatLabel(label)

    def _replacement(self, beat: _Pending, label: BeatLabel, med: float) -> tuple[float, ...]:
        value = beat.gated_ms + self._carry_ms
        self._carry_ms = 0.0
        if label == BeatLabel.NORMAL:
            return (value,)
        if label == BeatLabel.MISSED:
            return (value / 2.0, value / 2.0)
        if label == BeatLabel.EXTRA:
            self._carry_ms = value
            return ()
        if label != BeatLabel.OUT_OF_RANGE:
            return (med,)
        prev = beat.gated_ms if self._prev_labelled_ms is None else self._prev_labelled_ms
        for k, p in enumerate(self._pending, start=2):
            if not p.out_of_range:
                return (prev + (p.gated_ms - prev) / k,)
        return (prev,)
