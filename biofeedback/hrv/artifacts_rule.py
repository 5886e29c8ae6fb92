"""Lipponen & Tarvainen (2019) beat classification rule, its constants and labels.

Lipponen JA, Tarvainen MP (2019), A robust algorithm for heart rate variability time series
artefact correction using novel beat classification, J Med Eng Technol 43(3):173-181,
doi:10.1080/03091902.2019.1640306. Shared by the batch (:mod:`.artifacts`) and online
(:mod:`.artifacts_online`) detectors.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

ALPHA: Final = 5.2
C1: Final = 0.13
C2: Final = 0.17
WINDOW_QD_BEATS: Final = 91
WINDOW_MEDIAN_BEATS: Final = 11
RR_GATE_MIN_MS: Final = 250.0
RR_GATE_MAX_MS: Final = 2500.0
ROBUST_TH1_CAP: Final = 0.2
"""Robust mode: the dRR threshold (and Th2 of the missed/extra tests) never exceeds this fraction
of the local median RR (Malik's 20 % rule: Malik M et al. 1993, Eur Heart J 14:1473,
doi:10.1093/eurheartj/14.11.1473)."""
ROBUST_TH1_FLOOR: Final = 0.12
"""Robust mode: the dRR threshold is never below this fraction of the local median RR, so a quiet
rhythm (narrow dRR quartiles, at night) does not call a 10 % sinus change ectopic. Chosen in
sample, on the 29 labelled records at hand and the two clean 24-h records (bench/bench_labelled.py;
pooled sensitivity / specificity, share of rr_healthy_000 flagged): none 81.2 % / 99.03 % / 0.54 %
(NSR2DB nsr001 0.47 %), 0.10 80.7 % / 99.18 % / 0.54 %, 0.12 80.3 % / 99.23 % / 0.48 % (nsr001
0.26 %), 0.14 79.8 % / 99.28 % / 0.43 %. The price: premature beats within 12 % of the median
are found only through their pause (rules 4 and 5 of :class:`.OnlineArtifactDetector`)."""
ROBUST_PAUSE_SUM: Final = 0.90
"""Robust mode: a beat labelled short and the interval after it are a premature beat and its
compensatory pause when they add up to at least this fraction of two local median RRs (a
ventricular premature beat leaves the sinus rhythm undisturbed, so the pair spans about two
cycles; an atrial one resets the sinus node and the pair is shorter). Chosen in sample as above:
0.95 79.9 %, 0.92 80.2 %, 0.90 80.3 % (rr_healthy_000 0.48 %); no condition at all 80.7 % with
0.50 % of rr_healthy_000 flagged."""
ROBUST_PAUSE_EXCESS: Final = 0.25
"""Robust mode: that pause must also exceed the local median by this fraction of the dRR threshold
(at least 3 % of the median, with ``ROBUST_TH1_FLOOR``): an interval of median length after an
atrial premature beat is the reset sinus cycle, not a pause. Set on a constructed case (850 ms then
1000 ms among 1000 ms intervals); on the labelled records 0, 0.25 and 0.5 differ by < 0.2 pp."""
ROBUST_WARMUP_BEATS: Final = 20
"""Robust mode: differences taken into the dRR window as they come, before any is judged."""

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


PATTERN_LABELS: Final = (BeatLabel.ECTOPIC, BeatLabel.MISSED, BeatLabel.EXTRA)
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
    by_shape: bool = field(default=False, repr=False, compare=False)
    """Whether beat shapes (an ECG's) were known for the interval (:mod:`.artifacts_shape`):
    then they, not timing alone, decided whether it is ectopic."""


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
        merged = rr_ms + rr_next_ms
        # A merge must give a physiological interval: on a few beats the thresholds are wide
        # enough to call a whole run "extra" (this project's guard, not in the paper).
        extra = deviant & short & (np.abs(merged - med_ms) < th2_ms) & (merged <= RR_GATE_MAX_MS)
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


_CHUNK_ROWS: Final = 8192
"""Windows sorted per block in :func:`window_ranks` (bounds the temporary copy to a few MB)."""


def window_ranks(x: FloatArray, window: int, ranks: tuple[int, ...]) -> FloatArray:
    """Order statistics of every full window: ``out[j, i] = sorted(x[i : i + window])[ranks[j]]``.

    Sorting selects existing values, so this is exactly ``scipy.ndimage.rank_filter`` over the
    windows that lie inside ``x``, at its speed and without importing scipy.ndimage.

    >>> window_ranks(np.array([3.0, 1.0, 2.0, 5.0, 4.0]), 3, (0, 1)).tolist()
    [[1.0, 1.0, 2.0], [2.0, 2.0, 4.0]]
    """
    views = sliding_window_view(x, window)
    out = np.empty((len(ranks), views.shape[0]))
    for start in range(0, views.shape[0], _CHUNK_ROWS):
        block = np.sort(views[start : start + _CHUNK_ROWS], axis=1)
        out[:, start : start + block.shape[0]] = block[:, list(ranks)].T
    return out
