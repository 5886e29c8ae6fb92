"""Time-domain and Poincaré HRV metrics, one function per metric, NN intervals in ms.

Every function that uses successive differences accepts an optional ``segment`` id per beat: a
difference is only taken between two beats of the same segment (a continuity chain), never
across a gap. Definitions follow the Task Force (1996), doi:10.1161/01.CIR.93.5.1043; standard
deviations use ``ddof=1`` (sample SD), as NeuroKit2, pyHRV's SDNN and Kubios do.

No function raises or warns on a degenerate series: a metric that needs more intervals or
differences than there are, or whose denominator is zero within the numerical floors of
:mod:`biofeedback.hrv.floors`, is ``nan`` (SD1/SD2 when SD2 is 0, lnRMSSD when RMSSD is 0, the
stress index when all intervals are equal); :func:`biofeedback.hrv.analysis.time_reasons` says why.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from biofeedback.hrv.chains import same_chain
from biofeedback.hrv.floors import is_constant, sd_floor_ms

FloatArray = NDArray[np.float64]


def _as_rr(rr_ms: ArrayLike) -> FloatArray:
    rr = np.asarray(rr_ms, dtype=np.float64)
    if rr.ndim != 1:
        raise ValueError(f"rr_ms must be one-dimensional, got shape {rr.shape}")
    return rr


def successive_differences_ms(rr_ms: ArrayLike, segment: ArrayLike | None = None) -> FloatArray:
    """Differences ``rr[i] - rr[i-1]`` within each segment (ms).

    >>> successive_differences_ms([800, 810, 790, 1000], segment=[0, 0, 0, 1]).tolist()
    [10.0, -20.0]
    """
    rr = _as_rr(rr_ms)
    diff = np.diff(rr)
    if segment is None:
        return diff
    seg = np.asarray(segment)
    if seg.shape != rr.shape:
        raise ValueError(f"segment must match rr_ms in shape, got {seg.shape} vs {rr.shape}")
    within: FloatArray = diff[same_chain(seg)]
    return within


def mean_rr_ms(rr_ms: ArrayLike) -> float:
    """Mean NN interval (ms).

    >>> mean_rr_ms([800, 1000])
    900.0
    """
    return float(np.mean(_as_rr(rr_ms)))


def mean_hr_bpm(rr_ms: ArrayLike) -> float:
    """Mean heart rate ``60000 / mean RR`` (beats/min), as Kubios reports it.

    The mean of the instantaneous rates ``60000 / rr`` is 1-2 % higher on ordinary records (and
    is what a strap's HR byte averages to); Kubios' reports give 60000 / mean RR (FACTS §2.6).

    >>> round(mean_hr_bpm([1000, 500]), 3)
    80.0
    """
    rr = _as_rr(rr_ms)
    return float(60_000.0 / np.mean(rr)) if rr.size else float("nan")


def sdnn_ms(rr_ms: ArrayLike) -> float:
    """Standard deviation of NN intervals, sample SD (``ddof=1``), in ms.

    >>> sdnn_ms([800, 1000])
    141.4213562373095
    """
    rr = _as_rr(rr_ms)
    if rr.size < 2:
        return float("nan")
    # exactly 0 for equal values (their mean may be an ulp off, e.g. 800.1 ms)
    return 0.0 if is_constant(rr) else float(np.std(rr, ddof=1))


def rmssd_ms(rr_ms: ArrayLike, segment: ArrayLike | None = None) -> float:
    """Root mean square of successive differences (ms): ``sqrt(mean(diff**2))``.

    >>> rmssd_ms([800, 810, 790])
    15.811388300841896
    """
    diff = successive_differences_ms(rr_ms, segment)
    return float(np.sqrt(np.mean(diff * diff))) if diff.size else float("nan")


def ln_rmssd(rr_ms: ArrayLike, segment: ArrayLike | None = None) -> float:
    """Natural log of RMSSD in ms (ln-ms), Esco & Flatt 2014, J Sports Sci Med 13:535.

    >>> round(ln_rmssd([800, 810, 790]), 6)
    2.76073
    >>> ln_rmssd([800, 800, 800])
    nan
    """
    rmssd = rmssd_ms(rr_ms, segment)
    return float(np.log(rmssd)) if rmssd > 0 else float("nan")


def sdsd_ms(rr_ms: ArrayLike, segment: ArrayLike | None = None) -> float:
    """Sample standard deviation (``ddof=1``) of successive differences (ms).

    >>> sdsd_ms([800, 810, 790])
    21.213203435596427
    """
    diff = successive_differences_ms(rr_ms, segment)
    return float(np.std(diff, ddof=1)) if diff.size >= 2 else float("nan")


def pnn_pct(rr_ms: ArrayLike, threshold_ms: float, segment: ArrayLike | None = None) -> float:
    """Share of successive differences with ``|diff| > threshold_ms``, in percent.

    The denominator is the number of differences (Task Force; hrv-analysis, pyHRV), not the
    number of intervals as in NeuroKit2 (see the reference MANIFEST).

    >>> pnn_pct([800, 900, 905], 50.0)
    50.0
    """
    diff = successive_differences_ms(rr_ms, segment)
    if diff.size == 0:
        return float("nan")
    return float(100.0 * np.count_nonzero(np.abs(diff) > threshold_ms) / diff.size)


def pnn50_pct(rr_ms: ArrayLike, segment: ArrayLike | None = None) -> float:
    """pNN50 (%): differences larger than 50 ms over the number of differences."""
    return pnn_pct(rr_ms, 50.0, segment)


def pnn20_pct(rr_ms: ArrayLike, segment: ArrayLike | None = None) -> float:
    """pNN20 (%): differences larger than 20 ms over the number of differences."""
    return pnn_pct(rr_ms, 20.0, segment)


def sd1_ms(rr_ms: ArrayLike, segment: ArrayLike | None = None) -> float:
    """Poincaré SD1 = SDSD/√2 (ms), Brennan et al. 2001, doi:10.1109/10.959330.

    >>> round(sd1_ms([800, 810, 790]), 6)
    15.0
    """
    return float(np.sqrt(0.5) * sdsd_ms(rr_ms, segment))


def sd2_ms(rr_ms: ArrayLike, segment: ArrayLike | None = None) -> float:
    """Poincaré SD2 = sqrt(2·SDNN² − SD1²) (ms), Brennan et al. 2001, doi:10.1109/10.959330.

    The difference of squares cancels: an SD2 below the SD floor of SDNN
    (:func:`biofeedback.hrv.floors.sd_floor_ms`) is rounding noise and is reported as 0.

    >>> sd2_ms([800, 810] * 50)
    0.0
    """
    sdnn = sdnn_ms(rr_ms)
    sd1 = sd1_ms(rr_ms, segment)
    if not (np.isfinite(sdnn) and np.isfinite(sd1)):
        return float("nan")
    sd2 = float(np.sqrt(max(2.0 * sdnn**2 - sd1**2, 0.0)))
    return sd2 if sd2 > float(sd_floor_ms(sdnn)) else 0.0


def sd1_sd2_ratio(rr_ms: ArrayLike, segment: ArrayLike | None = None) -> float:
    """SD1/SD2 (dimensionless); ``nan`` when SD2 is 0 (or SD1 or SD2 is not defined).

    >>> sd1_sd2_ratio([800.0] * 300)
    nan
    """
    sd2 = sd2_ms(rr_ms, segment)
    return sd1_ms(rr_ms, segment) / sd2 if sd2 > 0 else float("nan")


def stress_index(rr_ms: ArrayLike, bin_ms: float = 50.0) -> float:
    """Baevsky stress index ``SI = AMo / (2·Mo·MxDMn)``.

    Histogram bins of ``bin_ms`` (Kubios: 50 ms) aligned on multiples of the bin width; Mo is the
    modal bin's centre (s), AMo the share of intervals in it (%), MxDMn = max − min (s).
    Baevsky & Chernikova 2017, Cardiometry 10:66-76, doi:10.12710/cardiometry.2017.10.6676.
    Unstable on short windows (use >= 2 min). ``nan`` when all intervals are equal
    (MxDMn = 0: the index is unbounded).

    >>> round(stress_index([800, 810, 820, 900]), 3)
    454.545
    """
    rr = _as_rr(rr_ms)
    bins = np.floor(rr / bin_ms).astype(np.int64)
    values, counts = np.unique(bins, return_counts=True)
    modal = int(np.argmax(counts))
    mode_s = (values[modal] + 0.5) * bin_ms / 1000.0
    amo_pct = 100.0 * counts[modal] / rr.size
    range_s = (float(rr.max()) - float(rr.min())) / 1000.0
    if range_s == 0.0:
        return float("nan")
    return float(amo_pct / (2.0 * mode_s * range_s))


def sqrt_stress_index(rr_ms: ArrayLike, bin_ms: float = 50.0) -> float:
    """Square root of the Baevsky stress index, the scale Kubios reports (normal ≈ 7-12)."""
    return float(np.sqrt(stress_index(rr_ms, bin_ms)))
