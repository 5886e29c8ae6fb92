"""Sustained irregular rhythm (atrial fibrillation and similar) from RR intervals alone.

Under atrial fibrillation the RR sequence is irregularly irregular: RR-interval HRV then measures
the arrhythmia, not vagal tone (the Task Force's HRV assumes sinus rhythm), so the intervals are
withheld from HRV instead of being "corrected" as artifacts or reported as huge variability.
This is not a diagnosis: the rhythm is outside what HRV analysis assumes.

Method (FACTS §3.5), per segment of 128 intervals starting every ``STEP_BEATS``:

1. Dash S, Chon KH, Lu S, Raeder EA (2009), Automatic real time detection of atrial
   fibrillation, Ann Biomed Eng 37:1701-1709, doi:10.1007/s10439-009-9740-z. With the segment's 8
   longest and 8 shortest intervals removed (so isolated ectopic beats do not count): the
   normalised RMSSD (RMSSD / mean RR) exceeds 0.1, the Shannon entropy of a 16-bin histogram
   (normalised by ln 16) exceeds 0.7, and the turning-point ratio of the whole segment is in
   [0.54, 0.77] (a random sequence has 2/3; regular alternation such as bigeminy has ~1). The
   constants are those of the paper as reproduced by third-party implementations [S]; the paper
   reports sensitivity 94.4 % and specificity 95.1 % on the MIT-BIH AF database [R].
2. Lake DE, Moorman JR (2011), Accurate estimation of entropy in very short physiological time
   series: the problem of atrial fibrillation detection in implanted ventricular devices, Am J
   Physiol Heart Circ Physiol 300:H319-H325, doi:10.1152/ajpheart.00561.2010: the coefficient of
   sample entropy COSEn = SampEn(m = 1, r) + ln(2r) − ln(mean RR), r = 30 ms, over the whole
   segment, must exceed ``COSEN_MIN``. Frequent ectopic beats (bigeminy, trigeminy, PVCs with
   compensatory pauses) pass Dash's three tests, but their short-long patterns repeat, so the
   next interval is predictable from the current one and sample entropy is low; under AF it is
   not. For a memoryless Gaussian RR sequence COSEn ≈ ln(2√π·CV), so −0.9 is the
   unpredictability of independent intervals with a coefficient of variation of 11.5 %. The
   paper's own cut-off (−1.4, for 12-beat segments [R]) is too lenient against ectopy here; −0.9
   was chosen on the labelled half of the records in ``../shared`` (``bench/bench_labelled.py``).
3. Sustained, with hysteresis: a segment counts only inside a run of at least
   ``CONFIRM_SEGMENTS`` consecutive segments that pass 1 and 2 (irregular over at least
   128 + 4·16 = 192 intervals), so a stretch of dense ectopy that looks random once or twice is
   not withheld; the run then extends by one segment at each end that passes Dash's tests alone
   (a segment straddling an onset is half sinus, which lowers its COSEn, so without this the
   first ~16 intervals of an episode were left to the artifact detector).

Each interval takes the verdict of the segment whose centre is nearest; edges are then refined
(``EDGE_BEATS``). A chain shorter than one segment is never withheld (too short to tell). The
decision uses RR alone (not the artifact labels), so every correction level withholds the same
intervals, batch and sliding windows alike. Measured on the labelled records: bench/results.
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
COSEN_R_MS: Final = 30.0
"""Lake & Moorman's (2011) starting tolerance for the m = 1 template match (ms)."""
COSEN_MIN: Final = -0.9
"""COSEn cut-off (module notes, step 2)."""
CONFIRM_SEGMENTS: Final = 5
"""Consecutive irregular segments needed (module notes, step 3)."""
EXTEND_SEGMENTS: Final = 1
"""Hysteresis at each end of a confirmed run (module notes, step 3)."""
CONFIRMED_SPAN_BEATS: Final = SEGMENT_BEATS + (CONFIRM_SEGMENTS - 1) * STEP_BEATS
"""The intervals a live confirmation covers (:class:`OnlineRhythm`): when it turns irregular,
the newest this many intervals were all inside irregular segments (192: 128 + 4 steps of 16)."""
ONSET_LOOKBACK_BEATS: Final = CONFIRMED_SPAN_BEATS + SEGMENT_BEATS // 4
"""Intervals :func:`live_onset` looks back on: the confirmed span and the quarter segment the
batch decision may grow an episode by (``_grow``)."""
EDGE_BEATS: Final = 8
"""A segment that straddles the start of an episode is judged regular until about half of it is
irregular, so each withheld stretch grows outwards (at most a quarter segment) over intervals whose
relative successive differences, RMS over this many intervals, exceed ``NRMSSD_MIN``."""
METHOD: Final = (
    "Dash et al. 2009 (doi:10.1007/s10439-009-9740-z) + COSEn > -0.9 (Lake & Moorman 2011, "
    "doi:10.1152/ajpheart.00561.2010), sustained over 5 segments of 128 intervals"
)
"""What the JSON's ``rhythm.method`` names."""
SUSPECTED: Final = (
    "irregular rhythm suspected (being checked): these values may measure the rhythm, not vagal "
    "tone"
)
"""The live flag while :attr:`OnlineRhythm.suspected`."""
MESSAGE: Final = (
    "irregular rhythm: RR-HRV does not measure vagal tone here (the rhythm is outside what "
    "HRV analysis assumes; not a diagnosis: if it recurs, ask a doctor)"
)
_COSEN_CHUNK: Final = 64

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class SegmentFeatures:
    """Features of each evaluated segment, and its verdict.

    ``cosen`` is NaN where Dash et al.'s three tests already call the segment regular (it is
    only computed where it can change the verdict); ``irregular`` is the verdict of steps 1-2 of
    the module notes, before the confirmation of step 3.
    """

    start: NDArray[np.intp]
    nrmssd: FloatArray
    entropy: FloatArray
    tpr: FloatArray
    cosen: FloatArray
    irregular: BoolArray


def cosen(rr_ms: ArrayLike, r_ms: float = COSEN_R_MS) -> float:
    """Coefficient of sample entropy (Lake & Moorman 2011) of one RR sequence (ms), m = 1.

    SampEn = −ln(A/B) (Richman & Moorman 2000), B the pairs of the first n − 1 intervals within
    ``r_ms`` of each other, A those whose next intervals match too; COSEn = SampEn + ln(2r/mean).
    No matching pair of length 2 (A = 0) gives +inf: as unpredictable as it can be measured.

    >>> round(cosen(800 + 10 * np.sin(np.arange(100))), 2)
    -2.59
    >>> round(cosen(np.random.default_rng(0).uniform(400, 1000, 128)), 1) > -0.9
    True
    """
    x = np.asarray(rr_ms, dtype=np.float64)
    return float(_cosen_rows(x[None, :], r_ms)[0])


def _cosen_rows(seg: FloatArray, r_ms: float) -> FloatArray:
    """COSEn of each row of ``seg`` (segments of equal length), by pairwise template distances."""
    out = np.empty(seg.shape[0])
    n = seg.shape[1]
    iu = np.triu_indices(n - 1, 1)
    for lo in range(0, seg.shape[0], _COSEN_CHUNK):
        block = seg[lo : lo + _COSEN_CHUNK]
        a, b = block[:, :-1], block[:, 1:]
        near1 = np.abs(a[:, :, None] - a[:, None, :]) <= r_ms
        near2 = near1 & (np.abs(b[:, :, None] - b[:, None, :]) <= r_ms)
        pairs_b = near1[:, iu[0], iu[1]].sum(axis=1)
        pairs_a = near2[:, iu[0], iu[1]].sum(axis=1)
        with np.errstate(divide="ignore"):
            sampen = np.where(pairs_a > 0, np.log(pairs_b / np.maximum(pairs_a, 1)), np.inf)
        out[lo : lo + block.shape[0]] = sampen + np.log(2.0 * r_ms / block.mean(axis=1))
    return out


def segment_features(rr_ms: ArrayLike, step: int = STEP_BEATS) -> SegmentFeatures:
    """Features of the ``SEGMENT_BEATS`` segments starting every ``step`` intervals (RR in ms).

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
        return SegmentFeatures(np.zeros(0, np.intp), empty, empty, empty, empty, np.zeros(0, bool))
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
    dash = (
        (nrmssd > NRMSSD_MIN)
        & (entropy > ENTROPY_MIN)
        & (tpr >= TPR_RANGE[0])
        & (tpr <= TPR_RANGE[1])
    )
    coefficient = np.full(starts.size, np.nan)
    if dash.any():
        coefficient[dash] = _cosen_rows(seg[dash], COSEN_R_MS)
    irregular = dash & (np.nan_to_num(coefficient, nan=-np.inf) > COSEN_MIN)
    return SegmentFeatures(starts, nrmssd, entropy, tpr, coefficient, irregular)


def _runs(flags: BoolArray) -> list[tuple[int, int]]:
    """``(start, stop)`` of each run of True."""
    bounds = np.flatnonzero(np.diff(np.r_[0, flags.astype(np.int8), 0])).reshape(-1, 2)
    return [(int(a), int(b)) for a, b in bounds]


def _confirmed(feats: SegmentFeatures) -> BoolArray:
    """Step 3 of the module notes: runs of at least ``CONFIRM_SEGMENTS`` irregular segments,
    each extended by up to ``EXTEND_SEGMENTS`` adjacent segments that pass Dash's tests alone."""
    dash = np.isfinite(feats.cosen)
    out = np.zeros(feats.irregular.size, dtype=bool)
    runs = [(a, b) for a, b in _runs(feats.irregular) if b - a >= CONFIRM_SEGMENTS]
    for a, b in runs:
        out[a:b] = True
        for side in (range(a - 1, a - 1 - EXTEND_SEGMENTS, -1), range(b, b + EXTEND_SEGMENTS)):
            for i in side:
                if not 0 <= i < out.size or not dash[i]:
                    break
                out[i] = True
    return out


def irregular_mask(
    rr_ms: ArrayLike, segment: ArrayLike | None = None, step: int = STEP_BEATS
) -> BoolArray:
    """One flag per interval: inside sustained irregular rhythm (withhold from HRV).

    Evaluated per continuity chain (equal ``segment`` ids); each interval takes the verdict of
    the segment whose centre is nearest (module notes).

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
    out = np.zeros(rr.size, dtype=bool)
    for a, b in chain_bounds(seg):
        chain = rr[a:b]
        out[a:b] = _chain_mask(chain, segment_features(chain, step), step)
    return out


def withheld_mask(rr_ms: ArrayLike, segment: ArrayLike | None = None) -> BoolArray:
    """The intervals HRV withholds as irregular rhythm: :func:`irregular_mask` at its defaults.

    >>> rng = np.random.default_rng(2)
    >>> bool(withheld_mask(rng.uniform(400, 1000, 400)).all())
    True
    """
    return irregular_mask(rr_ms, segment)


def _chain_mask(rr: FloatArray, feats: SegmentFeatures, step: int) -> BoolArray:
    """One chain's flags: each interval takes the verdict of the nearest segment centre."""
    verdict = _confirmed(feats)
    if not verdict.any():
        return np.zeros(rr.size, dtype=bool)
    centres = feats.start + SEGMENT_BEATS // 2
    nearest = np.clip(
        np.searchsorted(centres, np.arange(rr.size) - step / 2.0), 0, centres.size - 1
    )
    return _grow(verdict[nearest], _locally_irregular(rr))


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


def live_onset(rr_ms: ArrayLike) -> int:
    """Where an episode the live check just confirmed began, as an index into ``rr_ms`` (the
    newest up to :data:`ONSET_LOOKBACK_BEATS` intervals of the chain, ms): the start of the
    confirmed span, grown back over locally irregular intervals as the batch decision grows it
    (a segment straddling the onset is judged regular until about half of it is irregular).

    >>> rng = np.random.default_rng(4)
    >>> rr = np.r_[800 + 10 * np.sin(np.arange(60) / 2), rng.uniform(450, 1000, 190)]
    >>> start = live_onset(rr)
    >>> 55 <= start <= 60
    True
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    start = max(rr.size - CONFIRMED_SPAN_BEATS, 0)
    irregular_here = _locally_irregular(rr)
    for _ in range(SEGMENT_BEATS // 4):
        if start == 0 or not irregular_here[start - 1]:
            break
        start -= 1
    return start


def live_withheld(rr_ms: ArrayLike, *, after_the_fact: bool = True) -> BoolArray:
    """What the live check withholds of one chain (ms), replayed interval by interval.

    ``after_the_fact=False``: the intervals during which :class:`OnlineRhythm` reported
    sustained irregular rhythm as they arrived (what the screen showed at the time).
    ``True``: also, at each confirmation, the intervals back to where the episode began
    (:func:`live_onset`), as the live monitor withholds them from the block estimate and marks
    them on the tachogram once it knows.

    >>> rng = np.random.default_rng(3)
    >>> rr = np.r_[np.full(100, 850.0), rng.uniform(450.0, 1050.0, 400)]
    >>> int(live_withheld(rr, after_the_fact=False).argmax()), int(live_withheld(rr).argmax())
    (287, 96)
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    tracker = OnlineRhythm()
    held = np.zeros(rr.size, dtype=bool)
    for k, value in enumerate(rr.tolist()):
        was = tracker.irregular
        held[k] = tracker.push(value)
        if after_the_fact and held[k] and not was:
            lo = max(k + 1 - ONSET_LOOKBACK_BEATS, 0)
            held[lo + live_onset(rr[lo : k + 1]) : k] = True
    return held


class OnlineRhythm:
    """The same decision beat by beat, for the live monitor: trailing segments, no lookahead.

    Every ``STEP_BEATS`` intervals of the current continuity chain, the last ``SEGMENT_BEATS``
    are judged as one segment (steps 1-2 of the module notes); ``irregular`` is True while the
    last ``CONFIRM_SEGMENTS`` segments were all irregular, and for the one segment after
    (hysteresis) that passes Dash et al.'s tests alone, as in batch. Batch assigns each interval
    the verdict of the nearest segment centre; live can only use segments that end at the newest
    beat, so it switches on about ``SEGMENT_BEATS / 2 + 4·STEP_BEATS`` intervals after batch
    would start withholding, and off up to half a segment late. ``reset`` at a chain break.
    When it turns irregular, the newest :data:`CONFIRMED_SPAN_BEATS` intervals were already
    inside the irregular segments: a caller withholds them after the fact where it can (the
    live block estimate does).

    >>> live = OnlineRhythm()
    >>> rng = np.random.default_rng(3)
    >>> states = [live.push(v) for v in rng.uniform(450.0, 1050.0, 400)]
    >>> states.index(True), states[-1]
    (191, True)
    """

    __slots__ = ("_extended", "_rr", "_run", "_since")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the chain (a continuity gap): nothing is judged until a segment fills again."""
        self._rr: list[float] = []
        self._since = 0
        self._run = 0
        self._extended = False

    @property
    def irregular(self) -> bool:
        """Inside sustained irregular rhythm as of the newest interval."""
        return self._run >= CONFIRM_SEGMENTS or self._extended

    @property
    def suspected(self) -> bool:
        """The newest segment was irregular but the run is not yet confirmed (the next
        ``CONFIRM_SEGMENTS`` − 1 segments decide): the values shown may measure the rhythm."""
        return 0 < self._run < CONFIRM_SEGMENTS

    def push(self, rr_ms: float) -> bool:
        """Add one raw interval (ms) of the current chain; returns :attr:`irregular`."""
        self._rr.append(float(rr_ms))
        if len(self._rr) > SEGMENT_BEATS:
            del self._rr[0]
        self._since += 1
        if len(self._rr) == SEGMENT_BEATS and self._since >= STEP_BEATS:
            self._since = 0
            feats = segment_features(np.asarray(self._rr), STEP_BEATS)
            was = self._run >= CONFIRM_SEGMENTS
            if bool(feats.irregular[0]):
                self._run += 1
                self._extended = False
            else:
                self._extended = was and bool(np.isfinite(feats.cosen[0])) and EXTEND_SEGMENTS > 0
                self._run = 0
        return self.irregular
