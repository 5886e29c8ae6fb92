"""Sliding-window HRV over a whole record in one vectorised call.

Beat ``i`` (its interval ends at ``t[i]``) belongs to a window ``(end − window_s, end]``. Window
ends are ``first + window_s + k·step_s`` where ``first`` is the start of the first NN interval.
Time-domain metrics come from prefix sums over beats and over within-chain successive differences
(a difference whose two beats lie in different segments is never counted), located with
``np.searchsorted``: O(n + windows) for any window length. Sums are taken on values centred on the
record mean so the variance formula does not cancel catastrophically.

Spectral metrics (Welch method of :mod:`frequency`) are computed for windows lying inside one
chain: each chain is resampled once at ``resample_hz``, every window's slice of the grid becomes a
column, and all columns of equal length are detrended (one banded Cholesky factor, many right-hand
sides) and transformed together. Resampling the chain once instead of per window differs from a
per-window spline only within a beat or two of the window edges. Lomb-Scargle is not offered here.

DFA α1 (``settings.nonlinear`` scales) is computed for every window lying inside one chain with at
least ``settings.dfa_min_beats`` beats, all windows at once (:mod:`dfa_windows`, about 40 ms for
a day). Sample entropy is not a column: even sub-quadratic, it costs milliseconds per window.

A window yields values only if it passes the minimum-data rules
(:func:`biofeedback.hrv.estimates.window_reason`); otherwise its metrics are NaN and ``reason``
says why. In a window that passes them, a metric the data cannot define is NaN and ``notes``
says why (``"ln_rmssd_ln_ms: RMSSD is 0; lf_hf_ratio: HF power at or below ..."``): a window of
equal intervals has SDNN, RMSSD, SD1 and SD2 of exactly 0 and no lnRMSSD, DFA or spectral ratio;
LF/HF and the HF peak need HF power above the floor of :mod:`biofeedback.hrv.floors`, and SD2
below the SD floor of SDNN is 0 (see there).

Sustained irregular rhythm is withheld before anything else when ``settings.rhythm_check`` is on
(:func:`.prepare_nn`, as the whole-record analysis does): a window more than half of whose raw
beats are withheld has no values and its ``reason`` is :data:`.rhythm.MESSAGE`; in the others,
withheld beats count neither as beats nor in ``artifact_share``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from biofeedback.hrv.analysis import NnSeries, prepare_nn
from biofeedback.hrv.chains import chain_bounds, chain_numbers, same_chain
from biofeedback.hrv.dfa_windows import dfa_alpha_windows
from biofeedback.hrv.estimates import window_reason
from biofeedback.hrv.floors import NO_HF_POWER, NO_VARIABILITY, power_floor_ms2, sd_floor_ms
from biofeedback.hrv.frequency import (
    Spectrum,
    resample_cubic,
    trapezoid_weights,
    welch_psd_columns,
)
from biofeedback.hrv.respiration import respiration_from_spectrum
from biofeedback.hrv.rhythm import MESSAGE
from biofeedback.hrv.settings import HrvSettings

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
_CHUNK_WINDOWS = 512
_SPECTRAL_COLUMNS = (
    "vlf_ms2",
    "lf_ms2",
    "hf_ms2",
    "lf_hf",
    "hf_peak_hz",
    "respiration_rate_per_min",
)
_EXPORT_KEYS = {"ln_rmssd": "ln_rmssd_ln_ms", "lf_hf": "lf_hf_ratio"}


@dataclass(frozen=True, slots=True)
class WindowTable:
    """One row per window; columns are arrays (units in the names), NaN where not computable."""

    t_start_s: FloatArray
    t_end_s: FloatArray
    n_beats: IntArray
    covered_s: FloatArray
    artifact_share: FloatArray
    mean_rr_ms: FloatArray
    mean_hr_bpm: FloatArray
    sdnn_ms: FloatArray
    rmssd_ms: FloatArray
    ln_rmssd: FloatArray
    sdsd_ms: FloatArray
    pnn50_pct: FloatArray
    pnn20_pct: FloatArray
    sd1_ms: FloatArray
    sd2_ms: FloatArray
    vlf_ms2: FloatArray
    lf_ms2: FloatArray
    hf_ms2: FloatArray
    lf_hf: FloatArray
    hf_peak_hz: FloatArray
    respiration_rate_per_min: FloatArray
    dfa_alpha1: FloatArray
    reason: list[str | None]
    settings: HrvSettings
    notes: list[str | None] | None = None

    def __len__(self) -> int:
        return int(self.t_end_s.size)

    def to_dict(self) -> dict[str, list[object]]:
        """Column name → list (NaN and ±inf → ``None``), for CSV or JSON lines.

        Keys are the field names, except ``ln_rmssd_ln_ms`` and ``lf_hf_ratio`` (the names of the
        whole-record export); ``notes`` comes last, after ``reason``.
        """
        out: dict[str, list[object]] = {}
        for f in fields(self):
            if f.name == "settings":
                continue
            column = getattr(self, f.name)
            if column is None:
                column = [None] * len(self)
            values = column if isinstance(column, list) else column.tolist()
            key = _EXPORT_KEYS.get(f.name, f.name)
            out[key] = [_finite_or_none(v) for v in values]
        return out


def _finite_or_none(value: object) -> object:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _prefix(x: FloatArray) -> FloatArray:
    return np.concatenate(([0.0], np.cumsum(x)))


def _between(prefix: FloatArray, lo: IntArray, hi: IntArray) -> FloatArray:
    return prefix[hi] - prefix[lo]


def _flat(nn: FloatArray, lo: IntArray, hi: IntArray) -> NDArray[np.bool_]:
    """Windows whose beats are all equal (exactly; a window of one beat or none included)."""
    changes = _prefix(np.r_[0.0, (np.diff(nn) != 0).astype(np.float64)])
    flat: NDArray[np.bool_] = _between(changes, np.minimum(lo + 1, hi), hi) == 0
    return flat


def _time_domain(
    nn: FloatArray, seg: IntArray, lo: IntArray, hi: IntArray
) -> dict[str, FloatArray]:
    n = (hi - lo).astype(np.float64)
    centre = float(nn.mean())
    x = nn - centre
    s1 = _between(_prefix(x), lo, hi)
    s2 = _between(_prefix(x * x), lo, hi)
    diff = np.diff(nn, prepend=nn[0])
    ok = np.r_[False, same_chain(seg)]
    diff = np.where(ok, diff, 0.0)
    # Difference j joins beats j-1 and j: inside the window when lo + 1 <= j < hi.
    dlo = np.minimum(lo + 1, hi)
    m = _between(_prefix(ok.astype(np.float64)), dlo, hi)
    d1 = _between(_prefix(diff), dlo, hi)
    d2 = _between(_prefix(diff * diff), dlo, hi)
    n50 = _between(_prefix((np.abs(diff) > 50.0).astype(np.float64)), dlo, hi)
    n20 = _between(_prefix((np.abs(diff) > 20.0).astype(np.float64)), dlo, hi)
    flat = _flat(nn, lo, hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        # n - 1 <= 0 and m - 1 <= 0 give nan or inf: those become nan below
        sdnn = np.sqrt(np.maximum(s2 - s1 * s1 / n, 0.0) / (n - 1))
        rmssd = np.sqrt(d2 / m)
        sdsd = np.sqrt(np.maximum(d2 - d1 * d1 / m, 0.0) / (m - 1))
        sdnn = np.where((n >= 2) & ~flat, sdnn, np.where(n >= 2, 0.0, np.nan))
        rmssd = np.where(m >= 1, np.where(flat, 0.0, rmssd), np.nan)
        sdsd = np.where(m >= 2, np.where(flat, 0.0, sdsd), np.nan)
        sd1 = sdsd / np.sqrt(2.0)
        sd2 = np.sqrt(np.maximum(2.0 * sdnn * sdnn - sd1 * sd1, 0.0))
        sd2 = np.where(np.isnan(sd1) | np.isnan(sdnn) | (sd2 > sd_floor_ms(sdnn)), sd2, 0.0)
        return {
            "mean_rr_ms": centre + s1 / n,
            "mean_hr_bpm": 60_000.0 / (centre + s1 / n),
            "sdnn_ms": sdnn,
            "rmssd_ms": rmssd,
            "ln_rmssd": np.where(rmssd > 0, np.log(np.where(rmssd > 0, rmssd, 1.0)), np.nan),
            "sdsd_ms": sdsd,
            "pnn50_pct": np.where(m >= 1, 100.0 * n50 / m, np.nan),
            "pnn20_pct": np.where(m >= 1, 100.0 * n20 / m, np.nan),
            "sd1_ms": sd1,
            "sd2_ms": sd2,
        }


def _spectral(
    series: NnSeries,
    start: FloatArray,
    end: FloatArray,
    lo: IntArray,
    hi: IntArray,
    window_s: float,
    valid: NDArray[np.bool_],
    settings: HrvSettings,
) -> dict[str, FloatArray]:
    k = start.size
    out = {name: np.full(k, np.nan) for name in _SPECTRAL_COLUMNS}
    fs = settings.resample_hz
    n_samples = int(np.floor(window_s * fs))
    seg, t = series.segment, series.t_s
    chain_of_beat = chain_numbers(seg) - 1
    last = np.maximum(hi - 1, lo)
    for c, (a, b) in enumerate(chain_bounds(seg)):
        if b - a < 4:
            continue
        t0 = t[a]
        inside = valid & (hi > lo) & (chain_of_beat[np.minimum(lo, seg.size - 1)] == c)
        # A window may begin where the chain's first interval begins, one RR before t0.
        chain_start_s = t0 - series.nn_ms[a] / 1000.0 - 1e-9
        inside &= (chain_of_beat[last] == c) & (start >= chain_start_s) & (end <= t[b - 1] + 1e-9)
        windows = np.flatnonzero(inside)
        if windows.size == 0:
            continue
        _, grid = resample_cubic(t[a:b], series.nn_ms[a:b], fs)
        first = np.ceil((start[windows] - t0) * fs - 1e-9).astype(np.int64)
        if grid.size < n_samples:
            continue
        first = np.clip(first, 0, grid.size - n_samples)
        for chunk in np.array_split(
            np.arange(windows.size), max(1, windows.size // _CHUNK_WINDOWS)
        ):
            columns = grid[first[chunk, None] + np.arange(n_samples)].T
            freq, psd = welch_psd_columns(columns, settings)
            _fill(out, windows[chunk], freq, psd, settings)
    return out


def _dfa_alpha1(
    series: NnSeries, lo: IntArray, hi: IntArray, valid: NDArray[np.bool_], settings: HrvSettings
) -> FloatArray:
    seg = series.segment
    last = np.maximum(hi - 1, lo)
    one_chain = (hi > lo) & (
        seg[np.minimum(lo, seg.size - 1)] == seg[np.minimum(last, seg.size - 1)]
    )
    use = valid & one_chain & (hi - lo >= settings.dfa_min_beats)
    nl = settings.nonlinear
    alpha = np.full(lo.size, np.nan)
    alpha[use] = dfa_alpha_windows(
        series.nn_ms, lo[use], hi[use], nl.alpha1_scales_beats, nl.dfa_overlap
    )
    return alpha


def _fill(
    out: dict[str, FloatArray],
    rows: IntArray,
    freq: FloatArray,
    psd: FloatArray,
    settings: HrvSettings,
) -> None:
    hf_mask = (freq >= settings.hf_band_hz[0]) & (freq < settings.hf_band_hz[1])
    vlf = psd @ trapezoid_weights(freq, settings.vlf_band_hz)
    lf = psd @ trapezoid_weights(freq, settings.lf_band_hz)
    hf = psd @ trapezoid_weights(freq, settings.hf_band_hz)
    has_hf = hf > power_floor_ms2(vlf + lf + hf)
    out["vlf_ms2"][rows] = vlf
    out["lf_ms2"][rows] = lf
    out["hf_ms2"][rows] = hf
    out["lf_hf"][rows] = np.where(has_hf, lf / np.where(has_hf, hf, 1.0), np.nan)
    peak = freq[hf_mask][np.argmax(psd[:, hf_mask], axis=1)]
    out["hf_peak_hz"][rows] = np.where(has_hf, peak, np.nan)
    for row, column in zip(rows, psd, strict=True):
        resp = respiration_from_spectrum(Spectrum(freq, column), settings)
        out["respiration_rate_per_min"][row] = resp.rate_per_min if resp.valid else np.nan


def sliding_windows(
    t_s: ArrayLike | None,
    rr_ms: ArrayLike,
    segment: ArrayLike | None = None,
    window_s: float = 300.0,
    step_s: float = 30.0,
    settings: HrvSettings | None = None,
    *,
    correct: bool = True,
    spectral: bool = True,
    shape: ArrayLike | None = None,
) -> WindowTable:
    """HRV of every ``window_s`` window advanced by ``step_s`` over an RR record (ms).

    ``t_s`` are raw beat times (default: cumulative RR), ``segment`` continuity ids. Artifacts are
    corrected per chain first (``correct``); a window's ``artifact_share`` is the share of raw
    beats inside it that the correction labelled, among those not withheld. With
    ``settings.rhythm_check``, sustained irregular rhythm is withheld first (:mod:`.rhythm`); a
    window more than half of whose raw beats are withheld has no values and ``reason``
    :data:`.rhythm.MESSAGE`. ``shape``: per-interval beat shapes from an ECG, given to the
    correction (:func:`.prepare_nn`).
    """
    settings = settings or HrvSettings()
    if window_s <= 0 or step_s <= 0:
        raise ValueError("window_s and step_s must be positive")
    series = _prepare(rr_ms, t_s, segment, correct, settings, shape)
    t, nn = series.t_s, series.nn_ms
    origin_s = float(t[0] - nn[0] / 1000.0)
    n_windows = max(0, int(np.floor((t[-1] - origin_s - window_s) / step_s)) + 1)
    end = origin_s + window_s + step_s * np.arange(n_windows, dtype=np.float64)
    start = end - window_s
    lo = np.searchsorted(t, start, side="right").astype(np.int64)
    hi = np.searchsorted(t, end, side="right").astype(np.int64)
    raw_lo = np.searchsorted(series.t_raw_s, start, side="right")
    raw_hi = np.searchsorted(series.t_raw_s, end, side="right")
    n_raw = (raw_hi - raw_lo).astype(np.float64)
    withheld = (
        np.zeros(n_raw.size)
        if series.withheld is None
        else _between(_prefix(series.withheld.astype(np.float64)), raw_lo, raw_hi)
    )
    n_judged = n_raw - withheld
    flagged = _between(_prefix((series.labels != 0).astype(np.float64)), raw_lo, raw_hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n_judged > 0, flagged / n_judged, 0.0)
        irregular = np.where(n_raw > 0, withheld / n_raw, 0.0) > 0.5
    covered = _between(_prefix(nn), lo, hi) / 1000.0
    n_beats = hi - lo
    reasons = [
        MESSAGE if irr else window_reason(int(nb), float(cv), window_s, float(sh), settings)
        for nb, cv, sh, irr in zip(n_beats, covered, share, irregular, strict=True)
    ]
    valid = np.array([r is None for r in reasons], dtype=bool)
    columns = _time_domain(nn, series.segment, lo, hi)
    columns["dfa_alpha1"] = _dfa_alpha1(series, lo, hi, valid, settings)
    if spectral:
        columns |= _spectral(series, start, end, lo, hi, window_s, valid, settings)
    else:
        columns |= {name: np.full(n_windows, np.nan) for name in _SPECTRAL_COLUMNS}
    for name, column in columns.items():
        columns[name] = np.where(valid, column, np.nan)
    notes = _notes(columns, series, lo, hi, valid, spectral, settings)
    return WindowTable(
        t_start_s=start,
        t_end_s=end,
        n_beats=n_beats,
        covered_s=covered,
        artifact_share=share,
        reason=reasons,
        settings=settings,
        notes=notes,
        **columns,
    )


def _prepare(
    rr_ms: ArrayLike,
    t_s: ArrayLike | None,
    segment: ArrayLike | None,
    correct: bool,
    settings: HrvSettings,
    shape: ArrayLike | None = None,
) -> NnSeries:
    """:func:`.prepare_nn` withholding irregular rhythm; when it withholds everything, the
    series as :func:`.analyze_record` builds it then (nothing labelled, every interval withheld)."""
    try:
        return prepare_nn(
            rr_ms,
            t_s,
            segment,
            correct=correct,
            correction=settings.correction,
            withhold_irregular=settings.rhythm_check,
            shape=shape,
        )
    except ValueError as exc:
        if str(exc) != MESSAGE:
            raise
    series = prepare_nn(
        rr_ms, t_s, segment, correct=correct, correction=settings.correction, shape=shape
    )
    size = series.labels.size
    return replace(series, labels=np.zeros(size, np.int8), withheld=np.ones(size, dtype=bool))


_TIME_COLUMNS = ("sdnn_ms", "rmssd_ms", "sdsd_ms", "pnn50_pct", "pnn20_pct", "sd1_ms", "sd2_ms")
_OUTSIDE_CHAIN = "the window does not lie inside one continuity chain"


def _notes(
    columns: dict[str, FloatArray],
    series: NnSeries,
    lo: IntArray,
    hi: IntArray,
    valid: NDArray[np.bool_],
    spectral: bool,
    settings: HrvSettings,
) -> list[str | None]:
    """Why each metric a valid window leaves undefined is undefined (``None``: all defined)."""
    seg = series.segment
    flat = _flat(series.nn_ms, lo, hi)
    last = np.minimum(np.maximum(hi - 1, lo), seg.size - 1)
    one_chain = seg[np.minimum(lo, seg.size - 1)] == seg[last]
    missing = {name: np.isnan(column) for name, column in columns.items()}
    out: list[str | None] = []
    why: list[str] = []
    k = 0

    def note(name: str, reason: str) -> None:
        if missing[name][k]:
            why.append(f"{_EXPORT_KEYS.get(name, name)}: {reason}")

    for k in range(lo.size):
        if not valid[k]:
            out.append(None)
            continue
        why.clear()

        for name in _TIME_COLUMNS:
            note(name, "too few successive differences inside one continuity chain")
        note("ln_rmssd", NO_VARIABILITY if flat[k] else "RMSSD is 0")
        if spectral and missing["vlf_ms2"][k]:
            for name in ("vlf_ms2", "lf_ms2", "hf_ms2", "lf_hf", "hf_peak_hz"):
                note(name, _OUTSIDE_CHAIN)
            note("respiration_rate_per_min", _OUTSIDE_CHAIN)
        elif spectral:
            note("lf_hf", NO_VARIABILITY if flat[k] else NO_HF_POWER)
            note("hf_peak_hz", NO_VARIABILITY if flat[k] else NO_HF_POWER)
            note("respiration_rate_per_min", "no clear respiratory peak")
        if flat[k]:
            note("dfa_alpha1", NO_VARIABILITY)
        elif hi[k] - lo[k] < settings.dfa_min_beats:
            note("dfa_alpha1", f"fewer than {settings.dfa_min_beats} beats")
        elif not one_chain[k]:
            note("dfa_alpha1", _OUTSIDE_CHAIN)
        else:
            note("dfa_alpha1", "F(n) is 0 at some scale")
        out.append("; ".join(why) or None)
    return out
