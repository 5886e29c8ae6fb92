"""``biofeedback analyze``: whole-record HRV, or a sliding-window table, of an RR file.

Numbers are printed finite or not at all: ``null`` in JSON (``NaN``/``Infinity`` are not JSON),
an empty field in CSV, ``-`` in the text listing (README, "analyze --json keys").
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from biofeedback.errors import InputError

MAX_WINDOWS = 1_000_000
"""Most sliding windows one ``analyze --window`` may print (a day at a 0.1-s step)."""


def finite_or_none(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, ±inf) replaced by ``None``, recursively.

    >>> finite_or_none({"a": [1.0, float("-inf")], "b": float("nan")})
    {'a': [1.0, None], 'b': None}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(v) for v in value]
    return value


def json_text(doc: Any, **kwargs: Any) -> str:
    """Strict JSON: non-finite numbers become ``null`` and ``NaN`` can never be printed."""
    return json.dumps(finite_or_none(doc), allow_nan=False, **kwargs)


def csv_field(value: Any) -> Any:
    """A CSV cell: empty for ``None`` and for non-finite floats, the value otherwise."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return value


def analyze_settings(args: argparse.Namespace, base: Any) -> Any:
    """``base`` (HrvSettings) with ``--method``, ``--artifact-method``, ``--correction`` and
    ``--detrend`` applied; ``--correction`` wins over ``--artifact-method``."""
    artifact_method = getattr(args, "artifact_method", "published")
    correction = getattr(args, "correction", None) or (
        "robust" if artifact_method == "robust" else "automatic"
    )
    changes: dict[str, Any] = {
        "method": args.method,
        "artifact_method": "robust" if correction == "robust" else "published",
        "correction": correction,
    }
    detrend = getattr(args, "detrend", None)
    if detrend is not None:
        method, lambda_ = detrend
        changes |= {"detrend": method, "time_detrend": method}
        changes |= {"detrend_lambda": lambda_, "time_detrend_lambda": lambda_}
    try:
        return replace(base, **changes)
    except ValueError as exc:
        raise InputError(f"analyze settings: {exc}") from exc


def run(args: argparse.Namespace) -> int:
    from biofeedback.cli.ecg_files import load
    from biofeedback.hrv.settings import HrvSettings

    path = Path(args.file)
    loaded = load(path, unit=args.unit)
    acc = _acc(args, loaded)
    settings = analyze_settings(args, HrvSettings())
    recording = loaded.recording
    if recording is None:
        return _breathing_only(args, path, loaded)
    shape, by_shape = None, settings
    if loaded.ecg is not None:
        from biofeedback.cli.ecg_files import interval_shapes

        # ECG beat shapes first, the RR-only rule as the fallback (hrv/artifacts_shape.py).
        by_shape = replace(settings, artifact_source="ecg_shape")
        shape = interval_shapes(loaded.ecg)
    try:
        beats_out = getattr(args, "beats_out", None)
        if beats_out is not None:
            if loaded.ecg is not None:
                write_ecg_beats(Path(beats_out), loaded.ecg, by_shape, shape)
            else:
                write_beats(Path(beats_out), recording, settings)
        if args.window is None:
            extra = _waveform_sections(loaded, acc)
            return _whole(
                recording, by_shape, as_json=args.json, origin=str(path), extra=extra, shape=shape
            )
        return _windows(recording, by_shape, args, shape)
    except ValueError as exc:  # e.g. no interval within the physiological range
        raise InputError(f"{path}: {exc}") from exc


def _acc(args: argparse.Namespace, loaded: Any) -> Any:
    """The ``--acc FILE`` samples (a Polar Sensor Logger ACC file), or the file's own ACC."""
    from biofeedback.cli.ecg_files import load

    name = getattr(args, "acc", None)
    if name is None:
        return loaded.acc
    if args.window is not None:
        raise InputError("analyze --acc: the whole record only (not with --window)")
    if loaded.acc is not None:
        raise InputError(f"{args.file}: already chest acceleration; --acc takes the ACC file")
    other = load(Path(name))
    if other.acc is None:
        raise InputError(f"--acc {name}: not a chest-acceleration (ACC) file")
    return other.acc


def _waveform_sections(loaded: Any, acc: Any) -> dict[str, Any]:
    """``ecg`` (R-peaks and beat shapes) and ``breathing`` (chest, ECG-derived), where given."""
    from biofeedback.cli.ecg_files import breathing, ecg_summary

    out: dict[str, Any] = {}
    if loaded.ecg is not None:
        out["ecg"] = ecg_summary(loaded.ecg)
    if acc is not None or loaded.ecg is not None:
        offset = 0.0
        ecg_t0 = loaded.ecg.wave.meta.get("sensor_t0_ns") if loaded.ecg is not None else None
        acc_t0 = acc.meta.get("sensor_t0_ns") if acc is not None else None
        if ecg_t0 is not None and acc_t0 is not None:
            offset = (acc_t0 - ecg_t0) / 1e9
        out["breathing"] = breathing(acc, loaded.ecg, acc_offset_s=offset)
    return out


def _breathing_only(args: argparse.Namespace, path: Path, loaded: Any) -> int:
    """``analyze ACC_FILE``: the breathing rate from the chest, and what the file held."""
    from biofeedback.cli.ecg_files import breathing

    if getattr(args, "beats_out", None) is not None or args.window is not None:
        raise InputError(f"{path}: chest acceleration only: no beats for --beats-out or --window")
    acc = loaded.acc
    doc = {
        "file": str(path),
        "format": acc.source_format,
        "acc": {
            "fs_hz": acc.fs_hz,
            "samples": int(acc.t_s.size),
            "duration_s": acc.duration_s,
            "gaps": int(acc.segment[-1]),
        },
        "breathing": breathing(acc, None),
    }
    if args.json:
        print(json_text(doc, indent=2))
        return 0
    print(f"{path}: {acc.t_s.size} chest-acceleration samples ({acc.source_format})")
    _print_flat(doc)
    return 0


def write_beats(out: Path, recording: Any, settings: Any) -> None:
    """The per-beat table (:mod:`biofeedback.hrv.beats`) as CSV, written through ``safe_io``."""
    import io

    from biofeedback.hrv.beats import COLUMNS, beat_table
    from biofeedback.safe_io import write_private

    table = beat_table(
        recording.rr_ms, t_s=recording.t_s, segment=recording.segment, settings=settings
    )
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    for t, rr, label, nn, count, seg, withheld in table.rows():
        nn_text = "" if nn is None else f"{nn:.3f}"
        writer.writerow([f"{t:.4f}", f"{rr:g}", label, nn_text, count, seg, withheld])
    write_private(out, text.getvalue())


ECG_BEAT_COLUMNS = ("shape",)
"""Appended to the RR columns for ECG input: the beat's class by shape."""


def write_ecg_beats(out: Path, beats: Any, settings: Any, shape: Any = None) -> None:
    """``--beats-out`` for an ECG: one row per detected R-peak, ``t_s`` in s from the first ECG
    sample; the RR columns describe the interval the beat ends (empty for a segment's first
    beat) as for RR input, with ``label`` from the beat shapes where given (``shape``, one per
    interval: ``settings.artifact_source``), and ``shape`` is the beat's class by shape."""
    import io

    from biofeedback.cli.ecg_files import SHAPE_NAMES
    from biofeedback.hrv.beats import COLUMNS, beat_table
    from biofeedback.safe_io import write_private

    recording = beats.recording
    rows = beat_table(
        recording.rr_ms,
        t_s=recording.t_s,
        segment=recording.segment,
        settings=settings,
        shape=shape,
    ).rows()
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow((*COLUMNS, *ECG_BEAT_COLUMNS))
    for t, k, seg, shape in zip(
        beats.t_s.tolist(),
        beats.interval.tolist(),
        beats.segment.tolist(),
        beats.shape.tolist(),
        strict=True,
    ):
        shape_name = SHAPE_NAMES[shape]
        if k < 0:
            writer.writerow([f"{t:.4f}", "", "", "", 0, seg, 0, shape_name])
            continue
        _, rr, label, nn, count, _, withheld = rows[k]
        nn_text = "" if nn is None else f"{nn:.3f}"
        writer.writerow([f"{t:.4f}", f"{rr:.3f}", label, nn_text, count, seg, withheld, shape_name])
    write_private(out, text.getvalue())


def _whole(
    recording: Any,
    settings: Any,
    *,
    as_json: bool,
    origin: str,
    extra: dict[str, Any] | None = None,
    shape: Any = None,
) -> int:
    from biofeedback.hrv.analysis import analyze_record

    report = analyze_record(
        recording.rr_ms,
        t_s=recording.t_s,
        segment=recording.segment,
        settings=settings,
        shape=shape,
    )
    doc = {"file": origin, "format": recording.source_format, **report.to_dict(), **(extra or {})}
    if recording.meta.get("decimal_comma"):
        doc["decimal_comma"] = True  # read as one RR per line written 812,5 (formats_columns)
    sample = recording.meta.get("kubios_sample")
    if isinstance(sample, dict) and int(sample.get("of", 1)) > 1:
        doc["kubios_sample"] = sample  # which sample of a Kubios report this series is
    if as_json:
        print(json_text(doc, indent=2))
        return 0
    derived = " derived from ECG R-peaks" if "ecg" in (extra or {}) else ""
    print(f"{origin}: {recording.rr_ms.size} RR intervals{derived} ({recording.source_format})")
    if doc.get("decimal_comma"):
        print("Note: one RR per line with a decimal comma (812,5 read as 812.5)")
    if "kubios_sample" in doc:
        print(
            f"Note: sample {sample['number']} of {sample['of']} of this Kubios report "
            f"({sample.get('name') or 'unnamed'}); --compare-kubios compares each sample"
        )
    for note in report.notes:
        print(f"Note: {note}")
    _print_flat(doc)
    return 0


def _print_flat(doc: dict[str, Any]) -> None:
    flat = _flatten(doc)
    # Results first, the settings that produced them last; per-window lists are JSON-only.
    for key in sorted(flat, key=lambda k: k.startswith("settings.")):
        if key not in {"file", "format", "notes"} and not key.endswith("per_window"):
            value = finite_or_none(flat[key])
            print(f"  {key:<40} {'-' if value is None else value}")
    print("Not a medical device.")


def _flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _windows(recording: Any, settings: Any, args: argparse.Namespace, shape: Any = None) -> int:
    from biofeedback.hrv.windows import sliding_windows

    step = args.step if args.step is not None else args.window / 10
    span_s = float(recording.rr_ms.sum()) / 1000.0
    if recording.t_s is not None and len(recording.t_s):
        span_s = max(span_s, float(recording.t_s[-1] - recording.t_s[0]) + 2.5)
    expected = (span_s - args.window) / step + 1
    if expected > MAX_WINDOWS:
        raise InputError(
            f"--window {args.window:g} --step {step:g}: about {expected:.3g} windows "
            f"over {span_s:.0f} s, more than {MAX_WINDOWS}; use a longer --step"
        )
    progress = _Progress() if sys.stderr.isatty() and not args.json else None
    try:
        table = sliding_windows(
            recording.t_s,
            recording.rr_ms,
            recording.segment,
            window_s=args.window,
            step_s=step,
            settings=settings,
            shape=shape,
        )
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    finally:
        if progress is not None:
            progress.done()
    columns = table.to_dict()
    names = list(columns)
    rows = zip(*(columns[n] for n in names), strict=True)
    if args.json:
        for row in rows:
            print(json_text(dict(zip(names, row, strict=True))))
    else:
        writer = csv.writer(sys.stdout)
        writer.writerow(names)
        writer.writerows([csv_field(v) for v in row] for row in rows)
    return 0


class _Progress:
    """A one-line note on a terminal while a long file is processed (vectorised, so brief)."""

    def __init__(self) -> None:
        sys.stderr.write("analysing windows...\r")
        sys.stderr.flush()

    def done(self) -> None:
        sys.stderr.write(" " * 24 + "\r")
        sys.stderr.flush()
