"""HRV values of one stretch of a session (a baseline, a trigger block after its onset, a washout).

The session's beats are artifact-corrected once, per continuity chain
(:func:`biofeedback.hrv.analysis.prepare_nn`, Lipponen & Tarvainen 2019,
doi:10.1080/03091902.2019.1640306); a window then takes the NN intervals that end inside it.
Successive differences never cross a gap. Spectral values (HF, respiration) need one continuous
stretch of ``HrvSettings.spectral_window_s`` (120 s): shorter windows get NaN with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np

from biofeedback.analysis.metrics import SPECTRAL
from biofeedback.hrv import time_domain as td
from biofeedback.hrv.analysis import NnSeries
from biofeedback.hrv.chains import chain_bounds
from biofeedback.hrv.estimates import pns_index
from biofeedback.hrv.frequency import frequency_domain
from biofeedback.hrv.respiration import respiration_from_spectrum
from biofeedback.hrv.settings import HrvSettings


@dataclass(frozen=True, slots=True)
class WindowValues:
    """Values of one window (NaN when absent; ``missing`` says why per metric).

    ``reason`` is set when the whole window is unusable (too little clean data, too many
    corrected beats); its values are then all NaN.
    """

    start_s: float
    end_s: float
    n_beats: int
    clean_s: float
    corrected_share: float
    values: dict[str, float]
    reason: str | None = None
    missing: dict[str, str] = field(default_factory=dict)

    def value(self, key: str) -> float:
        return self.values.get(key, math.nan)

    def to_dict(self) -> dict[str, object]:
        return {
            "start_s": self.start_s,
            "end_s": self.end_s,
            "n_beats": self.n_beats,
            "clean_s": self.clean_s,
            "corrected_share": self.corrected_share,
            "values": {k: (v if math.isfinite(v) else None) for k, v in self.values.items()},
            "reason": self.reason,
            "missing": self.missing,
        }


def _reason(
    n_beats: int, clean_s: float, share: float, min_s: float, max_share: float
) -> str | None:
    if n_beats == 0:
        return "no beats"
    if clean_s < min_s:
        return f"too little clean data: {clean_s:.0f} s < {min_s:.0f} s"
    if share > max_share:
        return f"too many corrected beats: {share:.1%} > {max_share:.0%}"
    return None


def window_values(
    series: NnSeries,
    start_s: float,
    end_s: float,
    *,
    metrics: Collection[str],
    min_clean_s: float,
    max_corrected_share: float,
    hrv: HrvSettings,
) -> WindowValues:
    """Values of ``metrics`` over the NN intervals ending in ``[start_s, end_s)`` (seconds)."""
    raw = (series.t_raw_s >= start_s) & (series.t_raw_s < end_s)
    n_beats = int(np.count_nonzero(raw))
    share = float(np.count_nonzero(series.labels[raw])) / n_beats if n_beats else 0.0
    keep = (series.t_s >= start_s) & (series.t_s < end_s)
    nn, seg, t = series.nn_ms[keep], series.segment[keep], series.t_s[keep]
    clean_s = float(nn.sum()) / 1000.0
    nan_values = {k: math.nan for k in metrics}
    reason = _reason(n_beats, clean_s, share, min_clean_s, max_corrected_share)
    if reason is not None:
        return WindowValues(start_s, end_s, n_beats, clean_s, share, nan_values, reason)
    values = dict(nan_values)
    missing: dict[str, str] = {}
    rmssd = td.rmssd_ms(nn, seg)
    if "hr" in metrics:
        values["hr"] = td.mean_hr_bpm(nn)
    if "lnrmssd" in metrics:
        values["lnrmssd"] = math.log(rmssd) if rmssd > 0 else math.nan
    if "pns" in metrics:
        pns = pns_index(
            td.mean_rr_ms(nn), rmssd, td.sd1_ms(nn, seg), clean_s, n_beats, clean_s, share, hrv
        )
        values["pns"] = math.nan if pns.value is None else pns.value
        if pns.reason:
            missing["pns"] = pns.reason
    if SPECTRAL & set(metrics):
        _spectral(nn, t, seg, metrics, hrv, values, missing)
    return WindowValues(start_s, end_s, n_beats, clean_s, share, values, None, missing)


def _spectral(
    nn: np.ndarray,
    t: np.ndarray,
    seg: np.ndarray,
    metrics: Collection[str],
    hrv: HrvSettings,
    values: dict[str, float],
    missing: dict[str, str],
) -> None:
    longest_s = float(np.max([t[stop - 1] - t[start] for start, stop in chain_bounds(seg)]))
    if longest_s < hrv.spectral_window_s:
        why = f"no continuous stretch of {hrv.spectral_window_s:.0f} s"
        missing.update({k: why for k in SPECTRAL & set(metrics)})
        return
    freq = frequency_domain(nn, t_s=t, segment=seg, settings=hrv)
    if "hf" in metrics:
        values["hf"] = math.log(freq.hf_ms2) if freq.hf_ms2 > 0 else math.nan
    if "resp" in metrics:
        resp = respiration_from_spectrum(freq.spectrum, hrv)
        if resp.valid:
            values["resp"] = resp.rate_per_min
        else:
            missing["resp"] = "no clear respiratory peak"
