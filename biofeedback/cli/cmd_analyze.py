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
    from biofeedback.hrv.settings import HrvSettings
    from biofeedback.sessions.formats import read_recording

    path = Path(args.file)
    recording = read_recording(path, unit=args.unit)
    settings = analyze_settings(args, HrvSettings())
    try:
        beats_out = getattr(args, "beats_out", None)
        if beats_out is not None:
            write_beats(Path(beats_out), recording, settings)
        if args.window is None:
            return _whole(recording, settings, as_json=args.json, origin=str(path))
        return _windows(recording, settings, args)
    except ValueError as exc:  # e.g. no interval within the physiological range
        raise InputError(f"{path}: {exc}") from exc


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


def _whole(recording: Any, settings: Any, *, as_json: bool, origin: str) -> int:
    from biofeedback.hrv.analysis import analyze_record

    report = analyze_record(
        recording.rr_ms, t_s=recording.t_s, segment=recording.segment, settings=settings
    )
    doc = {"file": origin, "format": recording.source_format, **report.to_dict()}
    if as_json:
        print(json_text(doc, indent=2))
        return 0
    print(f"{origin}: {recording.rr_ms.size} RR intervals ({recording.source_format})")
    for note in report.notes:
        print(f"Note: {note}")
    flat = _flatten(doc)
    # Results first, the settings that produced them last.
    for key in sorted(flat, key=lambda k: k.startswith("settings.")):
        if key not in {"file", "format", "notes"}:
            value = finite_or_none(flat[key])
            print(f"  {key:<40} {'-' if value is None else value}")
    print("Not a medical device.")
    return 0


def _flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _windows(recording: Any, settings: Any, args: argparse.Namespace) -> int:
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
