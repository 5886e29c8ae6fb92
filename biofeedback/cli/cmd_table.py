"""``biofeedback analyze DIR|FILES... --out TABLE``: many recordings analysed into one table.

One row per file (or, with ``--window``, per window of each file), CSV or Parquet (by the
extension of ``--out``; Parquet needs pyarrow). The HRV settings are recorded once, in a JSON
sidecar ``TABLE.settings.json``, not on every row. Files are analysed in parallel, one process
per core by default (``--jobs``); a file that fails gets a row with ``status`` ``error`` and
the reason, and the rest go on (exit 2 when any failed, after the table is written). A
progress line is shown on a terminal. A single file without ``--out`` is the one-file
``analyze`` of :mod:`~biofeedback.cli.cmd_analyze`.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from biofeedback.errors import InputError

MAX_FILES = 100_000
"""Most files one table may gather from its folders."""


def run(args: argparse.Namespace) -> int:
    if getattr(args, "beats_out", None) is not None and (
        len(args.file) != 1
        or getattr(args, "out", None) is not None
        or getattr(args, "compare_kubios", False)
        or Path(args.file[0]).is_dir()
    ):
        raise InputError("analyze --beats-out: one FILE, without --out or --compare-kubios")
    if getattr(args, "compare_kubios", False):
        from biofeedback.cli import cmd_kubios

        return cmd_kubios.run(args)
    names = list(args.file)
    out = getattr(args, "out", None)
    if len(names) == 1 and out is None and not Path(names[0]).is_dir():
        from biofeedback.cli import cmd_analyze

        args.file = names[0]
        return cmd_analyze.run(args)
    if out is None:
        raise InputError("analyze DIR|FILES...: give --out TABLE (.csv or .parquet)")
    files = gather(names)
    if not files:
        raise InputError(f"analyze: no files in {', '.join(names)[:200]}")
    settings = _settings(args)
    jobs = int(getattr(args, "jobs", None) or os.cpu_count() or 1)
    tasks = [(str(f), args.unit, args.window, args.step, settings) for f in files]
    rows: list[dict[str, Any]] = []
    progress = sys.stderr.isatty()
    if jobs <= 1 or len(tasks) == 1:
        results: Any = map(analyze_file, tasks)
        rows = _collect(results, len(tasks), progress)
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks))) as pool:
            rows = _collect(pool.map(analyze_file, tasks, chunksize=4), len(tasks), progress)
    failed = sum(1 for r in rows if r["status"] != "ok")
    write_table(Path(out), rows)
    _write_settings(Path(out), settings, args, len(files))
    print(
        f"{out}: {len(rows)} rows from {len(files)} files"
        + (f", {failed} failed (reason on their rows)" if failed else ""),
        file=sys.stderr,
    )
    return 2 if failed else 0


def gather(names: list[str]) -> list[Path]:
    """Files named, and the regular files under each folder named (sorted, hidden skipped)."""
    files: list[Path] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and p.name not in ("MANIFEST.md", "README.md")
            )
            files.extend(_wfdb_headers_only(found))
        else:
            files.append(path)
        if len(files) > MAX_FILES:
            raise InputError(f"analyze: over {MAX_FILES} files")
    return files


def _wfdb_headers_only(found: list[Path]) -> list[Path]:
    """A WFDB record is its ``.hea``: the signal and annotation files beside it (same stem,
    ``100.dat``, ``100.atr``) are read through it, not as recordings of their own."""
    records = {p.with_suffix("") for p in found if p.suffix.lower() == ".hea"}
    return [p for p in found if p.suffix.lower() == ".hea" or p.with_suffix("") not in records]


def _settings(args: argparse.Namespace) -> Any:
    """The one-file ``analyze`` settings: ``--method``, ``--correction``, ``--detrend``..."""
    from biofeedback.cli.cmd_analyze import analyze_settings
    from biofeedback.hrv.settings import HrvSettings

    return analyze_settings(args, HrvSettings())


def _collect(results: Any, total: int, progress: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for done, file_rows in enumerate(results, start=1):
        rows.extend(file_rows)
        if progress:
            width = 30
            filled = width * done // total
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} files")
            sys.stderr.flush()
    if progress:
        sys.stderr.write("\r" + " " * 60 + "\r")
    return rows


def analyze_file(
    task: tuple[str, str | None, float | None, float | None, Any],
) -> list[dict[str, Any]]:
    """The rows of one file (run in a worker process): its HRV, or its error."""
    name, unit, window, step, settings = task
    from dataclasses import replace

    from biofeedback.cli.cmd_analyze import _flatten, finite_or_none
    from biofeedback.cli.ecg_files import interval_shapes, load, read_rr

    base: dict[str, Any] = {"file": name}
    try:
        loaded = load(Path(name), unit=unit)
        # An ACC file has no beats: read_rr says so in one line.
        recording = loaded.recording or read_rr(Path(name), unit=unit)
        shape = None
        if loaded.ecg is not None:  # beat shapes first, as analyze does (hrv/artifacts_shape)
            shape = interval_shapes(loaded.ecg)
            settings = replace(settings, artifact_source="ecg_shape")
        base.update(_about(recording))
        if window is None:
            from biofeedback.hrv.analysis import analyze_record

            report = analyze_record(
                recording.rr_ms,
                t_s=recording.t_s,
                segment=recording.segment,
                settings=settings,
                shape=shape,
            )
            flat = _flatten(report.to_dict())
            metrics = {k: v for k, v in flat.items() if not k.startswith("settings.")}
            return [{**base, "status": "ok", "error": "", **finite_or_none(metrics)}]
        from biofeedback.hrv.windows import sliding_windows

        table = sliding_windows(
            recording.t_s,
            recording.rr_ms,
            recording.segment,
            window_s=window,
            step_s=step if step is not None else window / 10,
            settings=settings,
            shape=shape,
        )
        columns = table.to_dict()
        names = list(columns)
        return [
            {
                **base,
                "status": "ok",
                "error": "",
                **finite_or_none(dict(zip(names, row, strict=True))),
            }
            for row in zip(*(columns[n] for n in names), strict=True)
        ]
    except (InputError, ValueError) as exc:
        return [{**base, "status": "error", "error": str(exc).replace("\n", " ")[:500]}]


def _about(recording: Any) -> dict[str, Any]:
    import datetime as dt

    meta = recording.meta
    started = meta.get("started_wall_s")
    return {
        "format": recording.source_format,
        "device": str(meta.get("device") or meta.get("app") or ""),
        "started_utc": (
            dt.datetime.fromtimestamp(started, dt.UTC).isoformat() if started is not None else ""
        ),
        "beats": int(recording.rr_ms.size),
        "gaps": int(meta.get("gaps", 0)),
    }


def write_table(out: Path, rows: list[dict[str, Any]]) -> None:
    from biofeedback.safe_io import write_private

    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    columns = list(names)
    if out.suffix.lower() == ".parquet":
        try:
            import pyarrow as pa  # type: ignore[import-not-found, unused-ignore]
            import pyarrow.parquet as pq  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            raise InputError(
                f"{out}: writing Parquet needs pyarrow (pip install pyarrow)"
            ) from None
        table = pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows])
        buffer = pa.BufferOutputStream()
        pq.write_table(table, buffer)
        write_private(out, buffer.getvalue().to_pybytes())
        return
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    write_private(out, text.getvalue())


def _write_settings(out: Path, settings: Any, args: argparse.Namespace, n_files: int) -> None:
    from dataclasses import asdict

    from biofeedback import __version__
    from biofeedback.cli.cmd_analyze import json_text
    from biofeedback.safe_io import write_private

    doc = {
        "program": f"biofeedback {__version__}",
        "files": n_files,
        "window_s": args.window,
        "step_s": args.step if args.step is not None or args.window is None else args.window / 10,
        "unit": args.unit,
        "settings": asdict(settings),
    }
    write_private(out.with_name(out.name + ".settings.json"), json_text(doc, indent=2) + "\n")
