"""Sustained irregular rhythm (atrial fibrillation and similar) from RR intervals alone.

Under atrial fibrillation the RR sequence is irregularly irregular: RR-interval HRV then measures
the arrhythmia, not vagal tone (the Task Force's HRV assumes sinus rhythm), so the intervals are
withheld from HRV instead of being "corrected" as artifacts or reported as huge variability.
This is not a diagnosis: the rhythm is outside what HRV analysis assumes.

Method: Dash S, Chon KH, Lu S, Raeder EA (2009), Automatic real time detection of atrial
fibrillation, Ann Biomed Eng 37:1701-1709, doi:10.1007/s10439-009-9740-z (FACTS §3.5). Over a
segment of 128 intervals, with its 8 longest and 8 shortest removed (so isolated ectopic beats do
not count): the normalised RMSSD (RMSSD / mean RR) exceeds 0.1, the Shannon entropy of a 16-bin
histogram (normalised by ln 16) exceeds 0.7, and the turning-point ratio of the whole segment is
in [0.54, 0.77] (a random sequence has 2/3; regular alternation such as bigeminy has ~1). All
three must hold. The constants are those of the paper as reproduced by third-party
implementations [S]; the paper reports sensitivity 94.4 % and specificity 95.1 % on the MIT-BIH
AF database [R]. Measured here on the labelled MIT-BIH and LTDB records:
``bench/bench_rhythm.py``.

Frequent ectopic beats (bigeminy, runs of PVCs) also pass these three tests: MIT-BIH 208 and the
real Polar H10 bigeminy file did. A fourth test, this project's, keeps only rhythms that stay
irregular once ectopy is set aside: the RMSSD of the successive differences between intervals that
the robust artifact detector leaves normal, over their mean, must exceed ``KEPT_NRMSSD_MIN``
(0.12, chosen on the labelled half of the records in ``../shared``). Measured there with the edge
refinement below (``bench/bench_rhythm.py``): 91.8 % of the intervals inside annotated AF/flutter
withheld; of all other intervals of those 28 records 5.9 % (MIT-BIH 208, frequent PVCs and
couplets, 42 %; LTDB 14134 18 %; the non-AF rhythms of 201 and 203); none on the clean 21-h
rr_healthy_000, pyHRV's 60-min file, or the Polar H10 bigeminy file. Without the guard: 98 % and
13.6 %.

Segments start every ``STEP_BEATS`` intervals; each interval takes the verdict of the segment
whose centre is nearest; edges are then refined (``EDGE_BEATS``). A
chain shorter than one segment is never withheld (too short to tell).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from biofeedback.hrv.chains import chain_bounds

SEGMENT_BEATS: Final = 128
TRIM_BEATS: Final = 8
STEP_BEATS: Final = 16
NRMSSD_MIN: Final = 0.1
ENTROPY_MIN: Final = 0.7
ENTROPY_BINS: Final = 16
TPR_RANGE: Final = (0.54, 0.77)
EDGE_BEATS: Final = 8
"""A segment that straddles the start of an episode is judged regular until about half of it is
irregular, so each withheld stretch grows outwards (at most a quarter segment) over intervals whose
relative successive differences, RMS over this many intervals, exceed ``NRMSSD_MIN``."""
KEPT_NRMSSD_MIN: Final = 0.12
KEPT_MIN_DIFFERENCES: Final = 10
MESSAGE: Final = (
    "irregular rhythm: RR-HRV does not measure vagal tone here (the rhythm is outside what "
    "HRV analysis assumes; not a diagnosis: if it recurs, ask a doctor)"
)

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class SegmentFeatures:
    """Dash et al. (2009) features of each evaluated segment, and its verdict."""

    start: NDArray[np.intp]
    nrmssd: FloatArray
    entropy: FloatArray
    tpr: FloatArray
    irregular: BoolArray


def segment_features(
    rr_ms: ArrayLike, step: int = STEP_BEATS, ectopic: ArrayLike | None = None
) -> SegmentFeatures:
    """Features of the ``SEGMENT_BEATS`` segments starting every ``step`` intervals (RR in ms).

    ``ectopic`` (one flag per interval, e.g. labels of the robust detector) enables the fourth
    test of the module notes; without it only Dash et al.'s three apply.

    >>> rng = np.random.default_rng(0)
    >>> bool(segment_features(rng.uniform(400, 1000, 300)).irregular.all())
    True
    >>> bool(segment_features(800 + 20 * np.sin(np.arange(300) / 3)).irregular.any())
    False
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    if rr.ndim != 1:
        raise ValueError(f"rr_ms must be one-dimensional, got shape {rr.shape}")
    if step < 1:
        raise ValueError(f"step must be positive, got {step}")
    if rr.size < SEGMENT_BEATS:
        empty = np.zeros(0)
        return SegmentFeatures(np.zeros(0, np.intp), empty, empty, empty, np.zeros(0, bool))
    starts = np.arange(0, rr.size - SEGMENT_BEATS + 1, step, dtype=np.intp)
    seg = sliding_window_view(rr, SEGMENT_BEATS)[starts]
    # Turning points of the whole segment (Dash: before outlier removal).
    mid, left, right = seg[:, 1:-1], seg[:, :-2], seg[:, 2:]
    turning = ((mid > left) & (mid > right)) | ((mid < left) & (mid < right))
    tpr = turning.sum(axis=1) / (SEGMENT_BEATS - 2)
    # RMSSD and entropy without the 8 longest and 8 shortest intervals, kept in time order.
    order = np.argsort(seg, axis=1, kind="stable")
    keep = np.ones(seg.shape, dtype=bool)
    rows = np.arange(seg.shape[0])[:, None]
    keep[rows, order[:, :TRIM_BEATS]] = False
    keep[rows, order[:, -TRIM_BEATS:]] = False
    trimmed = seg[keep].reshape(seg.shape[0], SEGMENT_BEATS - 2 * TRIM_BEATS)
    rmssd = np.sqrt(np.mean(np.diff(trimmed, axis=1) ** 2, axis=1))
    nrmssd = rmssd / trimmed.mean(axis=1)
    lo, hi = trimmed.min(axis=1, keepdims=True), trimmed.max(axis=1, keepdims=True)
    span = np.where(hi > lo, hi - lo, 1.0)
    bins = np.minimum(((trimmed - lo) / span * ENTROPY_BINS).astype(np.intp), ENTROPY_BINS - 1)
    cells = (rows * ENTROPY_BINS + bins).ravel()
    counts = np.bincount(cells, minlength=seg.shape[0] * ENTROPY_BINS).reshape(-1, ENTROPY_BINS)
    p = counts / trimmed.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=1) / np.log(ENTROPY_BINS)
    irregular = (
        (nrmssd > NRMSSD_MIN)
        & (entropy > ENTROPY_MIN)
        & (tpr >= TPR_RANGE[0])
        & (tpr <= TPR_RANGE[1])
    )
    if ectopic is not None:
        irregular &= _kept_nrmssd(rr, np.asarray(ectopic, dtype=bool), starts) > KEPT_NRMSSD_MIN
    return SegmentFeatures(starts, nrmssd, entropy, tpr, irregular)


def _kept_nrmssd(rr: FloatArray, ectopic: BoolArray, starts: NDArray[np.intp]) -> FloatArray:
    """Per segment: RMSSD over normal-normal neighbours / mean normal interval (0 if too few)."""
    if ectopic.shape != rr.shape:
        raise ValueError(f"ectopic must match rr_ms in shape, got {ectopic.shape}")
    ok = ~ectopic
    pair = (ok[1:] & ok[:-1]).astype(np.float64)
    d2 = np.diff(rr) ** 2 * pair
    cum = np.r_[0.0, np.cumsum(pair)], np.r_[0.0, np.cumsum(d2)]
    cum_ok = np.r_[0.0, np.cumsum(ok)], np.r_[0.0, np.cumsum(np.where(ok, rr, 0.0))]
    stop_d, stop = starts + SEGMENT_BEATS - 1, starts + SEGMENT_BEATS
    n_pairs = cum[0][stop_d] - cum[0][starts]
    n_ok = cum_ok[0][stop] - cum_ok[0][starts]
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.sqrt((cum[1][stop_d] - cum[1][starts]) / n_pairs) / (
            (cum_ok[1][stop] - cum_ok[1][starts]) / n_ok
        )
    return np.where(n_pairs >= KEPT_MIN_DIFFERENCES, value, 0.0)


def irregular_mask(
    rr_ms: ArrayLike,
    segment: ArrayLike | None = None,
    step: int = STEP_BEATS,
    ectopic: ArrayLike | None = None,
) -> BoolArray:
    """One flag per interval: inside sustained irregular rhythm (withhold from HRV).

    Evaluated per continuity chain (equal ``segment`` ids); each interval takes the verdict of
    the segment whose centre is nearest. ``ectopic`` as in :func:`segment_features`.

    >>> rng = np.random.default_rng(1)
    >>> rr = np.r_[800 + 10 * rng.standard_normal(400), rng.uniform(400, 1000, 400)]
    >>> mask = irregular_mask(rr)
    >>> bool(mask[:300].any()), bool(mask[500:].all())
    (False, True)
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    seg = np.zeros(rr.size, np.int64) if segment is None else np.asarray(segment)
    if seg.shape != rr.shape:
        raise ValueError(f"segment must match rr_ms in shape, got {seg.shape} vs {rr.shape}")
    flags = None if ectopic is None else np.asarray(ectopic, dtype=bool)
    out = np.zeros(rr.size, dtype=bool)
    for a, b in chain_bounds(seg):
        chain = rr[a:b]
        feats = segment_features(chain, step, None if flags is None else flags[a:b])
        out[a:b] = _chain_mask(chain, feats, step)
    return out


def _chain_mask(rr: FloatArray, feats: SegmentFeatures, step: int) -> BoolArray:
    """One chain's flags: each interval takes the verdict of the nearest segment centre."""
    if not feats.irregular.any():
        return np.zeros(rr.size, dtype=bool)
    centres = feats.start + SEGMENT_BEATS // 2
    nearest = np.clip(
        np.searchsorted(centres, np.arange(rr.size) - step / 2.0), 0, centres.size - 1
    )
    return _grow(feats.irregular[nearest], _locally_irregular(rr))


def _locally_irregular(rr: FloatArray) -> BoolArray:
    """RMS of the relative successive differences over ``EDGE_BEATS`` intervals > NRMSSD_MIN."""
    rel = np.r_[0.0, np.diff(rr) / rr[:-1]] if rr.size > 1 else np.zeros(rr.size)
    kernel = np.ones(EDGE_BEATS) / EDGE_BEATS
    return np.asarray(np.sqrt(np.convolve(rel * rel, kernel, mode="same")) > NRMSSD_MIN)


def _grow(flagged: BoolArray, irregular_here: BoolArray) -> BoolArray:
    """Extend each flagged run outwards over locally irregular intervals (a quarter segment)."""
    out = flagged.copy()
    n = flagged.size
    edges = np.flatnonzero(np.diff(flagged.astype(np.int8)))
    for e in edges.tolist():
        step, i = (1, e + 1) if flagged[e] else (-1, e)
        for _ in range(SEGMENT_BEATS // 4):
            if not 0 <= i < n or out[i] or not irregular_here[i]:
                break
            out[i] = True
            i += step
    return out


def withheld_mask(rr_ms: ArrayLike, segment: ArrayLike | None = None) -> BoolArray:
    """:func:`irregular_mask` with the ectopy guard fed by the robust artifact detector.

    The guard only ever clears a segment that Dash et al.'s three tests flag, so a chain in
    which they flag none is regular whatever the detector says: the detector (sequential, about
    5 µs a beat) runs only on chains with a candidate segment, and the mask is the same.

    >>> rng = np.random.default_rng(2)
    >>> bool(withheld_mask(rng.uniform(400, 1000, 400)).all())
    True
    """
    from biofeedback.hrv.artifacts import detect_artifacts

    rr = np.asarray(rr_ms, dtype=np.float64)
    seg = np.zeros(rr.size, np.int64) if segment is None else np.asarray(segment)
    if seg.shape != rr.shape:
        raise ValueError(f"segment must match rr_ms in shape, got {seg.shape} vs {rr.shape}")
    out = np.zeros(rr.size, dtype=bool)
    for a, b in chain_bounds(seg):
        chain = rr[a:b]
        feats = segment_features(chain)
        if feats.irregular.any():
            feats = segment_features(chain, ectopic=detect_artifacts(chain, robust=True) != 0)
        out[a:b] = _chain_mask(chain, feats, STEP_BEATS)
    return out
