"""A Kubios report's settings as this program's :class:`~biofeedback.hrv.settings.HrvSettings`.

Each stated setting maps onto the option a user would give (README, "HRV methods"): the
correction level onto ``--correction``, "Smoothn priors (lambda: λ)" onto ``--detrend
smoothness-priors:λ``, the bands, interpolation rate, Welch window and overlap, DFA ranges and
entropy m and r onto their settings. Two Kubios conventions are followed where a naive reading
would differ from Kubios (measured on a Kubios HRV Standard 3.3 report, "Threshold
(medium)", "Smoothn priors (lambda: 256)": time domain within 0.07 %, SampEn and DFA α1 within
0.5 %, with both; RMSSD -4.9 % and SDNN +5.8 % without):

* Kubios's λ acts on its evenly resampled series (the interpolation rate, 4 Hz), before the
  time domain as before the spectrum (:func:`biofeedback.hrv.detrend.detrend_at_beats`, which
  ``--detrend`` before the time domain uses too; over beat index λ 256 removed far less);
* the RR data table of a report is the series Kubios analysed, already corrected: when its mean
  equals Kubios's "Mean RR" (to 0.05 ms, the report's rounding) it is not corrected again.

"Apply detrending for nonlinear analysis: 1" (:func:`nonlinear_detrended`) has the entropies and
DFA computed on the detrended series too.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Final

from biofeedback.errors import InputError

SAME_MEAN_MS: Final = 0.05
"""The RR table is Kubios's corrected series when its mean is Kubios's Mean RR within this."""

_CORRECTION: Final = {
    "none": "none",
    "very low": "very-low",
    "low": "low",
    "medium": "medium",
    "strong": "strong",
    "very strong": "very-strong",
    "automatic": "automatic",
}


def kubios_settings(
    kubios: dict[str, str],
    base: Any,
    *,
    mean_rr_ms: float | None = None,
    kubios_mean_rr_ms: float | None = None,
) -> tuple[Any, dict[str, str]]:
    """``base`` (HrvSettings) with the settings the report states; and how each was read.

    A setting the report does not state, or states in a form not recognised, keeps this
    program's default and is said so in the returned notes. ``mean_rr_ms``: the mean of the
    RR series analysed, and ``kubios_mean_rr_ms``: Kubios's "Mean RR", tell an RR table that is
    already Kubios's corrected series (module notes).
    """
    from biofeedback.sessions.formats_kubios import stated

    notes: dict[str, str] = {}
    changes: dict[str, Any] = {}
    correction = stated(kubios, "correction").strip().lower()
    # "none", "very low (custom)", "Threshold (medium)", "Very low (threshold)", "Automatic
    # correction": the level's name anywhere in it (a custom threshold in seconds is none of
    # this program's levels).
    named = re.search(r"very low|very strong|low|medium|strong|none|automatic", correction)
    level = _CORRECTION[named.group(0)] if named else None
    if level is None:
        notes["correction"] = f"report says {correction or 'nothing'!r}: not corrected here"
        level = "none"
    if (
        level != "none"
        and mean_rr_ms is not None
        and kubios_mean_rr_ms is not None
        and abs(mean_rr_ms - kubios_mean_rr_ms) <= SAME_MEAN_MS
    ):
        notes["correction"] = (
            f"report says {correction!r}, and its RR table is the corrected series (its mean "
            f"{mean_rr_ms:.4f} ms is Kubios's Mean RR): not corrected again"
        )
        level = "none"
    changes["correction"] = level
    changes["artifact_method"] = "published"
    changes |= _detrending(stated(kubios, "detrend").strip().lower(), notes)
    for band in ("VLF", "LF", "HF"):
        found = re.match(r"\s*([0-9.]+)\s*-\s*([0-9.]+)\s*hz", kubios.get(band, "").lower())
        if found:
            changes[f"{band.lower()}_band_hz"] = (float(found.group(1)), float(found.group(2)))
    for key, name, pattern in (
        ("resample_hz", "Interpolation rate", r"([0-9.]+)\s*hz"),
        ("welch_segment_s", "Window width", r"([0-9.]+)\s*s"),
        ("welch_overlap", "Window overlap", r"([0-9.]+)\s*%"),
    ):
        found = re.match(pattern, kubios.get(name, "").strip().lower())
        if found:
            value = float(found.group(1))
            changes[key] = value / 100.0 if key == "welch_overlap" else value
    if kubios.get("AR model order"):
        notes["ar"] = (
            f"AR model order {kubios['AR model order']}: no AR spectrum here, not compared"
        )
    changes["nonlinear"] = _nonlinear(kubios, base.nonlinear)
    try:
        return replace(base, **changes), notes
    except ValueError as exc:
        raise InputError(f"Kubios settings: {exc}") from exc


def _detrending(detrend: str, notes: dict[str, str]) -> dict[str, Any]:
    """``none``, or smoothness priors with the λ of "Smoothn priors (lambda: 500)", "(Lambda =
    300)", "(lambda=500)" (500 when no λ is given), before the time domain and the spectra."""
    if detrend.startswith("none") or not detrend:
        if not detrend:
            notes["detrend"] = "report states no detrending method: none"
        return {"detrend": "none", "time_detrend": "none"}
    found = re.search(r"lambda\s*[=:]?\s*([0-9.]+)", detrend)
    lambda_ = float(found.group(1)) if found else 500.0
    if "prior" not in detrend:
        notes["detrend"] = f"report says {detrend!r}: smoothness priors used here"
    return {
        "detrend": "smoothness_priors",
        "time_detrend": "smoothness_priors",
        "detrend_lambda": lambda_,
        "time_detrend_lambda": lambda_,
    }


def _nonlinear(kubios: dict[str, str], nonlinear: Any) -> Any:
    """DFA ranges ("4-12 beats") and the entropies' m and r ("0.2 x SD") as the report states."""
    for key, name in (
        ("alpha1_scales_beats", "DFA, short-term fluctuations"),
        ("alpha2_scales_beats", "DFA, long-term fluctuations"),
    ):
        found = re.match(r"\s*(\d+)\s*-\s*(\d+)", kubios.get(name, ""))
        if found:
            nonlinear = replace(nonlinear, **{key: (int(found.group(1)), int(found.group(2)))})
    found = re.match(r"\s*(\d+)\s*$", kubios.get("Entropy, embedding dimension", ""))
    if found:
        nonlinear = replace(nonlinear, m=int(found.group(1)))
    found = re.match(r"\s*([0-9.]+)\s*x\s*sd", kubios.get("Entropy, tolerance", "").lower())
    if found:
        nonlinear = replace(nonlinear, r_factor=float(found.group(1)))
    return nonlinear


def pnn_threshold(kubios: dict[str, str]) -> int:
    found = re.match(r"\s*(\d+)\s*ms", kubios.get("Threshold for NNxx/pNNxx", ""))
    return int(found.group(1)) if found else 50


def nonlinear_detrended(kubios: dict[str, str], settings: Any) -> bool:
    """Whether Kubios computed its entropies and DFA on the detrended series."""
    value = kubios.get("Apply detrending for nonlinear analysis", "").strip().lower()
    return settings.time_detrend == "smoothness_priors" and value in ("1", "yes", "on", "true")
