"""Beat labels from shape and timing: normal, ventricular, supraventricular premature, unknown.

The method is the template-matching classifier of Hamilton's open-source ECG analysis software
(OSEA; Hamilton P, "Open source ECG analysis", Computers in Cardiology 2002, 29:101-104,
doi:10.1109/CIC.2002.1166717, after Hamilton & Tompkins 1986, IEEE TBME 33:1157), reduced to a
running *normal-beat template* and the three features that carry most of de Chazal et al.'s
linear discriminant (de Chazal P, O'Dwyer M, Reilly RB 2004, IEEE TBME 51:1196-1206,
doi:10.1109/TBME.2004.827359): how well the QRS matches the template (correlation), how wide
and large it is against the template (QRS width and area ratios), and how early it comes
(prematurity: the preceding RR over the mean RR of the recent normal beats).

Every quantity looks back only, so the batch function and :class:`OnlineBeatLabeller` give the
same labels beat for beat (the online one keeps the last :data:`HORIZON_BEATS` + 1 beats and
the beat-type state of step 8):

1. Each beat's window is the 0.5-40 Hz signal from -100 to +150 ms around its R-peak sample.
2. Pass 1: the template is the mean of the last :data:`HISTORY_BEATS` beats that were *not
   premature* (their RR at least :data:`NOT_PREMATURE` of the median of the 8 RRs before); in
   bigeminy the normal beats are the late ones, so the template is normal even when half the
   beats are ventricular.
3. Pass 2: the template is the mean of the last :data:`HISTORY_BEATS` beats that pass 1
   labelled normal, and the reference RR is the mean of the last RRs between two such beats.
   Both are counted in those beats, up to :data:`TEMPLATE_AGE_BEATS` beats back, not in all
   beats: during a run or a dense stretch of ectopics the template keeps the normal shape
   instead of thinning out (OSEA likewise keeps its dominant-beat template through ectopics).
4. Features against the template, best over lags of ±8 samples (±60 ms, so a peak placed on
   the R in one beat and the S in the next does not look like a new shape): Pearson correlation
   ``r``, the ratio of QRS widths (samples above a quarter of the peak) and of absolute areas.
5. Labels: ventricular when the shape differs (``r`` < :data:`R_DIFFERENT`), or differs somewhat
   (``r`` < :data:`R_SIMILAR`) and is wide, large or premature, unless it matches a recent
   on-time beat (:data:`R_MATCH`); a QRS that differs somewhat and is both much wider
   (:data:`VERY_WIDE`) and larger than the template is ventricular even when it matches a recent
   beat (the QRS width criterion of de Chazal et al. and of OSEA: the beat it matches is an
   earlier ectopic of a couplet, a run or a bigeminy the prematurity test let through);
   supraventricular premature when the shape matches and the beat is premature; unknown while
   fewer than :data:`MIN_TEMPLATE_BEATS` beats form the template (the RR-only rule decides
   those).
6. Noise check (OSEA's: a beat in noise is not classified by shape): a beat that would be
   ventricular is left unknown when the mean absolute second difference of the signal over the
   stretch from 350 to 100 ms before it (but from 200 ms after the previous R-peak) exceeds
   :data:`NOISY` of the median QRS peak-to-peak of the previous beats. Muscle and electrode
   noise deform a normal QRS enough to fail the template; smooth T and P waves barely count.

7. Final labels only (pass 2): a premature beat both wider and larger than the template is
   ventricular below ``r`` :data:`R_CLOSE` even when it matches a recent beat; a beat whose RR
   is at least :data:`ON_TIME` of the reference RR is ventricular only when ``r`` <
   :data:`R_ON_TIME` (on time and only somewhat different is mostly a fusion beat or a normal
   beat in noise); a would-be ventricular beat less than :data:`REFRACTORY` of the reference
   RR after the previous detection is left unknown (one of the two is likely a false
   detection).
8. Beat-type memory (OSEA's beat typing, reduced to what vectorises): each beat joins the type
   of the most similar of the :data:`HISTORY_BEATS` beats before it when their correlation
   exceeds :data:`CHAIN_R`, else it starts a new type; the dominant type is the one with most
   of the last :data:`DOMINANT_BEATS` beats (tracked beat by beat). Steps 3-7 run a second time
   with the template, matches and reference RR taken from the dominant type's on-time beats
   only (up to :data:`DOMINANT_AGE_BEATS` back). A beat of a type that is not the dominant one
   and whose first beat was labelled ventricular (by either run) takes the second run's label;
   every other beat the first's. So a long ventricular run or an idioventricular/escape rhythm
   stays one non-dominant type born ventricular, judged against the pre-run normal template,
   instead of becoming the template as any look-back template does after enough beats.
   The types are state carried beat by beat (unbounded look-back through the chain of types),
   which :class:`OnlineBeatLabeller` carries along the same way.

Thresholds were chosen on the MIT-BIH DS1 half plus the paced records (the bench's data), so the
bench's figures are in-sample; the DS2 half was not used. :data:`ON_TIME`, :data:`R_ON_TIME`,
:data:`R_CLOSE`, :data:`REFRACTORY`, :data:`CHAIN_R`, :data:`DOMINANT_BEATS` and
:data:`DOMINANT_AGE_BEATS` were chosen on DS1 pooled V sensitivity / positive predictivity (small
grids; DOMINANT_AGE_BEATS 256 instead of 512 loses about 2 points of sensitivity, mostly in
records 207 and 223). The numbers are in
``bench/results/ecg_labels.json`` (bench_ecg_labels.py).
"""

from __future__ import annotations

import enum
import warnings
from collections import deque
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.signal import sosfiltfilt

from biofeedback.ecg.rpeaks import RPeaks, _detect, _sos

F64 = NDArray[np.float64]

WINDOW_S: Final = (0.10, 0.15)
"""Beat window before and after the R-peak sample (s)."""
LAG_SAMPLES: Final = 8
HISTORY_BEATS: Final = 24
"""Beats looked back on for the template and the reference RR."""
TEMPLATE_AGE_BEATS: Final = 96
"""The template is the mean of the last :data:`HISTORY_BEATS` beats taken as normal, found
up to this many beats back: in a run of ectopic beats it keeps the normal shape."""
R_CLOSE: Final = 0.95
"""A premature beat that is both wider (:data:`WIDE`) and larger (:data:`LARGE`) than the
template is ventricular below this correlation even when it matches a recent beat (all three
of de Chazal et al.'s features point the same way; a ventricular beat that only resembles the
normal QRS, as in MIT-BIH 223 and 106). Chosen on DS1."""
REFRACTORY: Final = 0.3
"""A beat that would be ventricular but comes less than this share of the reference RR after
the previous detection is left unknown (the RR-only rule decides it): at ~250 ms after a beat
the ventricles are still refractory, so one of the two detections is more likely a T wave or
noise than two beats. Chosen on DS1 (no V beat there below 0.3)."""
CHAIN_R: Final = 0.93
"""Beat types (OSEA's beat typing, reduced): a beat joins the type of the most similar of the
:data:`HISTORY_BEATS` beats before it when their correlation exceeds this, else it starts a
new type. Chosen on DS1."""
DOMINANT_BEATS: Final = 512
"""The dominant type is the one with most beats among this many latest beats."""
DOMINANT_AGE_BEATS: Final = 512
"""The dominant type's template is the mean of its last :data:`HISTORY_BEATS` on-time beats up
to this many beats back (so it outlasts a run of ectopic beats this long). Chosen on DS1."""
RR_MEDIAN_BEATS: Final = 8
MIN_TEMPLATE_BEATS: Final = 4
HORIZON_BEATS: Final = max(2 * TEMPLATE_AGE_BEATS, DOMINANT_AGE_BEATS) + RR_MEDIAN_BEATS + 3
"""How many beats back a label's windows can matter (beyond the beat types, which are carried
along as state): the pass-2 template and the reference RR (the normal beats and the pairs of
them up to TEMPLATE_AGE_BEATS + 1 back; the dominant type's on-time beats up to
DOMINANT_AGE_BEATS + 1 back), the pass-1 labels of the normal beats (the pass-1 template, as far
back again), the not-premature test (the median of 8 RRs before) and the first of those
RRs' starting beat."""
CHUNK_BEATS: Final = 4096
"""Beats labelled per batch step (a day is ~100 000): the steps' arrays stay small enough to be
reused by the allocator rather than mapped afresh; each step repeats :data:`HORIZON_BEATS`
beats before it, so the labels are those of one pass."""
NOT_PREMATURE: Final = 0.92
PREMATURE: Final = 0.85
"""A beat whose RR is under this share of the reference RR is premature."""
R_DIFFERENT: Final = 0.50
R_SIMILAR: Final = 0.90
R_MATCH: Final = 0.90
WIDE: Final = 1.35
LARGE: Final = 1.5
NOISE_S: Final = (0.35, 0.10)
"""The stretch before each R-peak (from, to; s) whose mean absolute second difference is the
beat's noise level (mostly the T-P segment: smooth waves there have a small second difference,
muscle and electrode noise a large one)."""
NOISE_AFTER_S: Final = 0.20
NOISY: Final = 0.03
"""Noise level over the median QRS peak-to-peak of the previous beats above which a beat that
looks ventricular is left unknown instead."""
VERY_WIDE: Final = 1.8
"""A QRS this much wider than the template and :data:`LARGE` is ventricular even when it
matches a recent beat (that beat was the previous ectopic of a couplet or a run)."""
ON_TIME: Final = 0.9
R_ON_TIME: Final = 0.7
"""A beat that comes on time (RR at least :data:`ON_TIME` of the reference RR) is ventricular
only when its shape differs more (``r`` < :data:`R_ON_TIME`): on time and somewhat different is
mostly a fusion of a sinus and a ventricular beat, or a normal beat deformed by noise (de Chazal
et al.'s discriminant likewise weighs the RR features against the morphology). Chosen on DS1."""


class BeatClass(enum.IntEnum):
    """What a beat's shape and timing say (AAMI classes N, S, V; Q for not judged)."""

    NORMAL = 0
    SUPRAVENTRICULAR = 1
    """Premature with a normal QRS (atrial or nodal premature beat)."""
    VENTRICULAR = 2
    UNKNOWN = 3
    """Not judged: too few beats to form a template yet."""


@dataclass(frozen=True, slots=True)
class BeatLabels:
    """One entry per beat of the :class:`RPeaks` they were computed for."""

    label: NDArray[np.int8]
    """:class:`BeatClass` values."""
    correlation: F64
    width_ratio: F64
    area_ratio: F64
    prematurity: F64
    """RR before the beat over the reference RR (NaN for the first beat)."""
    match: F64
    """Best correlation with one of the recent beats that came on time."""
    noise: F64
    """Noise level before the beat over the recent QRS amplitude (see :data:`NOISY`)."""


def _windows(wide: F64, peak: NDArray[np.intp], fs_hz: float) -> F64:
    """Beat windows aligned on the centre of the QRS slope energy (sub-sample, interpolated).

    The R-peak sample is the largest deflection, which for a biphasic QRS may be the R in one
    beat and the S in the next; the centroid of the squared slope within ±60 ms does not jump.
    """
    n = len(wide)
    near = round(0.06 * fs_hz)
    k = np.arange(-near, near + 1)
    pre = round(WINDOW_S[0] * fs_hz) + LAG_SAMPLES
    post = round(WINDOW_S[1] * fs_hz) + LAG_SAMPLES
    # Beats whose windows lie inside the signal are gathered as rows of strided views (one
    # index per beat, no clipping needed); the few near either end by clipped indices.
    inner = (peak - near - 1 - pre >= 0) & (peak + near + post + 1 <= n - 1)
    edge = np.flatnonzero(~inner)
    energy = np.empty((len(peak), len(k)))
    if edge.size < len(peak):
        inside = peak[inner]
        ramp = np.lib.stride_tricks.sliding_window_view(wide, len(k) + 1)[inside - near - 1]
        energy[inner] = np.square(ramp[:, 1:] - ramp[:, :-1])
    if edge.size:
        idx = np.clip(peak[edge, None] + k, 1, n - 1)
        energy[edge] = (wide[idx] - wide[idx - 1]) ** 2
    total = energy.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.where(total > 0, (energy * (k - 0.5)).sum(axis=1) / total, 0.0)
    t = peak + centre
    base = np.floor(t).astype(np.intp)
    frac = (t - base)[:, None]
    out: F64 = np.empty((len(peak), pre + post + 1))
    if edge.size < len(peak):
        rows = np.lib.stride_tricks.sliding_window_view(wide, pre + post + 2)[base[inner] - pre]
        f = frac[inner]
        out[inner] = rows[:, :-1] * (1.0 - f) + rows[:, 1:] * f
    if edge.size:
        j = np.clip(base[edge, None] + np.arange(-pre, post + 1), 0, n - 2)
        f = frac[edge]
        out[edge] = wide[j] * (1.0 - f) + wide[j + 1] * f
    return out


def _noise(wide: F64, peak: NDArray[np.intp], fs_hz: float, previous: NDArray[np.intp]) -> F64:
    """Mean absolute second difference of ``wide`` over :data:`NOISE_S` before each peak, but
    only from :data:`NOISE_AFTER_S` after the previous beat's peak (``previous``; a premature
    beat's stretch would otherwise hold the previous QRS). NaN where nothing is left."""
    lo = round(NOISE_S[0] * fs_hz)
    hi = round(NOISE_S[1] * fs_hz)
    after = round(NOISE_AFTER_S * fs_hz)
    n = len(wide)
    width = lo - hi + 2
    inner = (peak - lo >= 0) & (peak - lo + width <= n)
    rows = np.empty((len(peak), width))
    if inner.any():
        rows[inner] = np.lib.stride_tricks.sliding_window_view(wide, width)[peak[inner] - lo]
    if not inner.all():
        idx = np.clip(peak[~inner, None] - lo + np.arange(width), 0, max(n - 1, 0))
        rows[~inner] = wide[idx]
    d2 = np.abs(rows[:, 2:] - 2.0 * rows[:, 1:-1] + rows[:, :-2])
    first = (peak - lo)[:, None] + np.arange(lo - hi)
    valid = (first >= 0) & (first >= (previous + after)[:, None]) & (first + 2 < n)
    count = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: F64 = np.where(count > 0, (d2 * valid).sum(axis=1) / count, np.nan)
    return out


def _lag_correlations(win: F64) -> F64:
    """Pearson correlation of each window with each of the :data:`HISTORY_BEATS` before it:
    column ``lag - 1`` holds beat ``i`` against beat ``i - lag`` (-1 where there is none)."""
    z = win - win.mean(axis=1, keepdims=True)
    norm = np.sqrt(np.einsum("ij,ij->i", z, z))[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(norm > 0, z / norm, 0.0)
    out: F64 = np.full((len(win), HISTORY_BEATS), -1.0)
    for lag in range(1, min(HISTORY_BEATS, len(win) - 1) + 1):
        out[lag:, lag - 1] = np.einsum("ij,ij->i", z[lag:], z[:-lag])
    return out


def _nearest_match(lag_r: F64, mask: NDArray[np.bool_] | None) -> tuple[F64, NDArray[np.intp]]:
    """Best correlation (:func:`_lag_correlations`) of each beat with one of the beats before
    it in ``mask`` (any if None), and which beat that is (itself where there is none). Only the
    beats of these rows count: row ``i`` is compared with at most ``i`` beats before it."""
    n = len(lag_r)
    best = np.full(n, -1.0)
    which = np.arange(n)
    for lag in range(1, min(lag_r.shape[1], n - 1) + 1):
        r = lag_r[lag:, lag - 1]
        if mask is not None:
            r = np.where(mask[:-lag], r, -1.0)
        better = r > best[lag:]
        best[lag:][better] = r[better]
        which[lag:][better] = np.flatnonzero(better)
    return best, which


def _roots(lag_r: F64) -> NDArray[np.intp]:
    """Each beat's type, as the index of its first beat: a beat whose best correlation with one
    of the :data:`HISTORY_BEATS` before it exceeds :data:`CHAIN_R` has that beat's type."""
    best, which = _nearest_match(lag_r, None)
    root = np.where(best > CHAIN_R, which, np.arange(len(lag_r)))
    while True:  # pointer jumping: parents come earlier, so this ends in log2(chain) steps
        nxt = root[root]
        if np.array_equal(nxt, root):
            return root
        root = nxt


def _dominant(root: NDArray[np.intp]) -> NDArray[np.intp]:
    """The dominant type after each beat: the type with most of the last
    :data:`DOMINANT_BEATS` beats, as tracked beat by beat (a type takes over when one of its
    beats brings it above the current one); :class:`_Dominance` is the same, one beat at a time."""
    # The loop of _Dominance.push, inlined (a day is ~100 000 beats); the types are beat
    # indices here, so their counts are a list.
    recent = root.tolist()
    counts = [0] * len(recent)
    out = [0] * len(recent)
    dominant = recent[0] if recent else 0
    for i, t in enumerate(recent):
        c = counts[t] + 1
        counts[t] = c
        if i >= DOMINANT_BEATS:
            counts[recent[i - DOMINANT_BEATS]] -= 1
        if c > counts[dominant]:
            dominant = t
        out[i] = dominant
    return np.asarray(out, dtype=np.intp)


class _Dominance:
    """:func:`_dominant`, one beat at a time."""

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.recent: deque[int] = deque()
        self.dominant = -1

    def push(self, root: int) -> int:
        counts = self.counts
        c = counts.get(root, 0) + 1
        counts[root] = c
        self.recent.append(root)
        if len(self.recent) > DOMINANT_BEATS:
            old = self.recent.popleft()
            left = counts[old] - 1
            if left:
                counts[old] = left
            else:
                del counts[old]
        if c > counts.get(self.dominant, 0):
            self.dominant = root
        return self.dominant


def _trailing_masked_mean(
    x: F64, mask: NDArray[np.bool_], span: int, max_age: int | None = None
) -> tuple[F64, F64]:
    """Mean of ``x[j]`` over ``j`` in ``[i - span, i)`` where ``mask[j]``, and how many (per i).

    With ``max_age``, the span is the last ``span`` beats *in the mask* (however many beats
    lie between them), but none more than ``max_age`` beats back. ``x`` has beats on axis 0
    (any trailing shape); the mean is NaN where the count is 0.
    """
    m = mask.astype(np.float64)
    total = np.zeros((len(x) + 1, *x.shape[1:]))
    np.multiply(x, m.reshape((-1,) + (1,) * (x.ndim - 1)), out=total[1:])
    total[1:][~mask] = 0.0  # a NaN outside the mask must not enter the sums
    np.cumsum(total[1:], axis=0, out=total[1:])
    count = np.concatenate([[0.0], np.cumsum(m)])
    i = np.arange(len(x))
    lo = np.maximum(i - span, 0)
    if max_age is not None:
        masked = np.flatnonzero(mask)
        before = count[:-1].astype(np.intp)
        """How many mask beats lie before beat i; the span starts at the span-th last one."""
        kth = masked[np.clip(before - span, 0, None)] if len(masked) else np.zeros_like(i)
        lo = np.maximum(np.where(before >= span, kth, 0), i - max_age)
        lo = np.maximum(lo, 0)
    n = count[i] - count[lo]
    s = total[:-1] - total[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean: F64 = s / n.reshape((-1,) + (1,) * (x.ndim - 1))
    return mean, n


def _trailing_median(x: F64, span: int) -> F64:
    """Median of ``x[i - span : i]`` (NaN ignored; NaN where nothing is there)."""
    padded = np.concatenate([np.full(span, np.nan), x])
    view = np.lib.stride_tricks.sliding_window_view(padded, span)[: len(x)]
    # Rows without a NaN take the plain median (much faster than nanmedian), the rest nanmedian.
    nans = np.concatenate([[0], np.cumsum(np.isnan(padded))])
    has_nan = nans[span : span + len(x)] > nans[: len(x)]
    out: F64 = np.empty(len(x))
    out[~has_nan] = np.median(view[~has_nan], axis=1)
    if has_nan.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: the first beats
            out[has_nan] = np.nanmedian(view[has_nan], axis=1)
    return out


def _lag_energy(win: F64) -> F64:
    """Energy about the mean (sum of squared deviations) of each window's core at every lag."""
    n = win.shape[1] - 2 * LAG_SAMPLES
    lags = 2 * LAG_SAMPLES + 1
    c1 = np.concatenate([np.zeros((len(win), 1)), np.cumsum(win, axis=1)], axis=1)
    c2 = np.concatenate([np.zeros((len(win), 1)), np.cumsum(win * win, axis=1)], axis=1)
    s1 = c1[:, n : n + lags] - c1[:, :lags]
    s2 = c2[:, n : n + lags] - c2[:, :lags]
    out: F64 = np.maximum(s2 - s1 * s1 / n, 0.0)
    return out


def _features(win: F64, template: F64, energy: F64 | None = None) -> tuple[F64, F64, F64, F64]:
    """Correlation (best lag), width and area ratios against the template, and the window
    shifted to its best lag. ``energy`` is :func:`_lag_energy` of ``win`` (computed if None)."""
    n = win.shape[1] - 2 * LAG_SAMPLES
    core_t = template[:, LAG_SAMPLES : LAG_SAMPLES + n]
    t0 = core_t - core_t.mean(axis=1, keepdims=True)
    t_norm = np.sqrt(np.einsum("ij,ij->i", t0, t0))
    # Pearson r at every lag: t0 has zero mean, so s0 . t0 = seg . t0, and each lag's energy
    # about its mean comes from running sums along the window (_lag_energy).
    lags = 2 * LAG_SAMPLES + 1
    if energy is None:
        energy = _lag_energy(win)
    view = np.lib.stride_tricks.sliding_window_view(win, n, axis=1)
    dot = np.einsum("ilk,ik->il", view[:, :lags], t0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r_all = dot / (np.sqrt(energy) * t_norm[:, None])
    r_all = np.nan_to_num(r_all, nan=-np.inf)
    best_lag = np.argmax(r_all, axis=1)
    rows = np.arange(len(win))
    best = r_all[rows, best_lag]
    seg = view[rows, best_lag]
    a_seg = np.abs(seg - _baseline(seg))
    a_t = np.abs(core_t - _baseline(core_t))
    width = _width_of(a_seg)
    width_t = _width_of(a_t)
    area = a_seg.sum(axis=1)
    area_t = a_t.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(best, nan=0.0, neginf=0.0), width / width_t, area / area_t, seg


def _width_of(a: F64) -> F64:
    """Samples above a quarter of the largest, per row of absolute deflections ``a``."""
    out: F64 = np.count_nonzero(a > 0.25 * a.max(axis=1, keepdims=True), axis=1).astype(np.float64)
    return out


def _baseline(seg: F64) -> F64:
    """Mean of the window's first three samples (the P-R segment of a normal beat)."""
    out: F64 = seg[:, :3].mean(axis=1, keepdims=True)
    return out


def _decide(
    r: F64,
    match: F64,
    width: F64,
    area: F64,
    prem: F64,
    n_template: F64,
    final: bool = False,
) -> NDArray[np.int8]:
    premature = prem < PREMATURE
    unlike = (r < R_SIMILAR) & (match < R_MATCH)
    different = unlike & ((r < R_DIFFERENT) | (width > WIDE) | (area > LARGE) | premature)
    different |= (r < R_SIMILAR) & (width > VERY_WIDE) & (area > LARGE)
    if final:
        # Premature, wide and large though close in shape: ventricular (see R_CLOSE).
        different |= (r < R_CLOSE) & (width > WIDE) & (area > LARGE) & premature
        # On time and only somewhat different: not ventricular (see ON_TIME).
        different &= ~((prem > ON_TIME) & (r > R_ON_TIME))
    label = np.where(
        different,
        BeatClass.VENTRICULAR,
        np.where(premature, BeatClass.SUPRAVENTRICULAR, BeatClass.NORMAL),
    ).astype(np.int8)
    if final:  # too soon after the previous detection to be judged (see REFRACTORY)
        label[different & (prem < REFRACTORY)] = BeatClass.UNKNOWN
    label[n_template < MIN_TEMPLATE_BEATS] = BeatClass.UNKNOWN
    return label


def _second_pass(
    win: F64,
    lag_r: F64,
    rr: F64,
    energy: F64,
    pool: NDArray[np.bool_],
    matchable: NDArray[np.bool_],
    fallback: tuple[F64, F64],
    age: int,
    noisy: F64,
) -> BeatLabels:
    """Labels against the template of the ``pool`` beats (up to ``age`` back; the pass-1
    template ``fallback`` while there are too few), with the matches among ``matchable``."""
    match, _ = _nearest_match(lag_r, matchable)
    template, count = _trailing_masked_mean(win, pool, HISTORY_BEATS, age)
    few = count < MIN_TEMPLATE_BEATS
    template = np.where(few[:, None], fallback[0], template)
    count = np.where(few, fallback[1], count)
    sinus = pool & np.concatenate([[False], pool[:-1]]) & ~np.isnan(rr)
    ref_rr, _ = _trailing_masked_mean(np.nan_to_num(rr, nan=0.0), sinus, HISTORY_BEATS, age)
    with np.errstate(invalid="ignore", divide="ignore"):
        prem = rr / ref_rr
    r, width, area, _ = _features(win, template, energy)
    label = _decide(r, match, width, area, prem, count, final=True)
    # OSEA's noise check: a beat in noise that does not look normal is not called ventricular.
    label[(label == BeatClass.VENTRICULAR) & (noisy > NOISY)] = BeatClass.UNKNOWN
    return BeatLabels(label, r, width, area, prem, match, noisy)


def _masked_mean_at(
    x: F64, mask: NDArray[np.bool_], rows: NDArray[np.intp], span: int, max_age: int
) -> tuple[F64, F64]:
    """:func:`_trailing_masked_mean` (with ``max_age``) at ``rows`` only, by gathering: the
    mean of ``x`` over the last ``span`` beats in ``mask`` before each row, none more than
    ``max_age`` back, and how many."""
    masked = np.flatnonzero(mask)
    before = np.searchsorted(masked, rows)
    """How many mask beats lie before each row; the span ends at the last of them."""
    k = before[:, None] - span + np.arange(span)
    ok = k >= 0
    j = masked[np.clip(k, 0, None)] if len(masked) else np.zeros_like(k)
    ok &= j >= (rows - max_age)[:, None]
    n = ok.sum(axis=1).astype(np.float64)
    w = ok.reshape(ok.shape + (1,) * (x.ndim - 1))
    total = np.where(w, x[j], 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean: F64 = total / n.reshape((-1,) + (1,) * (x.ndim - 1))
    return mean, n


def _match_at(lag_r: F64, mask: NDArray[np.bool_], rows: NDArray[np.intp]) -> F64:
    """:func:`_nearest_match`'s best correlation at ``rows`` only."""
    best = np.full(len(rows), -1.0)
    for lag in range(1, lag_r.shape[1] + 1):
        ok = rows >= lag
        prev = np.where(ok, rows - lag, 0)
        r = np.where(ok & mask[prev], lag_r[rows, lag - 1], -1.0)
        np.maximum(best, r, out=best)
    return best


def _typed_labels(
    win: F64,
    lag_r: F64,
    rr: F64,
    energy: F64,
    pool: NDArray[np.bool_],
    matchable: NDArray[np.bool_],
    fallback: tuple[F64, F64],
    noisy: F64,
    rows: NDArray[np.intp],
) -> NDArray[np.int8]:
    """:func:`_second_pass` against the dominant type's template (``pool``: its on-time
    beats, up to :data:`DOMINANT_AGE_BEATS` back), judged only at ``rows`` (NORMAL elsewhere:
    only beats of another type and the first beats of types use it)."""
    out = np.full(len(win), BeatClass.NORMAL, np.int8)
    if len(rows) == 0:
        return out
    match = _match_at(lag_r, matchable, rows)
    template, count = _masked_mean_at(win, pool, rows, HISTORY_BEATS, DOMINANT_AGE_BEATS)
    few = count < MIN_TEMPLATE_BEATS
    template = np.where(few[:, None], fallback[0][rows], template)
    count = np.where(few, fallback[1][rows], count)
    sinus = pool & np.concatenate([[False], pool[:-1]]) & ~np.isnan(rr)
    ref_rr, _ = _masked_mean_at(
        np.nan_to_num(rr, nan=0.0), sinus, rows, HISTORY_BEATS, DOMINANT_AGE_BEATS
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        prem = rr[rows] / ref_rr
    r, width, area, _ = _features(win[rows], template, energy[rows])
    label = _decide(r, match, width, area, prem, count, final=True)
    label[(label == BeatClass.VENTRICULAR) & (noisy[rows] > NOISY)] = BeatClass.UNKNOWN
    out[rows] = label
    return out


def _label_windows(
    win: F64,
    lag_r: F64,
    rr: F64,
    noise: F64,
    dominant: NDArray[np.bool_],
    typed_rows: NDArray[np.intp],
) -> tuple[BeatLabels, NDArray[np.int8]]:
    """The passes over beat windows, their :func:`_lag_correlations`, the RR before each beat
    (NaN for the first), the noise level before each beat (:func:`_noise`) and whether each
    beat is of the dominant type: the labels against the normal beats' template, and those
    against the dominant type's at ``typed_rows``."""
    med = _trailing_median(rr, RR_MEDIAN_BEATS)
    with np.errstate(invalid="ignore"):
        late = ~(rr < NOT_PREMATURE * med)
        prem0 = rr / med
    template, count = _trailing_masked_mean(win, late, HISTORY_BEATS, TEMPLATE_AGE_BEATS)
    energy = _lag_energy(win)
    r, width, area, _ = _features(win, template, energy)
    first = _decide(r, np.full(len(r), -1.0), width, area, prem0, count)
    matchable = late & (first != BeatClass.VENTRICULAR)
    core = win[:, LAG_SAMPLES:-LAG_SAMPLES]
    amplitude = _trailing_median(core.max(axis=1) - core.min(axis=1), HISTORY_BEATS)
    with np.errstate(invalid="ignore", divide="ignore"):
        noisy = noise / amplitude
    fallback = (template, count)
    normal = _second_pass(
        win,
        lag_r,
        rr,
        energy,
        first == BeatClass.NORMAL,
        matchable,
        fallback,
        TEMPLATE_AGE_BEATS,
        noisy,
    )
    typed = _typed_labels(
        win, lag_r, rr, energy, late & dominant, matchable & dominant, fallback, noisy, typed_rows
    )
    return normal, typed


def _combine(
    normal: NDArray[np.int8],
    typed: NDArray[np.int8],
    root: NDArray[np.intp],
    dominant: NDArray[np.intp],
) -> NDArray[np.int8]:
    """Beat-type memory: a beat of a type that is not the dominant one and whose first beat was
    labelled ventricular (against either template) takes its label against the dominant type's
    template; every other beat its label against the normal beats' template."""
    v = BeatClass.VENTRICULAR
    born_v = (normal[root] == v) | (typed[root] == v)
    out: NDArray[np.int8] = np.where(born_v & (root != dominant), typed, normal).astype(np.int8)
    return out


def label_beats(
    ecg_uv: NDArray[np.floating] | NDArray[np.integer], fs_hz: float, peaks: RPeaks
) -> BeatLabels:
    """Labels for ``peaks`` detected in ``ecg_uv`` (see the module's description)."""
    x = np.asarray(ecg_uv, dtype=np.float64)
    wide: F64 = sosfiltfilt(_sos(fs_hz, 0.5, 40.0), x) if len(x) > 12 else x
    return _label_at(wide, np.rint(peaks.position).astype(np.intp), fs_hz)


def _label_at(wide: F64, peak: NDArray[np.intp], fs_hz: float) -> BeatLabels:
    if len(peak) == 0:
        e = np.empty(0)
        return BeatLabels(np.empty(0, np.int8), e, e, e, e, e, e)
    win = _windows(wide, peak, fs_hz)
    rr = np.concatenate([[np.nan], np.diff(peak) / fs_hz])
    previous = np.concatenate([[np.iinfo(np.intp).min // 2], peak[:-1]])
    noise = _noise(wide, peak, fs_hz, previous)
    lag_r = _lag_correlations(win)
    root = _roots(lag_r)
    dominant = _dominant(root)
    is_dominant = root == dominant
    # The labels against the dominant type count for beats of another type and their types'
    # first beats (_combine); only those are judged against it.
    needs_typed = ~is_dominant
    needs_typed[root[~is_dominant]] = True
    parts: list[BeatLabels] = []
    typed: list[NDArray[np.int8]] = []
    for start in range(0, len(peak), CHUNK_BEATS):
        # Each step repeats HORIZON_BEATS beats before it, so the labels are those of one pass.
        lo = max(0, start - HORIZON_BEATS)
        sl = slice(lo, start + CHUNK_BEATS)
        part_rr = rr[sl].copy()
        part_rr[0] = np.nan
        rows = np.flatnonzero(needs_typed[sl])
        part, part_typed = _label_windows(
            win[sl], lag_r[sl], part_rr, noise[sl], is_dominant[sl], rows[rows >= start - lo]
        )
        parts.append(BeatLabels(*(getattr(part, f)[start - lo :] for f in _FIELDS)))
        typed.append(part_typed[start - lo :])
    out = BeatLabels(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))
    label = _combine(out.label, np.concatenate(typed), root, dominant)
    return BeatLabels(label, *(getattr(out, f) for f in _FIELDS[1:]))


_FIELDS: Final = (
    "label",
    "correlation",
    "width_ratio",
    "area_ratio",
    "prematurity",
    "match",
    "noise",
)


def detect_and_label(
    ecg_uv: NDArray[np.floating] | NDArray[np.integer], fs_hz: float
) -> tuple[RPeaks, BeatLabels]:
    """R-peaks (:func:`detect_r_peaks`) and their labels, sharing one filtering pass."""
    peaks, wide = _detect(np.asarray(ecg_uv, dtype=np.float64), fs_hz)
    return peaks, _label_at(wide, np.rint(peaks.position).astype(np.intp), fs_hz)


class OnlineBeatLabeller:
    """Label beats as the online detector reports them; the same labels as :func:`label_beats`.

    Every rule but the beat types looks back at most :data:`HORIZON_BEATS` beats, so the batch
    passes run on that many of the latest beat windows and the last label is the batch one; the
    beat types (each beat's type, the dominant type, the labels of the types' first beats) are
    carried along beat by beat as the batch function derives them.
    The caller passes the 0.5-40 Hz window around each new R-peak via :meth:`push`.
    """

    def __init__(self, fs_hz: float) -> None:
        self.fs_hz = fs_hz
        self._keep = HORIZON_BEATS + 1
        self._windows: list[F64] = []
        self._peaks: list[int] = []
        self._noise: list[float] = []
        self._roots: list[int] = []
        self._lag_r: list[F64] = []
        self._is_dominant: list[bool] = []
        self._dominance = _Dominance()
        self._born_v: dict[int, bool] = {}
        """Whether each live type's first beat was labelled ventricular."""
        self._count = 0

    def push(self, wide: F64, start: int, peak: int) -> int:
        """The label of the beat at absolute sample ``peak``; ``wide`` starts at ``start``."""
        at = np.array([peak - start], np.intp)
        win = _windows(wide, at, self.fs_hz)[0]
        self._windows = [*self._windows[-(self._keep - 1) :], win]
        before = self._peaks[-1] - start if self._peaks else np.iinfo(np.intp).min // 2
        noise = float(_noise(wide, at, self.fs_hz, np.array([before], np.intp))[0])
        self._peaks = [*self._peaks[-(self._keep - 1) :], peak]
        self._noise = [*self._noise[-(self._keep - 1) :], noise]
        windows = np.asarray(self._windows)
        # The beat's correlations with the HISTORY_BEATS before it (its row of
        # _lag_correlations) and its type: that of the best-matching of them, if close.
        recent = windows[-(HISTORY_BEATS + 1) :]
        row = _lag_correlations(recent)[-1]
        self._lag_r = [*self._lag_r[-(self._keep - 1) :], row]
        index = self._count
        self._count += 1
        avail = row[: len(recent) - 1]
        lag = int(np.argmax(avail)) + 1 if len(avail) else 0
        root = self._roots[-lag] if lag and avail[lag - 1] > CHAIN_R else index
        dominant = self._dominance.push(root)
        self._roots = [*self._roots[-(self._keep - 1) :], root]
        self._is_dominant = [*self._is_dominant[-(self._keep - 1) :], root == dominant]
        rr = np.concatenate([[np.nan], np.diff(np.asarray(self._peaks)) / self.fs_hz])
        last = len(windows) - 1
        needs_typed = root == index or root != dominant
        normal, typed = _label_windows(
            windows,
            np.asarray(self._lag_r),
            rr,
            np.asarray(self._noise),
            np.asarray(self._is_dominant),
            np.array([last] if needs_typed else [], np.intp),
        )
        own, own_typed = int(normal.label[-1]), int(typed[-1])
        if root == index:
            v = BeatClass.VENTRICULAR
            self._born_v[root] = own == v or own_typed == v
            if len(self._born_v) > 4 * HISTORY_BEATS:  # keep the types a new beat can join
                live = set(self._roots[-HISTORY_BEATS:])
                self._born_v = {k: b for k, b in self._born_v.items() if k in live}
        return own_typed if self._born_v[root] and root != dominant else own
