"""Parasympathetic estimates with uncertainty and minimum-data rules.

Three numbers, each a :class:`Value` that carries its window, its quality and, when absent, the
reason:

1. lnRMSSD (ln-ms), the best-validated ultra-short vagal index (Esco & Flatt 2014).
2. A Kubios-style PNS index: the mean of the z-scores of mean RR, RMSSD and SD1 against
   population norms. Kubios computes it from these three parameters (kubios.com/hrv-ans-function)
   but its norms and weighting are unpublished, so this is an **approximation**. Norms used:
   mean RR 926 ± 90 ms and RMSSD 42 ± 15 ms from Nunan, Sandercock & Brodie (2010), A quantitative
   systematic review of normal values for short-term HRV in healthy adults, PACE 33:1407-1417,
   doi:10.1111/j.1540-8159.2010.02841.x (a third-party reimplementation quotes RMSSD 42 ± 19: the
   sources conflict), and SD1 29 ± 13 ms from the same third-party code (no primary source found).
   The norms are for 5-min supine recordings; a 60-s window is only approximately comparable.
3. A relaxation score: the current window's lnRMSSD as a z-score against this session's baseline
   windows; this is the number to lead with during ASMR (a within-person reference, FACTS §1.7).

Uncertainty: the half-width of Esco & Flatt's 95 % limits of agreement between an ultra-short and
a 5-min lnRMSSD at rest: 10 s ±0.94, 30 s ±0.41, 60 s ±0.22 ln-ms (Esco & Flatt 2014, J Sports Sci
Med 13:535-541, PMC4126289). Between 10 and 60 s it is interpolated linearly in log(window) vs
log(LOA); below 10 s the 10-30 s slope is extrapolated; above 60 s it shrinks as 1/√window (the
sampling error of a mean over more beats; an assumption, not a measurement). It is widened by the
factor ``1 + share / 0.05`` for the share of corrected beats, a heuristic that doubles it at the
5 % rejection limit (Lipponen & Tarvainen 2019 report < 2-8 % parameter error after correction).
The PNS index and relaxation score propagate it to first order (RMSSD and SD1 move together, so
their terms add linearly).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from biofeedback.hrv.settings import HrvSettings

NORM_MEAN_RR_MS = (926.0, 90.0)
NORM_RMSSD_MS = (42.0, 15.0)
NORM_SD1_MS = (29.0, 13.0)

_LOA_WINDOWS_S = (10.0, 30.0, 60.0)
_LOA_LN_MS = (0.94, 0.41, 0.22)
_SHARE_AT_DOUBLE = 0.05


@dataclass(frozen=True, slots=True)
class Value:
    """A number with its window and quality, or ``value is None`` and a ``reason``."""

    value: float | None
    uncertainty: float | None
    reason: str | None
    window_s: float
    n_beats: int
    artifact_share: float

    @classmethod
    def absent(cls, reason: str, window_s: float, n_beats: int, artifact_share: float) -> Value:
        return cls(None, None, reason, window_s, n_beats, artifact_share)

    def to_dict(self) -> dict[str, object]:
        return {
            "value": self.value,
            "uncertainty": self.uncertainty,
            "reason": self.reason,
            "window_s": self.window_s,
            "n_beats": self.n_beats,
            "artifact_share": self.artifact_share,
        }


@dataclass(frozen=True, slots=True)
class Baseline:
    """Summary of the baseline's lnRMSSD windows (ln-ms)."""

    mean_ln_rmssd: float
    sd_ln_rmssd: float
    n_windows: int

    @classmethod
    def from_values(cls, ln_rmssd_values: ArrayLike) -> Baseline:
        values = np.asarray(ln_rmssd_values, dtype=np.float64)
        sd = float(np.std(values, ddof=1)) if values.size > 1 else float("nan")
        return cls(float(np.mean(values)), sd, int(values.size))


def window_reason(
    n_beats: int, covered_s: float, window_s: float, artifact_share: float, settings: HrvSettings
) -> str | None:
    """Why a window may not yield a value, or ``None`` if it may (minimum-data rules).

    >>> window_reason(10, 60.0, 60.0, 0.0, HrvSettings())
    'too few beats: 10 < 20'
    """
    if n_beats < settings.min_beats:
        return f"too few beats: {n_beats} < {settings.min_beats}"
    if covered_s < settings.min_coverage * window_s:
        return f"window not covered: {covered_s:.1f} s of {window_s:.0f} s"
    if artifact_share > settings.max_corrected_share:
        return (
            f"too many corrected beats: {artifact_share:.1%} > {settings.max_corrected_share:.0%}"
        )
    return None


def ln_rmssd_uncertainty(window_s: float, artifact_share: float = 0.0) -> float:
    """Half-width of the 95 % limits of agreement of lnRMSSD (ln-ms); see the module docstring.

    >>> ln_rmssd_uncertainty(60.0)
    0.22
    >>> round(ln_rmssd_uncertainty(240.0), 3)
    0.11
    >>> round(ln_rmssd_uncertainty(60.0, 0.05), 3)
    0.44
    """
    if window_s <= 0:
        raise ValueError(f"window_s must be positive, got {window_s}")
    if window_s >= _LOA_WINDOWS_S[-1]:
        base = _LOA_LN_MS[-1] * math.sqrt(_LOA_WINDOWS_S[-1] / window_s)
    else:
        log_w = np.log(_LOA_WINDOWS_S)
        log_loa = np.log(_LOA_LN_MS)
        x = math.log(window_s)
        if x < log_w[0]:
            slope = (log_loa[1] - log_loa[0]) / (log_w[1] - log_w[0])
            base = math.exp(log_loa[0] + slope * (x - log_w[0]))
        else:
            base = math.exp(float(np.interp(x, log_w, log_loa)))
    return base * (1.0 + artifact_share / _SHARE_AT_DOUBLE)


def ln_rmssd_value(
    rmssd_ms: float,
    window_s: float,
    n_beats: int,
    covered_s: float,
    artifact_share: float,
    settings: HrvSettings,
) -> Value:
    """lnRMSSD (ln-ms) of a window of ``window_s``, or the reason it has none."""
    reason = window_reason(n_beats, covered_s, window_s, artifact_share, settings)
    if reason is None and not rmssd_ms > 0:
        reason = "RMSSD is zero"
    if reason is not None:
        return Value.absent(reason, window_s, n_beats, artifact_share)
    u = ln_rmssd_uncertainty(window_s, artifact_share)
    return Value(math.log(rmssd_ms), u, None, window_s, n_beats, artifact_share)


def pns_index(
    mean_rr_ms: float,
    rmssd_ms: float,
    sd1_ms: float,
    window_s: float,
    n_beats: int,
    covered_s: float,
    artifact_share: float,
    settings: HrvSettings,
) -> Value:
    """Kubios-style PNS index (SD units; an approximation, see the module docstring).

    >>> pns_index(926.0, 42.0, 29.0, 60.0, 60, 60.0, 0.0, HrvSettings()).value
    0.0
    """
    reason = window_reason(n_beats, covered_s, window_s, artifact_share, settings)
    if reason is not None:
        return Value.absent(reason, window_s, n_beats, artifact_share)
    z_rr = (mean_rr_ms - NORM_MEAN_RR_MS[0]) / NORM_MEAN_RR_MS[1]
    z_rmssd = (rmssd_ms - NORM_RMSSD_MS[0]) / NORM_RMSSD_MS[1]
    z_sd1 = (sd1_ms - NORM_SD1_MS[0]) / NORM_SD1_MS[1]
    # A relative error u on RMSSD is the same relative error on SD1 (SD1 ≈ RMSSD/√2).
    u_rel = math.expm1(ln_rmssd_uncertainty(window_s, artifact_share))
    u = (rmssd_ms * u_rel / NORM_RMSSD_MS[1] + sd1_ms * u_rel / NORM_SD1_MS[1]) / 3.0
    return Value((z_rr + z_rmssd + z_sd1) / 3.0, u, None, window_s, n_beats, artifact_share)


def relaxation_score(ln_rmssd: Value, baseline: Baseline | None, settings: HrvSettings) -> Value:
    """Current lnRMSSD as a z-score against the session baseline's windows (SD units).

    The baseline SD is floored at ``settings.relaxation_sd_floor`` (Esco & Flatt's 60-s typical
    error, 0.11 ln-ms) so that an unusually steady baseline does not inflate the score.

    >>> ln = Value(3.5, 0.22, None, 60.0, 60, 0.0)
    >>> relaxation_score(ln, Baseline(3.0, 0.25, 12), HrvSettings()).value
    2.0
    """
    absent = Value.absent
    args = (ln_rmssd.window_s, ln_rmssd.n_beats, ln_rmssd.artifact_share)
    if ln_rmssd.value is None or ln_rmssd.uncertainty is None:
        return absent(ln_rmssd.reason or "no lnRMSSD", *args)
    if baseline is None:
        return absent("no baseline recorded", *args)
    if baseline.n_windows < settings.min_baseline_windows:
        return absent(
            f"baseline too short: {baseline.n_windows} < {settings.min_baseline_windows} windows",
            *args,
        )
    sd = max(baseline.sd_ln_rmssd, settings.relaxation_sd_floor)
    z = (ln_rmssd.value - baseline.mean_ln_rmssd) / sd
    u = math.hypot(ln_rmssd.uncertainty, sd / math.sqrt(baseline.n_windows)) / sd
    return Value(z, u, None, *args)
