"""``biofeedback analyze REPORT.txt --compare-kubios``: Kubios's own results beside this program's.

A Kubios HRV report holds the RR series, the settings Kubios used and its results
(:mod:`biofeedback.sessions.formats_kubios`). This program analyses the same RR series with
Kubios's settings as the report states them (:mod:`.cmd_kubios_settings`): its artefact correction
(``none`` for a report that says so, whatever ``--correction`` says, and for an RR table that is
already Kubios's corrected series), its detrending (``none`` or smoothness priors with the report's
λ: before the spectrum and before the time domain and Poincaré as ``--detrend`` applies it, on the
4-Hz series, :func:`biofeedback.hrv.detrend.detrend_at_beats`; before the entropies and DFA too
when the report says "Apply detrending for nonlinear analysis: 1"), its frequency bands,
interpolation rate, FFT (Welch) window width and overlap, pNNxx threshold, DFA ranges and entropy m
and r. Each metric is printed with Kubios's value, ours, the difference (ours - Kubios) and the
relative difference; ``--json`` gives the same as one object per report. A report of several
samples is compared sample by sample (each its own RR series and Kubios's results for it), one
table (or JSON object) per sample, each saying which sample it is (``args.kubios_sample``, where
the command line has it, chooses one).

Kubios's FFT column is compared with our Welch spectrum (both Welch periodograms); the AR
column has no counterpart here and is left out. PNS index compares population-normed
indices: ours uses its own norms (README, "HRV methods"), so expect it to differ.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Final

import numpy as np

from biofeedback.cli.cmd_kubios_settings import (
    kubios_settings,
    nonlinear_detrended,
    pnn_threshold,
)
from biofeedback.errors import InputError

__all__ = ["compare", "kubios_settings", "kubios_value", "pnn_threshold", "render", "run"]

FFT: Final = "FFT spectrum"

METRICS: Final = (  # (label, Kubios result names in 3.1 / 3.4.2+ spelling, our flattened key)
    ("Mean RR (ms)", "Mean RR (ms)", "time.mean_rr_ms"),
    ("SDNN (ms)", "STD RR (ms)|SDNN (ms)", "time.sdnn_ms"),
    ("Mean HR (beats/min)", "Mean HR (beats/min)", "time.mean_hr_bpm"),
    ("RMSSD (ms)", "RMSSD (ms)", "time.rmssd_ms"),
    ("pNNxx (%)", "pNNxx (%)|pNN50 (%)", "time.pnn{xx}_pct"),
    ("SD1 (ms)", "SD1 (ms)", "time.sd1_ms"),
    ("SD2 (ms)", "SD2 (ms)", "time.sd2_ms"),
    ("SD2/SD1", "SD2/SD1 ratio|SD2/SD1", "sd2_sd1"),
    ("Stress index (sqrt)", "Stress index", "time.sqrt_stress_index"),
    ("PNS index", "PNS index", "estimates.pns_index_sd.value"),
    ("VLF (ms^2, FFT)", "VLF (ms^2)", "frequency.vlf_ms2"),
    ("LF (ms^2, FFT)", "LF (ms^2)", "frequency.lf_ms2"),
    ("HF (ms^2, FFT)", "HF (ms^2)", "frequency.hf_ms2"),
    ("Total power (ms^2, FFT)", "Total power (ms^2)", "frequency.total_ms2"),
    ("LF/HF (FFT)", "LF/HF ratio|LF/HF", "frequency.lf_hf_ratio"),
    ("LF (n.u., FFT)", "LF (n.u.)", "frequency.lf_nu_pct"),
    ("HF (n.u., FFT)", "HF (n.u.)", "frequency.hf_nu_pct"),
    ("LF peak (Hz, FFT)", "LF (Hz)", "frequency.lf_peak_hz"),
    ("HF peak (Hz, FFT)", "HF (Hz)", "frequency.hf_peak_hz"),
    ("ApEn", "Approximate entropy (ApEn)|ApEn", "nonlinear.apen"),
    ("SampEn", "Sample entropy (SampEn)|SampEn", "nonlinear.sampen"),
    ("DFA alpha 1", "alpha 1|DFA alpha 1|DFA a1", "nonlinear.dfa_alpha1"),
    ("DFA alpha 2", "alpha 2|DFA alpha 2|DFA a2", "nonlinear.dfa_alpha2"),
)


def kubios_value(results: dict[str, Any], names: str) -> float | None:
    """Kubios's value under any of ``names`` (``|``-separated, spaces and case aside): its FFT
    column where the row has spectrum columns."""
    by_key = {" ".join(k.lower().split()): v for k, v in results.items()}
    value = next(
        (by_key[k] for k in (" ".join(n.lower().split()) for n in names.split("|")) if k in by_key),
        None,
    )
    if isinstance(value, dict):
        value = value.get(FFT)
    return float(value) if isinstance(value, int | float) else None


def _series(path: Path, unit: str | None, sample: int | None) -> tuple[Any, Any, dict[str, Any]]:
    """The RR (ms), beat times and meta of the report's ``sample`` (None: the first)."""
    from biofeedback.sessions.formats import read_recording
    from biofeedback.sessions.formats_kubios import read_kubios_file

    recording = read_recording(path, unit=unit)
    if recording.source_format != "kubios_report":
        raise InputError(
            f"{path}: --compare-kubios needs a Kubios HRV report (.txt with its results), "
            f"this is {recording.source_format}"
        )
    if sample is None or sample == recording.meta["kubios_sample"]["number"]:
        return recording.rr_ms, recording.t_s, recording.meta
    parsed = read_kubios_file(path, sample)
    if parsed.values is None or parsed.t_s is None:
        raise InputError(f"{path}: sample {sample}: no RR series")
    return parsed.values * 1000.0, parsed.t_s, parsed.meta


def _nonlinear_detrended(rr_ms: Any, t_s: Any, settings: Any) -> dict[str, Any]:
    """Entropies and DFA of the corrected series detrended as before the time domain
    (:func:`biofeedback.hrv.detrend.detrend_at_beats`), as a report with "Apply detrending for
    nonlinear analysis: 1" computes them."""
    from biofeedback.cli.cmd_analyze import _flatten
    from biofeedback.hrv.analysis import analyze_record, prepare_nn
    from biofeedback.hrv.detrend import detrend_at_beats

    if settings.correction != "none":  # corrected first, then detrended, as Kubios does
        series = prepare_nn(
            rr_ms, t_s, correction=settings.correction, artifact_method=settings.artifact_method
        )
        rr_ms, t_s = series.nn_ms, series.t_s
    x = detrend_at_beats(rr_ms, t_s, settings.detrend_lambda, settings.resample_hz)
    done = replace(settings, correction="none", time_detrend="none")
    again = _flatten(analyze_record(x, t_s=t_s, settings=done).to_dict())
    return {k: v for k, v in again.items() if k.startswith("nonlinear.")}


def compare(path: Path, *, unit: str | None = None, sample: int | None = None) -> dict[str, Any]:
    """The comparison document of one Kubios report's sample (see the module notes)."""
    from biofeedback.cli.cmd_analyze import _flatten, finite_or_none
    from biofeedback.hrv.analysis import analyze_record
    from biofeedback.hrv.settings import HrvSettings
    from biofeedback.sessions.formats_kubios import stated as stated_as

    rr_ms, t_s, meta = _series(path, unit, sample)
    stated: dict[str, str] = meta.get("kubios_settings", {})
    results: dict[str, Any] = meta.get("kubios_results", {})
    mean_rr = float(np.mean(rr_ms)) if rr_ms.size else None
    settings, notes = kubios_settings(
        stated,
        HrvSettings(),
        mean_rr_ms=mean_rr,
        kubios_mean_rr_ms=kubios_value(results, "Mean RR (ms)"),
    )
    for i, note in enumerate(meta.get("kubios_notes", [])):
        notes[f"rr{i + 1}"] = note
    try:
        # --detrend before the time domain is Kubios's own (lambda on the 4-Hz series)
        ours = _flatten(analyze_record(rr_ms, t_s=t_s, settings=settings).to_dict())
        if settings.time_detrend == "smoothness_priors":
            notes["time_detrend"] = (
                f"time domain and Poincare on Kubios's detrended series (lambda "
                f"{settings.detrend_lambda:g} on its {settings.resample_hz:g}-Hz series, back "
                "at the beats)"
            )
            if nonlinear_detrended(stated, settings):
                ours |= _nonlinear_detrended(rr_ms, t_s, settings)
                notes["nonlinear"] = (
                    "entropies and DFA on the detrended series, as the report states"
                )
    except ValueError as exc:
        raise InputError(f"{path}: {exc}") from exc
    ratio = ours.get("time.sd1_sd2_ratio")
    ours["sd2_sd1"] = 1.0 / ratio if isinstance(ratio, float) and ratio > 0 else None
    xx = pnn_threshold(stated)
    rows = []
    for label, kubios_name, key in METRICS:
        theirs = kubios_value(results, kubios_name)
        mine = finite_or_none(ours.get(key.format(xx=xx)))
        mine = float(mine) if isinstance(mine, int | float) else None
        diff = mine - theirs if mine is not None and theirs is not None else None
        rel = 100.0 * diff / abs(theirs) if diff is not None and theirs else None
        rows.append(
            {
                "metric": label.replace("xx", str(xx)),
                "kubios_name": kubios_name,
                "ours_key": key.format(xx=xx),
                "kubios": theirs,
                "ours": mine,
                "difference": diff,
                "relative_pct": rel,
            }
        )
    return {
        "file": str(path),
        "kubios": {
            "app": meta.get("app", "Kubios HRV"),
            "artifact_correction": stated_as(stated, "correction") or None,
            "detrending": stated_as(stated, "detrend") or None,
        },
        "sample": meta.get("kubios_sample", {"number": 1, "of": 1}),
        "beats": int(rr_ms.size),
        "settings": asdict(settings),
        "settings_notes": notes,
        "metrics": rows,
    }


def run(args: argparse.Namespace) -> int:
    """Every sample of each report (``args.kubios_sample``, where given: that one)."""
    from biofeedback.cli.cmd_analyze import json_text

    unit = getattr(args, "unit", None)
    chosen = getattr(args, "kubios_sample", None)
    docs = []
    for name in args.file:
        first = compare(Path(name), unit=unit, sample=chosen)
        docs.append(first)
        if chosen is None:
            for k in range(2, int(first["sample"].get("of", 1)) + 1):
                docs.append(compare(Path(name), unit=unit, sample=k))
    for doc in docs:
        if getattr(args, "json", False):
            print(json_text(doc, indent=2 if len(docs) == 1 else None))
        else:
            sys.stdout.write(render(doc))
    return 0


def _num(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render(doc: dict[str, Any]) -> str:
    """The comparison as a text table."""
    from biofeedback.text import terminal_safe

    s = doc["settings"]
    sample = doc.get("sample", {})
    which = (
        f", sample {sample['number']} of {sample['of']} ({sample.get('name')}: {sample.get('rr')})"
        if int(sample.get("of", 1)) > 1
        else ""
    )
    lines = [
        terminal_safe(
            f"{doc['file']}: {doc['kubios']['app']} report{which}, {doc['beats']} beats; "
            f"analysed here as Kubios states: correction {s['correction']}, "
            f"detrending {s['detrend']}"
            + (f" (lambda {s['detrend_lambda']:g})" if s["detrend"] != "none" else "")
            + f", Welch {s['welch_segment_s']:g} s / {100 * s['welch_overlap']:g} %, "
            f"{s['resample_hz']:g} Hz"
        )
    ]
    lines += [
        f"  note: {terminal_safe(k)}: {terminal_safe(v)}" for k, v in doc["settings_notes"].items()
    ]
    lines.append(
        f"  {'metric':<24} {'Kubios':>12} {'this program':>13} {'difference':>11} {'%':>8}"
    )
    for row in doc["metrics"]:
        rel = row["relative_pct"]
        lines.append(
            f"  {row['metric']:<24} {_num(row['kubios']):>12} {_num(row['ours']):>13} "
            f"{'-' if row['difference'] is None else format(row['difference'], '+.4f'):>11} "
            f"{'-' if rel is None else format(rel, '+.2f'):>8}"
        )
    lines.append("Not a medical device.")
    return "\n".join(lines) + "\n"
