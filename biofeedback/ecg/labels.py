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
same labels beat for beat (the online one keeps the last :data:`HORIZON_BEATS` + 1 beats):

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

Thresholds were chosen on the MIT-BIH DS1 half plus the paced records (the bench's data), so the
bench's figures are in-sample; the DS2 half was not used. The numbers are in
``bench/results/ecg_labels.json`` (bench_ecg_labels.py).
"""

from __future__ import annotations

import enum
import warnings
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
RR_MEDIAN_BEATS: Final = 8
MIN_TEMPLATE_BEATS: Final = 4
HORIZON_BEATS: Final = 2 * TEMPLATE_AGE_BEATS + RR_MEDIAN_BEATS + 3
"""How many beats back a label can depend on: the pass-2 template and the reference RR (the
normal beats and the pairs of them up to TEMPLATE_AGE_BEATS + 1 back), their pass-1 labels (the
pass-1 template, as far back again), its not-premature test (the median of 8 RRs before) and
the first of those RRs' starting beat."""
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


def _nearest_match(win: F64, mask: NDArray[np.bool_], span: int) -> F64:
    """Best correlation of each window with one of the ``span`` beats before it in ``mask``."""
    z = win - win.mean(axis=1, keepdims=True)
    norm = np.sqrt(np.einsum("ij,ij->i", z, z))[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(norm > 0, z / norm, 0.0)
    best = np.full(len(win), -1.0)
    for lag in range(1, min(span, len(win) - 1) + 1):
        r = np.einsum("ij,ij->i", z[lag:], z[:-lag])
        r[~mask[:-lag]] = -1.0
        np.maximum(best[lag:], r, out=best[lag:])
    return best


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
    r: F64, match: F64, width: F64, area: F64, prem: F64, n_template: F64
) -> NDArray[np.int8]:
    premature = prem < PREMATURE
    unlike = (r < R_SIMILAR) & (match < R_MATCH)
    different = unlike & ((r < R_DIFFERENT) | (width > WIDE) | (area > LARGE) | premature)
    different |= (r < R_SIMILAR) & (width > VERY_WIDE) & (area > LARGE)
    label = np.where(
        different,
        BeatClass.VENTRICULAR,
        np.where(premature, BeatClass.SUPRAVENTRICULAR, BeatClass.NORMAL),
    ).astype(np.int8)
    label[n_template < MIN_TEMPLATE_BEATS] = BeatClass.UNKNOWN
    return label


def _label_windows(win: F64, rr: F64, noise: F64) -> BeatLabels:
    """The two passes over beat windows, the RR before each beat (NaN for the first) and the
    noise level before each beat (:func:`_noise`)."""
    med = _trailing_median(rr, RR_MEDIAN_BEATS)
    with np.errstate(invalid="ignore"):
        late = ~(rr < NOT_PREMATURE * med)
        prem0 = rr / med
    template, count = _trailing_masked_mean(win, late, HISTORY_BEATS, TEMPLATE_AGE_BEATS)
    energy = _lag_energy(win)
    r, width, area, _ = _features(win, template, energy)
    first = _decide(r, np.full(len(r), -1.0), width, area, prem0, count)
    normal = first == BeatClass.NORMAL
    match = _nearest_match(win, late & (first != BeatClass.VENTRICULAR), HISTORY_BEATS)
    template2, count2 = _trailing_masked_mean(win, normal, HISTORY_BEATS, TEMPLATE_AGE_BEATS)
    few = count2 < MIN_TEMPLATE_BEATS
    template = np.where(few[:, None], template, template2)
    count = np.where(few, count, count2)
    sinus = normal & np.concatenate([[False], normal[:-1]]) & ~np.isnan(rr)
    ref_rr, _ = _trailing_masked_mean(
        np.nan_to_num(rr, nan=0.0), sinus, HISTORY_BEATS, TEMPLATE_AGE_BEATS
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        prem = rr / ref_rr
    r, width, area, _ = _features(win, template, energy)
    label = _decide(r, match, width, area, prem, count)
    # OSEA's noise check: a beat in noise that does not look normal is not called ventricular.
    core = win[:, LAG_SAMPLES:-LAG_SAMPLES]
    amplitude = _trailing_median(core.max(axis=1) - core.min(axis=1), HISTORY_BEATS)
    with np.errstate(invalid="ignore", divide="ignore"):
        noisy = noise / amplitude
    label[(label == BeatClass.VENTRICULAR) & (noisy > NOISY)] = BeatClass.UNKNOWN
    return BeatLabels(label, r, width, area, prem, match, noisy)


def label_beats(
    ecg_uv: NDArray[np.floating] | NDArray[np.integer], fs_hz: float, peaks: RPeaks
) -> BeatLabels:
    """Labels for ``peaks`` detected in ``ecg_uv`` (see the module's description)."""
    x = np.asarray(ecg_uv, dtype=np.float64)
    wide: F64 = sosfiltfilt(_sos(fs_hz, 0.5, 40.0), x) if len(x) > 12 else x
    return _label_at(wide, np.rint(peaks.position).astype(np.intp), fs_hz)


def _label_at(wide: F64, peak: NDArray[np.intp], fs_hz: float) -> BeatLabels:
    if len(peak) <= CHUNK_BEATS + HORIZON_BEATS:
        return _label_all(wide, peak, fs_hz)
    parts: list[BeatLabels] = []
    for start in range(0, len(peak), CHUNK_BEATS):
        lo = max(0, start - HORIZON_BEATS)
        part = _label_all(wide, peak[lo : start + CHUNK_BEATS], fs_hz)
        parts.append(BeatLabels(*(getattr(part, f)[start - lo :] for f in _FIELDS)))
    return BeatLabels(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))


_FIELDS: Final = (
    "label",
    "correlation",
    "width_ratio",
    "area_ratio",
    "prematurity",
    "match",
    "noise",
)


def _label_all(wide: F64, peak: NDArray[np.intp], fs_hz: float) -> BeatLabels:
    if len(peak) == 0:
        e = np.empty(0)
        return BeatLabels(np.empty(0, np.int8), e, e, e, e, e, e)
    win = _windows(wide, peak, fs_hz)
    rr = np.concatenate([[np.nan], np.diff(peak) / fs_hz])
    previous = np.concatenate([[np.iinfo(np.intp).min // 2], peak[:-1]])
    return _label_windows(win, rr, _noise(wide, peak, fs_hz, previous))


def detect_and_label(
    ecg_uv: NDArray[np.floating] | NDArray[np.integer], fs_hz: float
) -> tuple[RPeaks, BeatLabels]:
    """R-peaks (:func:`detect_r_peaks`) and their labels, sharing one filtering pass."""
    peaks, wide = _detect(np.asarray(ecg_uv, dtype=np.float64), fs_hz)
    return peaks, _label_at(wide, np.rint(peaks.position).astype(np.intp), fs_hz)


class OnlineBeatLabeller:
    """Label beats as the online detector reports them; the same labels as :func:`label_beats`.

    Every rule looks back at most :data:`HORIZON_BEATS` beats, so the batch
    passes run on that many of the latest beat windows and the last label is the batch one.
    The caller passes the 0.5-40 Hz window around each new R-peak via :meth:`push`.
    """

    def __init__(self, fs_hz: float) -> None:
        self.fs_hz = fs_hz
        self._keep = HORIZON_BEATS + 1
        self._windows: list[F64] = []
        self._peaks: list[int] = []
        self._noise: list[float] = []

    def push(self, wide: F64, start: int, peak: int) -> int:
        """The label of the beat at absolute sample ``peak``; ``wide`` starts at ``start``."""
        at = np.array([peak - start], np.intp)
        win = _windows(wide, at, self.fs_hz)[0]
        self._windows = [*self._windows[-(self._keep - 1) :], win]
        before = self._peaks[-1] - start if self._peaks else np.iinfo(np.intp).min // 2
        noise = float(_noise(wide, at, self.fs_hz, np.array([before], np.intp))[0])
        self._peaks = [*self._peaks[-(self._keep - 1) :], peak]
        self._noise = [*self._noise[-(self._keep - 1) :], noise]
        rr = np.concatenate([[np.nan], np.diff(np.asarray(self._peaks)) / self.fs_hz])
        windows = np.asarray(self._windows)
        return int(_label_windows(windows, rr, np.asarray(self._noise)).label[-1])
