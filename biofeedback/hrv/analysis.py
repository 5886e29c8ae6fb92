"""Whole-record HRV: artifact correction, time, frequency and nonlinear domain, estimates.

``analyze_record`` runs the batch Lipponen-Tarvainen correction per continuity chain (a chain is a
run of equal ``segment`` ids; a correction never looks across a gap), then every metric of
:mod:`time_domain`, :mod:`frequency`, :mod:`respiration`, :mod:`nonlinear` and :mod:`estimates`
on the NN series. Nonlinear indices combine the chains exactly (no entropy template and no DFA
window spans a gap; see :func:`biofeedback.hrv.nonlinear.nonlinear_metrics_chains`).
``HrvReport.to_dict()`` is the JSON export; its keys carry their units (README, "JSON keys").

Nothing here raises on a degenerate but valid series (one beat, three beats, all beats equal,
800/810 alternating): a metric the series cannot define is ``null`` in the export and
``reasons`` maps its dotted key (``"time.sd1_sd2_ratio"``, ``"nonlinear.sampen"``) to why. The
numerical floors that decide when a ratio's denominator is zero are in :mod:`floors`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from biofeedback.hrv import time_domain as td
from biofeedback.hrv.alternation import hint as alternation_hint
from biofeedback.hrv.artifacts import BeatLabel, CorrectionLevel, correct_artifacts
from biofeedback.hrv.chains import chain_bounds, chain_numbers, chain_starts, same_chain
from biofeedback.hrv.detrend import detrend_at_beats
from biofeedback.hrv.estimates import Value, ln_rmssd_value, pns_index, window_reason
from biofeedback.hrv.floors import NO_HF_POWER, NO_VARIABILITY, is_constant
from biofeedback.hrv.frequency import FrequencyResult, frequency_domain
from biofeedback.hrv.nonlinear import NonlinearResult, NonlinearSettings, nonlinear_metrics_chains
from biofeedback.hrv.respiration import Respiration, respiration_from_spectrum
from biofeedback.hrv.rhythm import MESSAGE, METHOD, withheld_mask
from biofeedback.hrv.settings import ArtifactMethod, HrvSettings

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class NnSeries:
    """Raw beats with their labels, and the corrected NN series with its own times and chains.

    ``withheld`` marks raw intervals inside sustained irregular rhythm (:mod:`.rhythm`): they
    are not in the NN series, are labelled normal (not artifacts) and split their chain.
    ``origin[k]`` is the raw interval that NN value ``k`` came from (:class:`.ArtifactResult`).
    """

    t_raw_s: FloatArray
    labels: NDArray[np.int8]
    t_s: FloatArray
    nn_ms: FloatArray
    segment: IntArray
    withheld: NDArray[np.bool_] | None = None
    origin: IntArray | None = None

    @property
    def n_corrected(self) -> int:
        return int(np.count_nonzero(self.labels))

    @property
    def n_withheld(self) -> int:
        return 0 if self.withheld is None else int(np.count_nonzero(self.withheld))


def prepare_nn(
    rr_ms: ArrayLike,
    t_s: ArrayLike | None = None,
    segment: ArrayLike | None = None,
    *,
    correct: bool = True,
    artifact_method: ArtifactMethod = "published",
    correction: CorrectionLevel | None = None,
    withhold_irregular: bool = False,
    shape: ArrayLike | None = None,
) -> NnSeries:
    """Correct each chain and place its NN intervals in time, anchored at the chain's last beat.

    Anchoring at the end keeps NN times on the source clock even when the correction drops
    leading out-of-range intervals or merges extra beats. ``correction`` (a Kubios level, see
    :func:`.correct_artifacts`) overrides ``artifact_method``; ``withhold_irregular`` removes
    sustained irregular rhythm first (:func:`.rhythm.withheld_mask`), splitting chains there.
    ``shape`` (one :class:`.IntervalShape` per interval, from an ECG's beat labels) goes to
    :func:`.correct_artifacts`: the RR-only labels become the fallback (:mod:`.artifacts_shape`).
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    seg = np.zeros(rr.size, np.int64) if segment is None else np.asarray(segment, np.int64)
    t_raw = np.cumsum(rr) / 1000.0 if t_s is None else np.asarray(t_s, dtype=np.float64)
    if rr.ndim != 1 or not rr.shape == seg.shape == t_raw.shape:
        raise ValueError("rr_ms, t_s and segment must be one-dimensional and of equal length")
    if rr.size == 0:
        raise ValueError("rr_ms is empty")
    shp = None if shape is None else np.asarray(shape, np.int8)
    if shp is not None and shp.shape != rr.shape:
        raise ValueError("shape must have one value per interval")
    level = correction or ("robust" if artifact_method == "robust" else "automatic")
    withheld = withheld_mask(rr, seg) if withhold_irregular else None
    # Chains split where the rhythm is withheld; their ids stay increasing and distinct.
    parts_id = seg if withheld is None else chain_numbers(seg, withheld)
    labels = np.zeros(rr.size, np.int8)
    parts_t: list[FloatArray] = []
    parts_nn: list[FloatArray] = []
    parts_seg: list[IntArray] = []
    parts_origin: list[IntArray] = []
    for a, b in chain_bounds(parts_id):
        if withheld is not None and withheld[a]:
            continue
        if correct:
            part = None if shp is None else shp[a:b]
            result = correct_artifacts(rr[a:b], correction=level, shape=part)
            labels[a:b] = result.labels
            nn = result.nn_ms
            assert result.origin is not None
            origin = a + result.origin.astype(np.int64)
        else:
            nn = rr[a:b]
            origin = np.arange(a, b, dtype=np.int64)
        if nn.size:
            parts_t.append(t_raw[b - 1] - (nn.sum() - np.cumsum(nn)) / 1000.0)
            parts_nn.append(nn)
            parts_seg.append(np.full(nn.size, parts_id[a], np.int64))
            parts_origin.append(origin)
    if not parts_nn:
        if withheld is not None and withheld.any():
            raise ValueError(MESSAGE)
        raise ValueError("no interval within the physiological range")
    return NnSeries(
        t_raw,
        labels,
        np.concatenate(parts_t),
        np.concatenate(parts_nn),
        np.concatenate(parts_seg),
        withheld,
        np.concatenate(parts_origin),
    )


def detrend_nn(
    nn_ms: FloatArray,
    segment: IntArray,
    lambda_: float,
    rate_hz: float,
    t_s: FloatArray | None = None,
) -> FloatArray:
    """NN minus its smoothness-priors trend over time, per chain, mean kept (ms).

    Kubios detrends the RR series before its time-domain statistics when detrending is on
    (FACTS §2.6), on the series resampled at its interpolation rate, taken back at the beats
    (:func:`.detrend.detrend_at_beats`; ``t_s`` the NN times, else their cumulative sum per
    chain); the mean is added back so mean RR and mean HR are unchanged.
    """
    out = nn_ms.astype(np.float64, copy=True)
    for a, b in chain_bounds(segment):
        if b - a >= 3:
            t = None if t_s is None else t_s[a:b]
            out[a:b] = detrend_at_beats(nn_ms[a:b], t, lambda_, rate_hz)
    return out


@dataclass(frozen=True, slots=True)
class TimeDomain:
    """Time-domain and Poincaré metrics of an NN series (units in the names)."""

    mean_rr_ms: float
    mean_hr_bpm: float
    sdnn_ms: float
    rmssd_ms: float
    ln_rmssd: float
    sdsd_ms: float
    pnn50_pct: float
    pnn20_pct: float
    sd1_ms: float
    sd2_ms: float
    sd1_sd2_ratio: float
    stress_index: float
    sqrt_stress_index: float

    @classmethod
    def compute(
        cls,
        nn_ms: FloatArray,
        segment: IntArray,
        settings: HrvSettings,
        t_s: FloatArray | None = None,
    ) -> TimeDomain:
        if settings.time_detrend == "smoothness_priors":
            nn_ms = detrend_nn(
                nn_ms, segment, settings.time_detrend_lambda, settings.resample_hz, t_s
            )
        si = td.stress_index(nn_ms, settings.stress_bin_ms)
        return cls(
            mean_rr_ms=td.mean_rr_ms(nn_ms),
            mean_hr_bpm=td.mean_hr_bpm(nn_ms),
            sdnn_ms=td.sdnn_ms(nn_ms),
            rmssd_ms=td.rmssd_ms(nn_ms, segment),
            ln_rmssd=td.ln_rmssd(nn_ms, segment),
            sdsd_ms=td.sdsd_ms(nn_ms, segment),
            pnn50_pct=td.pnn50_pct(nn_ms, segment),
            pnn20_pct=td.pnn20_pct(nn_ms, segment),
            sd1_ms=td.sd1_ms(nn_ms, segment),
            sd2_ms=td.sd2_ms(nn_ms, segment),
            sd1_sd2_ratio=td.sd1_sd2_ratio(nn_ms, segment),
            stress_index=si,
            sqrt_stress_index=math.sqrt(si),
        )


def _clean(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class HrvReport:
    """Everything ``analyze_record`` computes; ``to_dict()`` is the documented JSON export."""

    settings: HrvSettings
    n_beats: int
    n_nn: int
    duration_s: float
    n_corrected: int
    label_counts: dict[str, int]
    reason: str | None
    time: TimeDomain
    frequency: FrequencyResult | None
    frequency_reason: str | None
    respiration: Respiration | None
    ln_rmssd: Value
    pns_index: Value
    nonlinear: NonlinearResult
    reasons: dict[str, str] = field(default_factory=dict)
    n_withheld: int = 0
    notes: tuple[str, ...] = ()
    """One-line remarks on the whole result (e.g. :mod:`biofeedback.hrv.alternation`'s hint)."""

    @property
    def corrected_share(self) -> float:
        """Corrected share of the intervals judged (those not withheld as irregular rhythm)."""
        return self.n_corrected / max(self.n_beats - self.n_withheld, 1)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict; non-finite numbers become ``None``."""
        t = self.time
        freq = self.frequency
        resp = self.respiration
        out: dict[str, object] = {
            "settings": self.settings.to_dict(),
            "n_beats": self.n_beats,
            "n_nn": self.n_nn,
            "duration_s": self.duration_s,
            "n_corrected": self.n_corrected,
            "corrected_share": self.corrected_share,
            "labels": self.label_counts,
            "valid": self.reason is None,
            "reason": self.reason,
            "time": {
                "mean_rr_ms": t.mean_rr_ms,
                "mean_hr_bpm": t.mean_hr_bpm,  # 60000 / mean RR, as Kubios
                "sdnn_ms": t.sdnn_ms,
                "rmssd_ms": t.rmssd_ms,
                "ln_rmssd_ln_ms": t.ln_rmssd,
                "sdsd_ms": t.sdsd_ms,
                "pnn50_pct": t.pnn50_pct,
                "pnn20_pct": t.pnn20_pct,
                "sd1_ms": t.sd1_ms,
                "sd2_ms": t.sd2_ms,
                "sd1_sd2_ratio": t.sd1_sd2_ratio,
                "stress_index": t.stress_index,
                "sqrt_stress_index": t.sqrt_stress_index,
            },
            "frequency": None
            if freq is None
            else {
                "method": freq.settings.method,
                "vlf_ms2": freq.vlf_ms2,
                "lf_ms2": freq.lf_ms2,
                "hf_ms2": freq.hf_ms2,
                "total_ms2": freq.total_ms2,
                "lf_hf_ratio": freq.lf_hf,
                "lf_nu_pct": freq.lf_nu,
                "hf_nu_pct": freq.hf_nu,
                "lf_peak_hz": freq.lf_peak_hz,
                "hf_peak_hz": freq.hf_peak_hz,
                "duration_s": freq.duration_s,
                "detrend": freq.settings.detrend,
                "vlf_retained_share": freq.vlf_retained_share,
                "caveats": freq.caveats,
            },
            "frequency_reason": self.frequency_reason,
            "rhythm": {
                "method": METHOD if self.settings.rhythm_check else "off",
                "withheld_intervals": self.n_withheld,
                "withheld_share": self.n_withheld / self.n_beats,
                "message": MESSAGE if self.n_withheld else None,
            },
            "respiration": None
            if resp is None
            else {
                "rate_per_min": resp.rate_per_min,
                "peak_hz": resp.peak_hz,
                "prominence_ratio": resp.prominence_ratio,
                "valid": resp.valid,
                "vagal_power_ms2": resp.vagal_power_ms2,
                "flags": list(resp.flags),
            },
            "nonlinear": self.nonlinear.to_dict(),
            "estimates": {
                "ln_rmssd_ln_ms": self.ln_rmssd.to_dict(),
                "pns_index_sd": self.pns_index.to_dict(),
            },
        }
        cleaned = _clean(out)
        assert isinstance(cleaned, dict)
        cleaned["reasons"] = _complete_reasons(cleaned, self.reasons)
        cleaned["notes"] = list(self.notes)
        return cleaned


def analyze_record(
    rr_ms: ArrayLike,
    *,
    t_s: ArrayLike | None = None,
    segment: ArrayLike | None = None,
    settings: HrvSettings | None = None,
    shape: ArrayLike | None = None,
) -> HrvReport:
    """Whole-record HRV of an RR series (ms) with beat times ``t_s`` and continuity ``segment``.

    The estimates use the whole record as their window (``window_s`` = its duration).
    ``shape``: per-interval beat-shape evidence from an ECG (:func:`prepare_nn`).
    """
    settings = settings or HrvSettings()
    try:
        series = prepare_nn(
            rr_ms,
            t_s,
            segment,
            correction=settings.correction,
            withhold_irregular=settings.rhythm_check,
            shape=shape,
        )
        all_withheld = False
    except ValueError as exc:
        if str(exc) != MESSAGE:
            raise
        series = prepare_nn(rr_ms, t_s, segment, correction=settings.correction, shape=shape)
        all_withheld = True
        size = series.labels.size
        series = replace(series, labels=np.zeros(size, np.int8), withheld=np.ones(size, dtype=bool))
    nn, seg = series.nn_ms, series.segment
    n_beats = series.labels.size
    n_judged = max(n_beats - series.n_withheld, 1)
    share = series.n_corrected / n_judged
    duration_s = float(nn.sum() / 1000.0)
    time = TimeDomain.compute(nn, seg, settings, series.t_s)
    if all_withheld:
        time = TimeDomain(*([math.nan] * len(_TIME_KEYS)))
    chain_spans = [float(np.ptp(series.t_s[a:b])) for a, b in chain_bounds(seg)]
    freq: FrequencyResult | None = None
    resp: Respiration | None = None
    freq_reason: str | None = None
    if all_withheld:
        freq_reason = MESSAGE
    elif max(chain_spans) < settings.spectral_window_s:
        freq_reason = f"no continuous stretch of {settings.spectral_window_s:.0f} s"
    else:
        freq = frequency_domain(nn, t_s=series.t_s, segment=seg, settings=settings)
        resp = respiration_from_spectrum(freq.spectrum, settings)
    withheld_share = series.n_withheld / n_beats
    reason = window_reason(n_judged, duration_s, duration_s, share, settings)
    if withheld_share > 0.5:
        reason = MESSAGE
    nonlinear = nonlinear_metrics_chains(nn, seg, settings.nonlinear)
    reasons = {
        **{
            f"time.{k}": v
            for k, v in (
                dict.fromkeys(_TIME_KEYS, MESSAGE) if all_withheld else time_reasons(nn, seg)
            ).items()
        },
        **{f"frequency.{k}": v for k, v in _frequency_reasons(freq).items()},
        **{f"respiration.{k}": v for k, v in _respiration_reasons(resp).items()},
        **{
            f"nonlinear.{k}": v
            for k, v in nonlinear_reasons(nn, seg, nonlinear, settings.nonlinear).items()
        },
    }
    return HrvReport(
        settings=settings,
        n_beats=n_beats,
        n_nn=int(nn.size),
        duration_s=duration_s,
        n_corrected=series.n_corrected,
        label_counts={
            label.name.lower(): int(np.count_nonzero(series.labels == label)) for label in BeatLabel
        },
        reason=reason,
        time=time,
        frequency=freq,
        frequency_reason=freq_reason,
        respiration=resp,
        ln_rmssd=Value.absent(MESSAGE, duration_s, n_judged, share)
        if reason == MESSAGE
        else ln_rmssd_value(time.rmssd_ms, duration_s, n_judged, duration_s, share, settings),
        pns_index=Value.absent(MESSAGE, duration_s, n_judged, share)
        if reason == MESSAGE
        else pns_index(
            time.mean_rr_ms,
            time.rmssd_ms,
            time.sd1_ms,
            duration_s,
            n_judged,
            duration_s,
            share,
            settings,
        ),
        n_withheld=series.n_withheld,
        nonlinear=nonlinear,
        reasons=reasons,
        notes=()
        if all_withheld
        else tuple(filter(None, [alternation_hint(nn, seg, settings.correction)])),
    )


_TIME_KEYS = (
    "mean_rr_ms",
    "mean_hr_bpm",
    "sdnn_ms",
    "rmssd_ms",
    "ln_rmssd_ln_ms",
    "sdsd_ms",
    "pnn50_pct",
    "pnn20_pct",
    "sd1_ms",
    "sd2_ms",
    "sd1_sd2_ratio",
    "stress_index",
    "sqrt_stress_index",
)


def time_reasons(nn_ms: FloatArray, segment: IntArray) -> dict[str, str]:
    """Why each time-domain metric of the NN series that is not defined is not (export keys)."""
    n = int(nn_ms.size)
    m = int(np.count_nonzero(same_chain(segment)))
    out: dict[str, str] = {}
    few_nn = f"needs at least 2 NN intervals, has {n}"
    no_diff = "no successive difference inside one continuity chain"
    few_diff = f"needs at least 2 successive differences inside a continuity chain, has {m}"
    if n < 2:
        out["sdnn_ms"] = few_nn
    if m == 0:
        for key in ("rmssd_ms", "ln_rmssd_ln_ms", "pnn50_pct", "pnn20_pct"):
            out[key] = no_diff
    elif td.rmssd_ms(nn_ms, segment) == 0:
        out["ln_rmssd_ln_ms"] = "RMSSD is 0 (no beat-to-beat change): its log is not defined"
    if m < 2:
        out["sdsd_ms"] = out["sd1_ms"] = few_diff
    if n < 2 or m < 2:
        out["sd2_ms"] = out["sd1_sd2_ratio"] = out.get("sdnn_ms", few_diff)
    elif td.sd2_ms(nn_ms, segment) == 0:
        out["sd1_sd2_ratio"] = (
            NO_VARIABILITY if is_constant(nn_ms) else "SD2 is 0 (no variability along the identity)"
        )
    if n == 0 or float(np.ptp(nn_ms)) == 0.0:
        out["stress_index"] = out["sqrt_stress_index"] = (
            f"{NO_VARIABILITY}: MxDMn is 0 and the index is unbounded"
        )
    return out


def _frequency_reasons(freq: FrequencyResult | None) -> dict[str, str]:
    if freq is None:
        return {}  # the whole section is null; frequency_reason says why
    out: dict[str, str] = {}
    if freq.lf_hf != freq.lf_hf:
        out["lf_hf_ratio"] = NO_HF_POWER
    if freq.lf_nu != freq.lf_nu:
        out["lf_nu_pct"] = out["hf_nu_pct"] = (
            "LF + HF power at or below the numerical floor (no beat-to-beat variability)"
        )
    if freq.hf_peak_hz != freq.hf_peak_hz:
        out["hf_peak_hz"] = NO_HF_POWER
    if freq.lf_peak_hz != freq.lf_peak_hz:
        out["lf_peak_hz"] = "LF power at or below the numerical floor"
    return out


def _respiration_reasons(resp: Respiration | None) -> dict[str, str]:
    if resp is None or resp.rate_per_min == resp.rate_per_min:
        return {}
    why = "; ".join(resp.flags) or "no clear respiratory peak"
    return {"rate_per_min": why, "peak_hz": why, "vagal_power_ms2": why}


def nonlinear_reasons(
    nn_ms: FloatArray, segment: IntArray, result: NonlinearResult, settings: NonlinearSettings
) -> dict[str, str]:
    """Why each index of :func:`nonlinear_metrics_chains` that is ``nan`` or ``inf`` is so."""
    n, m = result.n_beats, result.m
    out: dict[str, str] = {}
    if result.r_ms != result.r_ms:
        out["entropy_r_ms"] = f"needs at least 2 NN intervals, has {n}"
    constant = is_constant(nn_ms)
    for key, value in (("sampen", result.sampen), ("apen", result.apen)):
        if math.isfinite(value):
            continue
        if n < m + 2:
            out[key] = f"needs at least m + 2 = {m + 2} NN intervals, has {n}"
        elif constant:
            out[key] = f"{NO_VARIABILITY}: the tolerance r is 0"
        elif value == math.inf:
            out[key] = f"no two templates of {m + 1} beats match within r"
        elif key == "sampen" and math.isfinite(result.apen):
            out[key] = f"no two templates of {m} beats match within r"
        else:
            out[key] = f"no continuity chain of {m + 1} beats or more"
    starts = chain_starts(segment)
    longest = int(np.max(np.diff(np.r_[starts, segment.size]))) if segment.size else 0
    for key, value, (_, top) in (
        ("dfa_alpha1", result.dfa_alpha1, settings.alpha1_scales_beats),
        ("dfa_alpha2", result.dfa_alpha2, settings.alpha2_scales_beats),
    ):
        if math.isfinite(value):
            continue
        if longest <= top:
            out[key] = (
                f"needs a continuity chain of more than {top} beats, the longest has {longest}"
            )
        elif constant:
            out[key] = f"{NO_VARIABILITY}: F(n) is 0"
        else:
            out[key] = "F(n) is 0 at some scale (runs of equal intervals)"
    return out


def _complete_reasons(doc: dict[str, object], reasons: dict[str, str]) -> dict[str, str]:
    """``reasons`` restricted to the keys that are null, plus a reason for any null without one.

    Every null number in the sections ``time``, ``frequency``, ``respiration`` and ``nonlinear``
    ends up with a reason (the whole ``frequency`` section has ``frequency_reason``).
    """
    out: dict[str, str] = {}
    for section in ("time", "frequency", "respiration", "nonlinear"):
        values = doc.get(section)
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            if value is None:
                name = f"{section}.{key}"
                out[name] = reasons.get(name, "not defined for this series")
    return out
