"""ECG and ACC files on the command line: R-peaks, beat shapes, RR, and breathing.

``analyze`` and ``import`` read a file with :func:`load`. An RR file is returned as read; an ECG
(Polar Sensor Logger, WFDB) becomes beats here, because the ECG maths (:mod:`biofeedback.ecg`)
and the file readers (:mod:`biofeedback.sessions`) are siblings that do not import each other:

1. R-peaks by :func:`biofeedback.ecg.detect_and_label` (Pan & Tompkins 1985, sub-sample
   parabolic timing) on each continuity segment of the file (a gap in the samples splits it);
   each peak's time is its fractional sample position on the file's own sample clock, in s from
   the first ECG sample.
2. Beat shapes by the same call (template correlation, QRS width and area, prematurity:
   Hamilton 2002, after de Chazal et al. 2004): normal, supraventricular, ventricular, unknown.
3. RR = the difference of consecutive peak times within a segment, in ms (sub-ms resolution;
   the file's clock decides the accuracy). The HRV analysis then runs on it as on any RR file,
   except that the beat shapes decide which intervals are ectopic (:func:`interval_shapes`,
   ``settings.artifact_source = "ecg_shape"``): an interval next to a ventricular or
   supraventricular beat is corrected as ectopic, one between two normal-shaped beats is not
   called ectopic by timing, and the RR-only rule (Lipponen & Tarvainen 2019) decides where
   the labeller had no template yet, and for missed, extra, long and short beats.

ACC (chest acceleration) gives a breathing rate
(:func:`biofeedback.ecg.respiration.acc_breathing_rate`) and an ECG the ECG-derived one (R-peak
amplitude); both are reported with their method, beside the RSA estimate of the HRV analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from biofeedback.errors import InputError
from biofeedback.sessions.formats import RRRecording, Waveform, read_input

F64 = NDArray[np.float64]

R_PEAK_METHOD: Final = (
    "Pan & Tompkins 1985 band-pass/energy detector, peak on the largest 0.5-40 Hz deflection, "
    "parabolic sub-sample timing (biofeedback.ecg.rpeaks)"
)
SHAPE_METHOD: Final = (
    "normal-beat template correlation, QRS width and area ratios, prematurity "
    "(Hamilton 2002 OSEA; de Chazal et al. 2004; biofeedback.ecg.labels)"
)
SHAPE_NAMES: Final = ("normal", "supraventricular", "ventricular", "unknown")
BREATHING_WINDOW_S: Final = 60.0
BREATHING_METHODS: Final = {
    "chest acceleration": "chest acceleration: 0.05-0.7 Hz band, first principal axis of each "
    "window, breaths counted between upward zero crossings (biofeedback.ecg.respiration)",
    "ECG-derived (R amplitude)": "ECG-derived respiration: R-peak amplitudes at 4 Hz, 0.05-0.7 Hz "
    "band, breaths counted between upward zero crossings (biofeedback.ecg.respiration)",
}


@dataclass(frozen=True, slots=True)
class EcgBeats:
    """The beats found in an ECG: one entry per R-peak, and the RR recording they make."""

    wave: Waveform
    t_s: F64
    """R-peak times, s from the first ECG sample."""
    shape: NDArray[np.int8]
    """:class:`biofeedback.ecg.BeatClass` values."""
    amplitude_uv: F64
    segment: NDArray[np.int64]
    interval: NDArray[np.int64]
    """Index into ``recording.rr_ms`` of the interval each beat ends (-1: a segment's first)."""
    recording: RRRecording


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a file held: RR (read, or derived from an ECG), and the ECG or ACC samples."""

    recording: RRRecording | None
    ecg: EcgBeats | None = None
    acc: Waveform | None = None


def load(path: Path, *, unit: str | None = None, first_is_offset: bool | None = None) -> Loaded:
    """Read ``path``: RR as it is, an ECG turned into beats, ACC as samples."""
    read = read_input(path, unit=unit, first_is_offset=first_is_offset)
    if isinstance(read, RRRecording):
        return Loaded(read)
    if read.kind == "acc":
        return Loaded(None, acc=read)
    beats = ecg_beats(path, read)
    return Loaded(beats.recording, ecg=beats)


def read_rr(
    path: Path, *, unit: str | None = None, first_is_offset: bool | None = None
) -> RRRecording:
    """The RR recording of ``path`` (an ECG's derived beats); an ACC file is refused."""
    read = read_input(path, unit=unit, first_is_offset=first_is_offset)
    return read if isinstance(read, RRRecording) else beats_of(path, read)


def beats_of(path: Path, wave: Waveform) -> RRRecording:
    """The RR recording an ECG's beats make; chest acceleration (no heartbeats) is refused."""
    if wave.kind == "acc":
        raise InputError(
            f"{path}: chest acceleration only, no heartbeats (analyze reports its breathing)"
        )
    return ecg_beats(path, wave).recording


def ecg_beats(path: Path, wave: Waveform) -> EcgBeats:
    """R-peaks, beat shapes and RR intervals of an ECG (see the module for the method)."""
    from biofeedback.ecg import detect_and_label

    t_parts: list[F64] = []
    shape_parts: list[NDArray[np.int8]] = []
    amp_parts: list[F64] = []
    seg_parts: list[NDArray[np.int64]] = []
    starts = np.flatnonzero(np.diff(wave.segment, prepend=-1))
    bounds = zip(starts.tolist(), [*starts[1:].tolist(), wave.segment.size], strict=True)
    for number, (a, b) in enumerate(bounds):
        if b - a < 2 * wave.fs_hz:
            continue
        peaks, labels = detect_and_label(wave.samples[a:b], wave.fs_hz)
        if peaks.position.size == 0:
            continue
        t_parts.append(np.interp(peaks.position, np.arange(b - a), wave.t_s[a:b]))
        shape_parts.append(labels.label.astype(np.int8))
        amp_parts.append(peaks.amplitude_uv)
        seg_parts.append(np.full(peaks.position.size, number, np.int64))
    if not t_parts or sum(p.size for p in t_parts) < 2:
        raise InputError(
            f"{path}: no heartbeats found in {wave.duration_s:.0f} s of ECG "
            "(fewer than two R-peaks)"
        )
    t = np.concatenate(t_parts)
    shape = np.concatenate(shape_parts)
    seg = np.concatenate(seg_parts)
    first = np.concatenate([[True], seg[1:] != seg[:-1]])
    interval = np.where(first, -1, np.cumsum(~first) - 1).astype(np.int64)
    ends = ~first
    rr_ms = (t[ends] - t[np.flatnonzero(ends) - 1]) * 1000.0
    if rr_ms.size == 0:
        raise InputError(f"{path}: no two consecutive R-peaks in one stretch of ECG")
    meta = {
        **wave.meta,
        "derived_from": "ECG",
        "ecg_fs_hz": round(wave.fs_hz, 6),
        "ecg_samples": int(wave.t_s.size),
        "r_peaks": int(t.size),
        "r_peak_method": R_PEAK_METHOD,
    }
    if wave.segment[-1]:
        meta["gaps"] = int(wave.segment[-1])
    recording = RRRecording(
        rr_ms=rr_ms,
        t_s=t[ends],
        source_format=wave.source_format,
        meta=meta,
        segment=seg[ends],
    )
    return EcgBeats(wave, t, shape, np.concatenate(amp_parts), seg, interval, recording)


def interval_shapes(beats: EcgBeats) -> NDArray[np.int8]:
    """One :class:`biofeedback.hrv.artifacts_shape.IntervalShape` per interval of
    ``beats.recording`` (:func:`biofeedback.ecg.artifacts.interval_shapes` of its two beats)."""
    from biofeedback.ecg.artifacts import interval_shapes as of_beats

    ends = np.flatnonzero(beats.interval >= 0)
    return of_beats(beats.shape)[ends - 1]


def ecg_summary(beats: EcgBeats) -> dict[str, Any]:
    """The ``ecg`` section of ``analyze``: what was detected, how, and the beat shapes."""
    from biofeedback.ecg import ecg_intervals
    from biofeedback.hrv.artifacts import BeatLabel

    wave = beats.wave
    counts = np.bincount(beats.shape, minlength=len(SHAPE_NAMES))
    ectopic = 0
    for number in np.unique(beats.segment):
        inside = beats.segment == number
        got = ecg_intervals(beats.t_s[inside], beats.shape[inside])
        ectopic += int(np.count_nonzero(got.labels == BeatLabel.ECTOPIC))
    return {
        "lead": wave.meta.get("lead", ""),
        "fs_hz": round(wave.fs_hz, 6),
        "samples": int(wave.t_s.size),
        "duration_s": wave.duration_s,
        "gaps": int(wave.segment[-1]),
        "r_peaks": int(beats.t_s.size),
        "r_peak_method": R_PEAK_METHOD,
        "beat_shapes": {name: int(counts[i]) for i, name in enumerate(SHAPE_NAMES)},
        "shape_method": SHAPE_METHOD,
        "intervals_ectopic_by_shape": ectopic,
    }


def breathing(
    acc: Waveform | None, beats: EcgBeats | None, *, acc_offset_s: float = 0.0
) -> dict[str, Any]:
    """The ``breathing`` section: chest acceleration and ECG-derived rates, where given."""
    from biofeedback.ecg.respiration import acc_breathing_rate, edr_breathing_rate

    out: dict[str, Any] = {}
    if acc is not None:
        samples, fs = acc.samples, acc.fs_hz
        out["chest_acc"] = _rates(
            acc.segment,
            lambda a, b, w: acc_breathing_rate(samples[a:b], fs, window_s=w),
            acc.t_s,
            acc.duration_s,
            acc_offset_s,
        )
    if beats is not None:
        t, amp = beats.t_s, beats.amplitude_uv
        out["ecg_derived"] = _rates(
            beats.segment,
            lambda a, b, w: edr_breathing_rate(t[a:b], amp[a:b], window_s=w),
            beats.t_s,
            beats.wave.duration_s,
            0.0,
            relative=False,
        )
    return out


def _rates(
    segment: NDArray[np.int64],
    estimate: Any,
    t_s: F64,
    duration_s: float,
    offset_s: float,
    *,
    relative: bool = True,
) -> dict[str, Any]:
    """Median rate over the windows of every segment, and each window (``per_window``)."""
    window = min(BREATHING_WINDOW_S, duration_s)
    starts = np.flatnonzero(np.diff(segment, prepend=-1))
    rows: list[dict[str, float]] = []
    method = ""
    for a, b in zip(starts.tolist(), [*starts[1:].tolist(), segment.size], strict=True):
        if t_s[b - 1] - t_s[a] < 0.9 * window:
            continue
        est = estimate(a, b, 0.999 * min(window, float(t_s[b - 1] - t_s[a])))
        method = est.method
        base = float(t_s[a]) if relative else 0.0
        cols = (est.t_s.tolist(), est.rate_bpm.tolist(), est.se_bpm.tolist())
        for t, rate, se in zip(*cols, strict=True):
            rows.append({"t_s": t + base + offset_s, "rate_per_min": rate, "se_per_min": se})
    rates = np.array([r["rate_per_min"] for r in rows], dtype=np.float64)
    ses = np.array([r["se_per_min"] for r in rows], dtype=np.float64)
    ok = np.isfinite(rates)
    doc: dict[str, Any] = {
        "method": BREATHING_METHODS.get(method, method) or "none: no stretch long enough",
        "window_s": window,
        "windows": int(ok.sum()),
        "rate_per_min": float(np.median(rates[ok])) if ok.any() else None,
        "se_per_min": float(np.median(ses[ok])) if ok.any() else None,
        "per_window": rows,
    }
    if not ok.any():
        doc["reason"] = f"no {window:.0f}-s stretch with three breaths or more"
    return doc
