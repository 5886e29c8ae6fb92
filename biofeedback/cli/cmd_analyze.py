"""``biofeedback analyze``: whole-record HRV, or a sliding-window table, of an RR file."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from biofeedback.errors import InputError


def run(args: argparse.Namespace) -> int:
    from biofeedback.hrv.settings import HrvSettings
    from biofeedback.sessions.formats import read_recording

    path = Path(args.file)
    recording = read_recording(path, unit=args.unit)
    try:
        settings = replace(HrvSettings(), method=args.method, artifact_method=args.artifact_method)
    except ValueError as exc:
        raise InputError(f"--method: {exc}") from exc
    if args.window is None:
        return _whole(recording, settings, as_json=args.json, origin=str(path))
    return _windows(recording, settings, args)


def _whole(recording: Any, settings: Any, *, as_json: bool, origin: str) -> int:
    from biofeedback.hrv.analysis import analyze_record

    report = analyze_record(
        recording.rr_ms, t_s=recording.t_s, segment=recording.segment, settings=settings
    )
    doc = {"file": origin, "format": recording.source_format, **report.to_dict()}
    if as_json:
        print(json.dumps(doc, indent=2))
        return 0
    print(f"{origin}: {recording.rr_ms.size} RR intervals ({recording.source_format})")
    flat = _flatten(doc)
    # Results first, the settings that produced them last.
    for key in sorted(flat, key=lambda k: k.startswith("settings.")):
        if key not in {"file", "format"}:
            print(f"  {key:<40} {flat[key]}")
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
            print(json.dumps(dict(zip(names, row, strict=True))))
    else:
        writer = csv.writer(sys.stdout)
        writer.writerow(names)
        writer.writerows(rows)
    return 0


class _Progress:
    """A one-line note on a terminal while a long file is processed (vectorised, so brief)."""

    def __init__(self) -> None:
        sys.stderr.write("analysing windows...\r")
        sys.stderr.flush()

    def done(self) -> None:
        sys.stderr.write(" " * 24 + "\r")
        sys.stderr.flush()
