"""RR artifact detection and correction, batch form (centred windows), and the public artifact API.

Lipponen JA, Tarvainen MP (2019), A robust algorithm for heart rate variability time series
artefact correction using novel beat classification, J Med Eng Technol 43(3):173-181,
doi:10.1080/03091902.2019.1640306. Constants as published: α = 5.2, c1 = 0.13, c2 = 0.17,
91-beat quartile deviation (QD = (Q3 − Q1)/2, numpy's linear quantiles), 11-beat median.

Steps: a range gate (250-2500 ms; values outside are labelled ``OUT_OF_RANGE`` and interpolated),
then ``dRR`` normalised by ``Th1 = α·QD(dRR)``, ``mRR = RR − median11`` with negative values
doubled and normalised by ``Th2 = α·QD(|mRR|)``, and the subspace rule of the paper's Fig. 1
(shared with the online detector in :mod:`biofeedback.hrv.artifacts_online`, re-exported here).

One documented deviation, in ``Th1`` only: QD of the signed ``dRR``, not of ``|dRR|``. NeuroKit2
and systole take QD(|dRR|), which for Gaussian dRR is 0.416σ, so α = 5.2 puts the threshold at
2.2σ; QD(dRR) = 0.674σ gives the 3.5σ (99.95 %) coverage that motivates α = 5.2. Measured (bench
``bench_artifact_accuracy.py``): on the clean 21-h rr_healthy_000 |dRR| labels 2.25 % of beats,
signed 0.40 %; on LTDB 14046 (V/F truth) 33.7 % / 98.0 % against 46.3 % / 99.3 %. ``Th2`` feeds
the missed/extra tests (``|RR/2 − med| < Th2``), where a larger threshold splits more normal
beats: the published ``|mRR|`` form is used (the signed form split pyHRV's artifact-free
SampleNNISeriesLong beats 1506-1507 into four).

Both quartile deviations are floored at the RR resolution of the input (:func:`resolution_ms`):
on 128-Hz records (7.8-ms steps) a 91-beat window often has equal quartiles, a zero threshold
made every one-tick difference an infinite deviation, and the iterative mode labelled thousands
of normal beats (LTDB 14157 specificity 82.4 %; floored 98.5 %, one pass 99.1 %).

Other corrections (Kubios' threshold levels, none) are in :mod:`.artifacts_threshold`;
:func:`correct_artifacts` chooses by ``correction``. Beat shapes from an ECG (``shape``, one
:class:`IntervalShape` per interval) overrule the timing rule where known
(:mod:`.artifacts_shape`): the RR-only labels become the fallback.

Choices where the paper is silent, identical in the online form:

- every beat is evaluated (NeuroKit2's loop skips the ectopic test of a beat examined as the
  "next" long/short candidate); the "next beat is also a candidate" step
  (``|dRR[i+1]| < |dRR[i+2]|``) is applied. systole never applies it: it tests a numpy bool
  with ``is True``, which is always False (systole commit f5d7fb7, detection.py); not copied.
- edges: windows are truncated at the ends (pandas ``min_periods=1``, as NeuroKit2); the first
  interval has no predecessor, so its ``dRR`` is 0 (NeuroKit2 uses the mean of the others, ≈ 0);
  differences beyond the last interval count as 0 (no evidence), so the last
  interval can be long or short but not missed, extra or ectopic.
- correction follows systole's ``correct_rr``: missed → two halves, extra → merged into the next
  interval, ectopic/long/short/out-of-range → linear interpolation over beat index from the
  remaining intervals. Out-of-range intervals before the first valid one have no left neighbour
  and are dropped. Iteration (NeuroKit2): detect again on the corrected series while the count of
  artifacts decreases; later detections are mapped back to the input beat they came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from biofeedback.hrv.artifacts_online import OnlineArtifactDetector
from biofeedback.hrv.artifacts_rule import (
    ALPHA,
    C1,
    C2,
    INTERPOLATED_LABELS,
    RR_GATE_MAX_MS,
    RR_GATE_MIN_MS,
    WINDOW_MEDIAN_BEATS,
    WINDOW_QD_BEATS,
    BeatLabel,
    FloatArray,
    LabelArray,
    LabelledBeat,
    classify,
    ectopic_and_candidates,
    in_range,
    normalise,
    window_ranks,
)
from biofeedback.hrv.artifacts_shape import IntervalShape, apply_shape, as_shapes
from biofeedback.hrv.artifacts_threshold import interpolate_flagged, threshold_labels
from biofeedback.hrv.correction_levels import CORRECTION_LEVELS, CorrectionLevel

IndexArray = NDArray[np.intp]

__all__ = [
    "ALPHA",
    "C1",
    "C2",
    "RR_GATE_MAX_MS",
    "RR_GATE_MIN_MS",
    "WINDOW_MEDIAN_BEATS",
    "WINDOW_QD_BEATS",
    "ArtifactResult",
    "BeatLabel",
    "CorrectionLevel",
    "IntervalShape",
    "LabelledBeat",
    "OnlineArtifactDetector",
    "correct_artifacts",
    "detect_artifacts",
]


@dataclass(frozen=True, slots=True)
class ArtifactResult:
    """Labels per input interval and the corrected NN series (ms).

    ``origin[k]`` is the input interval that NN value ``k`` came from (a missed beat gives two,
    an extra beat none: its time is in the next interval's value; leading out-of-range
    intervals none).
    """

    labels: LabelArray
    nn_ms: FloatArray
    n_corrected: int
    origin: IndexArray | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        self.labels.setflags(write=False)
        self.nn_ms.setflags(write=False)
        if self.origin is not None:
            self.origin.setflags(write=False)

    @property
    def share_corrected(self) -> float:
        """Fraction of input intervals whose label is not ``NORMAL`` (0 for an empty input)."""
        return self.n_corrected / self.labels.size if self.labels.size else 0.0


def _as_rr(rr_ms: ArrayLike) -> FloatArray:
    rr = np.array(rr_ms, dtype=np.float64)
    if rr.ndim != 1:
        raise ValueError(f"rr_ms must be one-dimensional, got shape {rr.shape}")
    if np.isnan(rr).any():
        raise ValueError("rr_ms must not contain NaN")
    return rr


def _centred_quantiles(x: FloatArray, window: int, qs: tuple[float, ...]) -> list[FloatArray]:
    """Linear quantiles ``qs`` over a centred window of odd length, truncated at both ends.

    Inside, the windows are sorted once for all ``qs`` (:func:`window_ranks`) and interpolated
    with numpy's lerp; the truncated windows at the ends come from :func:`_truncated_quantile`.
    """
    n = x.size
    half = window // 2
    outs = [np.empty(n) for _ in qs]
    positions = [q * (window - 1) for q in qs]
    if n >= window:
        ranks = sorted({r for pos in positions for r in (int(pos), int(pos) + 1) if r < window})
        stats = window_ranks(x, window, tuple(ranks))
        for out, pos in zip(outs, positions, strict=True):
            lo, t = int(pos), pos - int(pos)
            a = stats[ranks.index(lo)]
            if t > 0:
                b = stats[ranks.index(lo + 1)]
                a = b - (b - a) * (1.0 - t) if t >= 0.5 else a + (b - a) * t
            out[half : n - half] = a
    edges = np.arange(n) if n < window else np.r_[0:half, n - half : n]
    if edges.size:
        for out, q in zip(outs, qs, strict=True):
            out[edges] = _truncated_quantile(x, edges, half, q)
    return outs


def _centred_quantile(x: FloatArray, window: int, q: float) -> FloatArray:
    """Quantile over a centred window of odd length, truncated at both ends."""
    return _centred_quantiles(x, window, (q,))[0]


def _truncated_quantile(x: FloatArray, idx: NDArray[np.intp], half: int, q: float) -> FloatArray:
    """``np.quantile(x[i - half : i + half + 1], q)`` (linear) for each ``i``, all at once.

    Windows cut short by the ends of ``x`` are sorted with NaN padding (sorted last), then
    interpolated with numpy's own lerp so the result equals ``np.quantile`` bit for bit.
    """
    n = x.size
    starts = np.maximum(idx - half, 0)
    lengths = np.minimum(idx + half + 1, n) - starts
    cols = np.arange(int(lengths.max()))
    inside = cols[None, :] < lengths[:, None]
    rows = np.where(inside, x[np.minimum(starts[:, None] + cols[None, :], n - 1)], np.nan)
    rows.sort(axis=1)
    pos = q * (lengths - 1)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, lengths - 1)
    t = pos - lo
    r = np.arange(idx.size)
    a, b = rows[r, lo], rows[r, hi]
    diff = b - a
    result: FloatArray = np.where(t >= 0.5, b - diff * (1.0 - t), a + diff * t)
    return result


def _qd(x: FloatArray) -> FloatArray:
    q1, q3 = _centred_quantiles(x, WINDOW_QD_BEATS, (0.25, 0.75))
    return (q3 - q1) / 2.0


def _shift(x: FloatArray, k: int, fill: float) -> FloatArray:
    """``out[i] = x[i + k]``, ``fill`` outside."""
    out = np.full(x.size, fill)
    if k > 0:
        out[:-k] = x[k:]
    else:
        out[-k:] = x[: x.size + k]
    return out


def resolution_ms(rr_ms: FloatArray) -> float:
    """The RR sampling step (ms): the smallest gap between distinct values, 0 if fewer than two.

    128-Hz PhysioNet records give 7.8125 ms, integer-ms files 1 ms, unquantised floats a tiny step.

    >>> resolution_ms(np.array([800.0, 812.5, 804.6875, 800.0]))
    4.6875
    """
    values = np.unique(rr_ms[np.isfinite(rr_ms)])
    return float(np.diff(values).min()) if values.size > 1 else 0.0


def _detect_gated(
    rr: FloatArray, floor_ms: float, *, abs_drr: bool = False, abs_mrr: bool = True
) -> LabelArray:
    """Labels for an all-in-range series (one pass, centred windows).

    Both quartile deviations are floored at ``floor_ms``, the resolution of the *input*
    (:func:`resolution_ms`; corrected series are no longer quantised): on records quantised to a
    clock tick (128 Hz: 7.8 ms) whole 91-beat windows have equal quartiles, and a zero threshold
    turns every difference of one tick into an infinite deviation.
    """
    if rr.size == 0:
        return np.zeros(0, dtype=np.int8)
    floor = floor_ms
    med = _centred_quantile(rr, WINDOW_MEDIAN_BEATS, 0.5)
    drr = np.diff(rr, prepend=rr[0])
    d = normalise(drr, ALPHA * np.maximum(_qd(np.abs(drr) if abs_drr else drr), floor))
    m = rr - med
    m[m < 0] *= 2.0
    th2 = ALPHA * np.maximum(_qd(np.abs(m) if abs_mrr else m), floor)
    d_prev, d_next, d_next2 = _shift(d, -1, 0.0), _shift(d, 1, 0.0), _shift(d, 2, 0.0)
    ectopic, candidate = ectopic_and_candidates(d_prev, d, d_next)
    after_candidate = np.zeros(rr.size, dtype=bool)
    after_candidate[1:] = candidate[:-1] & (np.abs(d[1:]) < np.abs(d_next[1:]))
    return classify(
        d,
        d_next,
        d_next2,
        normalise(m, th2),
        rr,
        _shift(rr, 1, np.nan),
        med,
        th2,
        ectopic,
        candidate | after_candidate,
    )


def _gate(rr: FloatArray) -> tuple[FloatArray, LabelArray, IndexArray]:
    """Drop leading out-of-range values, interpolate the others; labels and input indices kept."""
    valid = in_range(rr)
    first = int(np.argmax(valid))
    idx = np.arange(first, rr.size)
    x = rr[first:].copy()
    ok = valid[first:]
    x[~ok] = np.interp(idx[~ok], idx[ok], x[ok])
    labels = np.where(ok, BeatLabel.NORMAL, BeatLabel.OUT_OF_RANGE).astype(np.int8)
    return x, labels, idx


def _robust_labels(rr: FloatArray) -> LabelArray:
    """The robust sequence (:class:`OnlineArtifactDetector` with ``robust=True``) over a record."""
    det = OnlineArtifactDetector(robust=True)
    beats = [beat for value in rr.tolist() for beat in det.push(value)]
    beats += det.flush()
    return np.array([beat.label for beat in beats], dtype=np.int8)


def _level(robust: bool, correction: CorrectionLevel | None) -> CorrectionLevel:
    if correction is None:
        return "robust" if robust else "automatic"
    if correction not in CORRECTION_LEVELS:
        raise ValueError(f"correction must be one of {', '.join(CORRECTION_LEVELS)}")
    return correction


def detect_artifacts(
    rr_ms: ArrayLike,
    *,
    robust: bool = False,
    correction: CorrectionLevel | None = None,
    shape: ArrayLike | None = None,
) -> LabelArray:
    """One batch pass of Lipponen & Tarvainen (2019) over RR intervals in ms; one label each.

    Centred windows, doi:10.1080/03091902.2019.1640306. Values outside 250-2500 ms are
    ``OUT_OF_RANGE``; NaN raises ``ValueError``. The input is not modified. ``robust`` runs this
    project's extension for sustained ectopy instead (see :class:`OnlineArtifactDetector`); its
    decisions are sequential, so batch and online give the same labels there. ``correction``
    (overrides ``robust``) chooses a Kubios level: ``none`` labels only out-of-range values, a
    threshold level labels with :func:`.threshold_labels`. ``shape`` (one
    :class:`IntervalShape` per interval, from an ECG's beat labels) is merged with the labels by
    :func:`.apply_shape` (not with ``none``, which corrects nothing).

    >>> detect_artifacts([800, 810, 790, 805, 1600, 800, 795, 810, 800, 790]).tolist()
    [0, 0, 0, 0, 2, 0, 0, 0, 0, 0]
    """
    rr = _as_rr(rr_ms)
    level = _level(robust, correction)
    shp = None if shape is None or level == "none" else as_shapes(shape, rr.size)
    labels = np.full(rr.size, BeatLabel.OUT_OF_RANGE, dtype=np.int8)
    if not in_range(rr).any():
        return labels
    if level == "robust":
        labels = _robust_labels(rr)
    else:
        x, gate_labels, idx = _gate(rr)
        labels[idx] = np.where(
            gate_labels == BeatLabel.OUT_OF_RANGE, gate_labels, _found(x, level, _floor(rr))
        )
    return labels if shp is None else apply_shape(labels, shp)


def _floor(rr: FloatArray) -> float:
    """Resolution of the in-range input values: the quartile-deviation floor of every pass."""
    return resolution_ms(rr[in_range(rr)])


def _found(x: FloatArray, level: CorrectionLevel, floor_ms: float) -> LabelArray:
    if level == "none":
        return np.zeros(x.size, dtype=np.int8)
    if level == "automatic":
        return _detect_gated(x, floor_ms)
    return threshold_labels(x, level)


def _apply(x: FloatArray, labels: LabelArray, origin: IndexArray) -> tuple[FloatArray, IndexArray]:
    """Correct one labelled series; ``origin`` maps each element to its input interval."""
    x = x.copy()
    for i in np.flatnonzero(labels[:-1] == BeatLabel.EXTRA):
        x[i + 1] += x[i]
    keep = labels != BeatLabel.EXTRA
    keep[-1] = True
    missed = labels == BeatLabel.MISSED
    reps = np.where(missed, 2, 1)[keep]
    x_new = np.repeat(np.where(missed, x / 2.0, x)[keep], reps)
    origin_new = np.repeat(origin[keep], reps)
    bad = np.isin(np.repeat(labels[keep], reps), INTERPOLATED_LABELS)
    if bad.any() and not bad.all():
        pos = np.arange(x_new.size)
        x_new[bad] = np.interp(pos[bad], pos[~bad], x_new[~bad])
    return x_new, origin_new


def correct_artifacts(
    rr_ms: ArrayLike,
    *,
    iterative: bool = True,
    robust: bool = False,
    correction: CorrectionLevel | None = None,
    shape: ArrayLike | None = None,
) -> ArtifactResult:
    """Detect (centred windows) and correct artifacts; labels refer to the input intervals (ms).

    Lipponen & Tarvainen (2019), doi:10.1080/03091902.2019.1640306; with ``iterative`` the
    detection is repeated on the corrected series while the artifact count decreases. ``robust``
    labels with the sequential extension for sustained ectopy (one pass, ``iterative`` ignored)
    and corrects those labels as here. ``correction`` (overrides ``robust``) is the Kubios
    choice: ``none`` corrects only out-of-range values (in-range input comes back unchanged),
    ``very-low`` ... ``very-strong`` replace intervals beyond the level's threshold by a cubic
    spline in one pass (:mod:`.artifacts_threshold`), ``automatic`` is the default above.

    ``shape`` (one :class:`IntervalShape` per input interval, from an ECG's beat labels; not
    used with ``none``) is merged with the detected labels by :func:`.apply_shape` before
    anything is corrected: intervals next to a beat ectopic by shape are corrected as ectopic,
    normal-shaped ones are not called ectopic by timing. In the iterative mode the later passes
    run on the corrected series; there the shape-ectopic intervals (already replaced) are left
    alone and the normal-shaped ones still cannot become ectopic.

    >>> E, N = IntervalShape.ECTOPIC, IntervalShape.NORMAL
    >>> rr = [800, 810, 790, 805, 812, 800, 795, 810, 800, 790]
    >>> res = correct_artifacts(rr, shape=[N, N, N, N, E, E, N, N, N, N])
    >>> res.labels.tolist(), res.nn_ms[4:6].tolist()
    ([0, 0, 0, 0, 1, 1, 0, 0, 0, 0], [801.6666666666666, 798.3333333333334])

    >>> res = correct_artifacts([800, 810, 790, 805, 1600, 800, 795, 810, 800, 790])
    >>> res.nn_ms.tolist()
    [800.0, 810.0, 790.0, 805.0, 800.0, 800.0, 800.0, 795.0, 810.0, 800.0, 790.0]
    """
    rr = _as_rr(rr_ms)
    level = _level(robust, correction)
    shp = None if shape is None or level == "none" else as_shapes(shape, rr.size)
    result_labels = np.full(rr.size, BeatLabel.OUT_OF_RANGE, dtype=np.int8)
    if not in_range(rr).any():
        return ArtifactResult(result_labels, np.zeros(0), rr.size, np.zeros(0, np.intp))
    x, gate_labels, origin = _gate(rr)
    result_labels[origin] = BeatLabel.NORMAL
    if level == "robust":
        labels = _robust_labels(rr)
        if shp is not None:
            labels = apply_shape(labels, shp)
        nn, nn_origin = _apply(x, labels[origin], origin)
        return ArtifactResult(labels, nn, int(np.count_nonzero(labels)), nn_origin)
    floor = _floor(rr)
    if level != "automatic":
        labels = np.where(gate_labels == BeatLabel.OUT_OF_RANGE, gate_labels, _found(x, level, 0))
        if shp is not None:
            labels = apply_shape(labels, shp[origin])
        result_labels[origin] = labels
        nn = x if level == "none" else interpolate_flagged(x, labels != BeatLabel.NORMAL)
        return ArtifactResult(result_labels, nn, int(np.count_nonzero(result_labels)), origin)
    found = np.where(gate_labels == BeatLabel.OUT_OF_RANGE, gate_labels, _detect_gated(x, floor))
    if shp is not None:
        found = apply_shape(found, shp[origin])
        # Later passes: the shape-ectopic intervals are replaced already and left alone.
        done = shp == IntervalShape.ECTOPIC
        shp = np.where(done, np.int8(IntervalShape.UNKNOWN), shp).astype(np.int8)
    count = int(np.count_nonzero(found))
    while count:
        fresh = (found != BeatLabel.NORMAL) & (result_labels[origin] == BeatLabel.NORMAL)
        result_labels[origin[fresh]] = found[fresh]
        x, origin = _apply(x, found, origin)
        if not iterative:
            break
        found = _detect_gated(x, floor)
        if shp is not None:
            found = apply_shape(found, shp[origin])
            found[done[origin]] = BeatLabel.NORMAL
        previous, count = count, int(np.count_nonzero(found))
        if count >= previous:
            break
    return ArtifactResult(result_labels, x, int(np.count_nonzero(result_labels)), origin)
