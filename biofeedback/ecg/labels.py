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
   :data:`NOISY` of the median QRS peak-to-peak of the previous beats, or when the largest
   50 ms mean of it over that stretch exceeds :data:`SPIKY` of the beat's own QRS peak-to-peak
   (OSEA's ``HFNoiseCheck`` measure: a burst of noise, or a small beat in noise). Muscle and
   electrode noise deform a normal QRS enough to fail the template; smooth T and P waves barely
   count.

7. Final labels only (pass 2): a premature beat both wider and larger than the template is
   ventricular below ``r`` :data:`R_CLOSE` even when it matches a recent beat; a beat whose RR
   is at least :data:`ON_TIME` of the reference RR is ventricular only when ``r`` <
   :data:`R_ON_TIME` (on time and only somewhat different is mostly a fusion beat or a normal
   beat in noise); a would-be ventricular beat less than :data:`REFRACTORY` of the reference
   RR after the previous detection is left unknown (one of the two is likely a false
   detection); a beat that ends the long RR of a bigeminal rhythm is not ventricular (OSEA's
   rhythm check, :func:`after_bigeminal_pause`: in bigeminy the ectopic beat is the premature
   one and the beat after its pause the sinus one, even when the template has taken the
   ectopic's shape).
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
:data:`R_CLOSE`, :data:`REFRACTORY`, :data:`CHAIN_R`, :data:`DOMINANT_BEATS`,
:data:`DOMINANT_AGE_BEATS` and :data:`SPIKY` were chosen on DS1 pooled V sensitivity / positive
predictivity (small grids; DOMINANT_AGE_BEATS 256 instead of 512 loses about 2 points of
sensitivity, mostly in records 207 and 223; SPIKY 0.045-0.06 trades 0.3 points of sensitivity
for 0.6 of positive predictivity). The bigeminy check's match (an eighth of the sum) and 8 RRs
are OSEA's, not tuned. The numbers are in ``bench/results/ecg_labels.json``
(bench_ecg_labels.py).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.signal import sosfiltfilt

from biofeedback.ecg.beat_types import (
    CHAIN_R,
    Dominance,
    beat_types,
    dominant_types,
)
from biofeedback.ecg.beat_windows import (
    HISTORY_BEATS,
    LAG_SAMPLES,
    beat_windows,
    lag_correlations,
    lag_energy,
    nearest_match,
    noise_before,
    shape_features,
    trailing_masked_mean,
    trailing_median,
)
from biofeedback.ecg.rpeaks import RPeaks, _detect, _sos

F64 = NDArray[np.float64]

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
NOISY: Final = 0.03
"""Noise level over the median QRS peak-to-peak of the previous beats above which a beat that
looks ventricular is left unknown instead."""
SPIKY: Final = 0.05
"""Largest 50 ms burst of noise before the beat over the beat's own QRS peak-to-peak above which
a beat that looks ventricular is left unknown instead (OSEA's ``HFNoiseCheck`` measure, the
largest 50 ms average of the high-pass filtered signal outside the QRS over the beat's QRS
amplitude; OSEA does not call a beat a PVC by width when it exceeds its limit). Chosen on DS1."""
BIGEMINY_RRS: Final = 8
"""RRs looked back on for a bigeminal rhythm (OSEA's RR buffer): a beat that ends the long RR
of one is not ventricular (:func:`after_bigeminal_pause`)."""
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


@dataclass(frozen=True, slots=True)
class _Judged:
    """The per-beat arrays both final passes judge a beat by (one entry per beat): its window,
    its correlations with the beats before it, RR, lag energy, and the two vetoes (in noise,
    after a bigeminal pause)."""

    win: F64
    lag_r: F64
    rr: F64
    energy: F64
    in_noise: NDArray[np.bool_]
    bigeminal: NDArray[np.bool_]

    def at(self, rows: NDArray[np.intp]) -> _Judged:
        """The same arrays at ``rows`` only."""
        return _Judged(
            self.win[rows],
            self.lag_r[rows],
            self.rr[rows],
            self.energy[rows],
            self.in_noise[rows],
            self.bigeminal[rows],
        )


def _second_pass(
    beats: _Judged,
    pool: NDArray[np.bool_],
    matchable: NDArray[np.bool_],
    fallback: tuple[F64, F64],
    age: int,
    noisy: F64,
) -> BeatLabels:
    """Labels against the template of the ``pool`` beats (up to ``age`` back; the pass-1
    template ``fallback`` while there are too few), with the matches among ``matchable``."""
    b = beats
    match, _ = nearest_match(b.lag_r, matchable)
    template, count = trailing_masked_mean(b.win, pool, HISTORY_BEATS, age)
    ref_rr, _ = trailing_masked_mean(
        np.nan_to_num(b.rr, nan=0.0), _sinus(pool, b.rr), HISTORY_BEATS, age
    )
    label, r, width, area, prem = _against(b, template, count, fallback, ref_rr, match)
    return BeatLabels(label, r, width, area, prem, match, noisy)


def _sinus(pool: NDArray[np.bool_], rr: F64) -> NDArray[np.bool_]:
    """Beats of ``pool`` whose previous beat is in it too: their RR is a reference RR."""
    out: NDArray[np.bool_] = pool & np.concatenate([[False], pool[:-1]]) & ~np.isnan(rr)
    return out


def _against(
    beats: _Judged,
    template: F64,
    count: F64,
    fallback: tuple[F64, F64],
    ref_rr: F64,
    match: F64,
) -> tuple[NDArray[np.int8], F64, F64, F64, F64]:
    """The final label of each beat against ``template`` (of ``count`` beats; ``fallback``'s
    template and count where fewer than :data:`MIN_TEMPLATE_BEATS`), with its features."""
    few = count < MIN_TEMPLATE_BEATS
    template = np.where(few[:, None], fallback[0], template)
    count = np.where(few, fallback[1], count)
    with np.errstate(invalid="ignore", divide="ignore"):
        prem = beats.rr / ref_rr
    r, width, area, _ = shape_features(beats.win, template, beats.energy)
    label = _decide(r, match, width, area, prem, count, final=True)
    # OSEA's rhythm check: the beat that ends the long RR of a bigeminy is the sinus one.
    sinus = (label == BeatClass.VENTRICULAR) & beats.bigeminal
    label[sinus] = np.where(prem[sinus] < PREMATURE, BeatClass.SUPRAVENTRICULAR, BeatClass.NORMAL)
    # OSEA's noise check: a beat in noise that does not look normal is not called ventricular.
    label[(label == BeatClass.VENTRICULAR) & beats.in_noise] = BeatClass.UNKNOWN
    return label, r, width, area, prem


def after_bigeminal_pause(rr: F64) -> NDArray[np.bool_]:
    """Beats that end the long RR of a bigeminal rhythm (OSEA's ``RhythmChk``: over the last
    :data:`BIGEMINY_RRS` RRs every other one matches, differing by less than an eighth of the
    two RRs' sum (OSEA's ``RRMatch``), and no two consecutive ones do; this RR is the longer of
    the last two)."""
    n = len(rr)
    back = np.full((BIGEMINY_RRS, n), np.nan)
    for k in range(min(BIGEMINY_RRS, n)):
        back[k, k:] = rr[: n - k]

    def matched(a: F64, b: F64) -> NDArray[np.bool_]:
        with np.errstate(invalid="ignore"):
            out: NDArray[np.bool_] = np.abs(a - b) < (a + b) / 8.0
        return out

    with np.errstate(invalid="ignore"):
        ok: NDArray[np.bool_] = back[0] > back[1]
    for k in range(BIGEMINY_RRS - 2):
        ok &= matched(back[k], back[k + 2]) & ~matched(back[k], back[k + 1])
    return ok


def _masked_mean_at(
    x: F64, mask: NDArray[np.bool_], rows: NDArray[np.intp], span: int, max_age: int
) -> tuple[F64, F64]:
    """:func:`trailing_masked_mean` (with ``max_age``) at ``rows`` only, by gathering: the
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
    """:func:`nearest_match`'s best correlation at ``rows`` only."""
    best = np.full(len(rows), -1.0)
    for lag in range(1, lag_r.shape[1] + 1):
        ok = rows >= lag
        prev = np.where(ok, rows - lag, 0)
        r = np.where(ok & mask[prev], lag_r[rows, lag - 1], -1.0)
        np.maximum(best, r, out=best)
    return best


def _typed_labels(
    beats: _Judged,
    pool: NDArray[np.bool_],
    matchable: NDArray[np.bool_],
    fallback: tuple[F64, F64],
    rows: NDArray[np.intp],
) -> NDArray[np.int8]:
    """:func:`_second_pass` against the dominant type's template (``pool``: its on-time
    beats, up to :data:`DOMINANT_AGE_BEATS` back), judged only at ``rows`` (NORMAL elsewhere:
    only beats of another type and the first beats of types use it)."""
    b = beats
    out = np.full(len(b.win), BeatClass.NORMAL, np.int8)
    if len(rows) == 0:
        return out
    match = _match_at(b.lag_r, matchable, rows)
    template, count = _masked_mean_at(b.win, pool, rows, HISTORY_BEATS, DOMINANT_AGE_BEATS)
    ref_rr, _ = _masked_mean_at(
        np.nan_to_num(b.rr, nan=0.0), _sinus(pool, b.rr), rows, HISTORY_BEATS, DOMINANT_AGE_BEATS
    )
    label, *_ = _against(
        b.at(rows), template, count, (fallback[0][rows], fallback[1][rows]), ref_rr, match
    )
    out[rows] = label
    return out


def _label_windows(
    win: F64,
    lag_r: F64,
    rr: F64,
    noise: F64,
    spike: F64,
    dominant: NDArray[np.bool_],
    typed_rows: NDArray[np.intp],
) -> tuple[BeatLabels, NDArray[np.int8]]:
    """The passes over beat windows, their :func:`lag_correlations`, the RR before each beat
    (NaN for the first), the noise level before each beat (:func:`noise_before`) and whether each
    beat is of the dominant type: the labels against the normal beats' template, and those
    against the dominant type's at ``typed_rows``."""
    med = trailing_median(rr, RR_MEDIAN_BEATS)
    with np.errstate(invalid="ignore"):
        late = ~(rr < NOT_PREMATURE * med)
        prem0 = rr / med
    template, count = trailing_masked_mean(win, late, HISTORY_BEATS, TEMPLATE_AGE_BEATS)
    energy = lag_energy(win)
    r, width, area, _ = shape_features(win, template, energy)
    first = _decide(r, np.full(len(r), -1.0), width, area, prem0, count)
    matchable = late & (first != BeatClass.VENTRICULAR)
    core = win[:, LAG_SAMPLES:-LAG_SAMPLES]
    amplitude = trailing_median(core.max(axis=1) - core.min(axis=1), HISTORY_BEATS)
    with np.errstate(invalid="ignore", divide="ignore"):
        noisy = noise / amplitude
        in_noise = (noisy > NOISY) | (spike / (core.max(axis=1) - core.min(axis=1)) > SPIKY)
    beats = _Judged(win, lag_r, rr, energy, in_noise, after_bigeminal_pause(rr))
    fallback = (template, count)
    normal = _second_pass(
        beats, first == BeatClass.NORMAL, matchable, fallback, TEMPLATE_AGE_BEATS, noisy
    )
    typed = _typed_labels(beats, late & dominant, matchable & dominant, fallback, typed_rows)
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
    win = beat_windows(wide, peak, fs_hz)
    rr = np.concatenate([[np.nan], np.diff(peak) / fs_hz])
    previous = np.concatenate([[np.iinfo(np.intp).min // 2], peak[:-1]])
    noise, spike = noise_before(wide, peak, fs_hz, previous)
    lag_r = lag_correlations(win)
    root = beat_types(lag_r)
    dominant = dominant_types(root)
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
            win[sl],
            lag_r[sl],
            part_rr,
            noise[sl],
            spike[sl],
            is_dominant[sl],
            rows[rows >= start - lo],
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
        self._spike: list[float] = []
        self._roots: list[int] = []
        self._lag_r: list[F64] = []
        self._is_dominant: list[bool] = []
        self._dominance = Dominance()
        self._born_v: dict[int, bool] = {}
        """Whether each live type's first beat was labelled ventricular."""
        self._count = 0

    def push(self, wide: F64, start: int, peak: int) -> int:
        """The label of the beat at absolute sample ``peak``; ``wide`` starts at ``start``."""
        at = np.array([peak - start], np.intp)
        win = beat_windows(wide, at, self.fs_hz)[0]
        self._windows = [*self._windows[-(self._keep - 1) :], win]
        before = self._peaks[-1] - start if self._peaks else np.iinfo(np.intp).min // 2
        noise, spike = noise_before(wide, at, self.fs_hz, np.array([before], np.intp))
        self._peaks = [*self._peaks[-(self._keep - 1) :], peak]
        self._noise = [*self._noise[-(self._keep - 1) :], float(noise[0])]
        self._spike = [*self._spike[-(self._keep - 1) :], float(spike[0])]
        windows = np.asarray(self._windows)
        # The beat's correlations with the HISTORY_BEATS before it (its row of
        # lag_correlations) and its type: that of the best-matching of them, if close.
        recent = windows[-(HISTORY_BEATS + 1) :]
        row = lag_correlations(recent)[-1]
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
            np.asarray(self._spike),
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
