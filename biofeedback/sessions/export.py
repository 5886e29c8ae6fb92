"""Export a stored session: the JSON bundle, a beats CSV, plain RR text, or Kubios RR text.

- ``json``: the session bundle (README "Data formats"); importing it back restores the session
  exactly (beats, raw packets, markers, segments, settings). Its ``rhythm`` record (the
  irregular-rhythm stretches, :mod:`.rhythm_record`: recomputed from the beats with the batch
  detector, as it says) is derived, and import ignores it.
- ``csv``: ``t_s,rr_ms,segment,flags``, one beat per row.
- ``rr``: one RR in ms per line (shortest exact float text; integers without ``.0``).
- ``kubios``: one RR in **seconds** per line, 6 decimals (1 µs; the strap's own resolution is
  1/1024 s). Kubios HRV opens plain ASCII RR files in s or ms; seconds are unambiguous for
  it. Plain RR text cannot mark a continuity gap, so the series reads as unbroken there.
- ``beats``: CSV with beat times and gap marks, ``t_s,rr_ms,segment,gap,gap_s,flags,time_utc``:
  ``gap`` is 1 on the first beat after a continuity break (a new ``segment``), ``gap_s`` the
  beat time missing there (``t - rr - previous t``, 0 for a break without lost time), and
  ``time_utc`` the beat's wall-clock time (ISO 8601, ms) where the session's start is known,
  ``withheld`` 1 inside sustained irregular rhythm (HRV withheld; batch detector, see ``json``).
  ``biofeedback import`` reads it back (``t_s`` and ``rr_ms`` columns; the gaps from the times).
- ``bids``: the BIDS physiological-recording convention, ``NAME_physio.tsv.gz`` (no header) and
  its sidecar ``NAME_physio.json`` (``SamplingFrequency``, ``StartTime``, ``Columns``, units).
  Chosen over EDF+ because it needs no library (gzip, TSV and JSON from the standard library),
  is read by pandas or any BIDS tool as it is, and states every column in its sidecar; EDF+
  would need pyedflib (not a dependency) or a hand-written binary writer, and its fixed-length
  records fit an RR series no better. BIDS physio is sampled at a fixed rate, so the beats are
  marked on a 1024 Hz grid (the strap's own 1/1024 s resolution: a strap's beat times land on
  it exactly, others within 0.49 ms), one row per sample: ``beat`` (1 at a beat), ``rr_ms``
  (the RR ending at that beat, exact; ``n/a`` elsewhere), ``segment`` (the beat's continuity
  segment; ``n/a`` elsewhere), ``gap`` (1 on samples inside a continuity break, where no beat
  is known). ``StartTime`` is the first beat's time in the session (s); the wall-clock start
  is kept as ``AcquisitionDateTime`` (UTC) where known.
- ``ecg``: the raw ECG a Polar H10 streamed (where it was recorded), ``t_s,ecg_uv``, one sample
  per row: session time in s (4 decimals; within 2 ms of the pipeline's time, see
  :mod:`~biofeedback.sessions.store_waves`) and the sample in µV. A continuity break shows as
  a jump in ``t_s``. ``acc``: chest acceleration, ``t_s,x_mg,y_mg,z_mg``. A damaged chunk in
  the store is a one-line error (exit status 1); the beats and the bundle still export.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from biofeedback.errors import InputError
from biofeedback.safe_io import private_file, write_private
from biofeedback.sessions.bundle import SessionBundle
from biofeedback.sessions.rhythm_record import rhythm_record, withheld_beats
from biofeedback.sessions.store import SessionStore

EXPORT_FORMATS: Final = ("json", "csv", "rr", "kubios", "beats", "bids", "ecg", "acc")
TEXT_FORMATS: Final = ("json", "csv", "rr", "kubios", "beats", "ecg", "acc")
WAVE_HEADERS: Final = {"ecg": "t_s,ecg_uv", "acc": "t_s,x_mg,y_mg,z_mg"}
CSV_HEADER: Final = "t_s,rr_ms,segment,flags"
BEATS_HEADER: Final = "t_s,rr_ms,segment,gap,gap_s,flags,time_utc,withheld"
BIDS_HZ: Final = 1024.0
BIDS_COLUMNS: Final = ("beat", "rr_ms", "segment", "gap")
_EMPTY_ROW: Final = "0\tn/a\tn/a\t0\n"
_GAP_ROW: Final = "0\tn/a\tn/a\t1\n"
BIDS_MAX_S: Final = 8 * 24 * 3600.0
"""Longest span a BIDS export samples (a session is at most 7 days): 700 M rows."""


def export_session(store: SessionStore, session_id: int, fmt: str) -> str:
    """The session ``session_id`` as text in ``fmt`` (one of :data:`EXPORT_FORMATS`)."""
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {fmt!r} (one of {', '.join(EXPORT_FORMATS)})")
    return export_bundle(store.load_bundle(session_id), fmt)


def export_bundle(bundle: SessionBundle, fmt: str) -> str:
    beats = bundle.beats
    if fmt == "json":
        doc = _finite(bundle.to_json())
        doc["rhythm"] = _finite(rhythm_record(bundle))  # derived: import ignores it
        return json.dumps(doc, separators=(",", ":"), allow_nan=False) + "\n"
    if fmt == "csv":
        rows = zip(beats["t_s"], beats["rr_ms"], beats["segment"], beats["flags"], strict=True)
        body = [f"{_number(t)},{_number(rr)},{seg},{flags}" for t, rr, seg, flags in rows]
        return "\n".join([CSV_HEADER, *body]) + "\n"
    if fmt == "rr":
        return "".join(f"{_number(rr)}\n" for rr in beats["rr_ms"])
    if fmt == "kubios":
        return "".join(f"{rr / 1000.0:.6f}\n" for rr in beats["rr_ms"])
    if fmt == "beats":
        return _beats_csv(bundle)
    if fmt in WAVE_HEADERS:
        return "".join(_wave_csv(bundle, fmt))
    if fmt == "bids":
        raise InputError("export --format bids writes two files: give --out NAME_physio.tsv.gz")
    raise InputError(f"unknown export format {fmt!r} (one of {', '.join(EXPORT_FORMATS)})")


def _number(value: float) -> str:
    """Shortest text that reads back as the same float; empty (a CSV null) if not finite.

    >>> _number(812.5), _number(1114.0), _number(float("inf"))
    ('812.5', '1114', '')
    """
    if not math.isfinite(value):
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _finite(value: Any) -> Any:
    """``value`` with non-finite floats as ``None`` (JSON has no NaN or Infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def export_to_file(store: SessionStore, session_id: int, fmt: str, out: Path) -> list[Path]:
    """Write the session to ``out`` (0600, atomic, never through a symlink); the files written."""
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {fmt!r} (one of {', '.join(EXPORT_FORMATS)})")
    bundle = store.load_bundle(session_id)
    if fmt == "bids":
        return write_bids_physio(bundle, out)
    if fmt in WAVE_HEADERS:  # a day of ECG is 11 M rows: written chunk by chunk
        with private_file(out) as fh:
            for text in _wave_csv(bundle, fmt):
                fh.write(text.encode("ascii"))
        return [out]
    write_private(out, export_bundle(bundle, fmt))
    return [out]


def _wave_csv(bundle: SessionBundle, stream: str) -> Iterator[str]:
    """The CSV of one waveform stream, a header and then one piece per stored chunk."""
    from biofeedback.sessions.store_waves import chunk_of_record

    where = f"session {bundle.session.get('id', '?')}: "
    if not any(record.get("stream") == stream for record in bundle.waveforms):
        what = "ECG" if stream == "ecg" else "chest acceleration"
        raise InputError(
            f"{where}no {what} was recorded (only a strap that streams it, such as a Polar "
            "H10, records it)"
        )
    yield WAVE_HEADERS[stream] + "\n"
    for record in bundle.waveforms:
        if record.get("stream") != stream:
            continue
        chunk = chunk_of_record(record)
        values = chunk.samples(where).tolist()
        times = chunk.times().tolist()
        if chunk.channels == 1:
            yield "".join(f"{t:.4f},{v[0]}\n" for t, v in zip(times, values, strict=True))
        else:
            yield "".join(
                f"{t:.4f},{','.join(map(str, v))}\n" for t, v in zip(times, values, strict=True)
            )


def _gaps(bundle: SessionBundle) -> tuple[list[int], list[float | None]]:
    """Per beat: 1 on the first beat of a new segment; the beat time missing before it."""
    t, rr, seg = bundle.beats["t_s"], bundle.beats["rr_ms"], bundle.beats["segment"]
    marks = [0] * len(t)
    missing: list[float | None] = [None] * len(t)
    for i in range(1, len(t)):
        if seg[i] != seg[i - 1]:
            marks[i] = 1
            lost = t[i] - rr[i] / 1000.0 - t[i - 1]
            missing[i] = round(max(0.0, lost), 6) if math.isfinite(lost) else None
    return marks, missing


def _beats_csv(bundle: SessionBundle) -> str:
    beats = bundle.beats
    started = bundle.session.get("started_wall_s")
    marks, missing = _gaps(bundle)
    withheld = withheld_beats(bundle).tolist()
    body = []
    for i, (t, rr, seg, flags) in enumerate(
        zip(beats["t_s"], beats["rr_ms"], beats["segment"], beats["flags"], strict=True)
    ):
        gap_s = "" if missing[i] is None else _number(float(missing[i] or 0.0))
        when = _utc(started + t) if isinstance(started, float) and math.isfinite(t) else ""
        body.append(
            f"{_number(t)},{_number(rr)},{seg},{marks[i]},{gap_s},{flags},{when},{int(withheld[i])}"
        )
    return "\n".join([BEATS_HEADER, *body]) + "\n"


def _utc(wall_s: float) -> str:
    try:
        stamp = dt.datetime.fromtimestamp(wall_s, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return ""
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def bids_paths(out: Path) -> tuple[Path, Path]:
    """``NAME_physio.tsv.gz`` and ``NAME_physio.json`` for ``out`` (either, or a bare NAME)."""
    name = out.name
    for suffix in (".tsv.gz", ".json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    if not name.endswith("_physio"):
        name += "_physio"
    return out.with_name(name + ".tsv.gz"), out.with_name(name + ".json")


def write_bids_physio(bundle: SessionBundle, out: Path) -> list[Path]:
    """The BIDS physio pair for ``bundle`` (see the module notes); the two paths."""
    data_path, sidecar_path = bids_paths(out)
    t, rr, seg = bundle.beats["t_s"], bundle.beats["rr_ms"], bundle.beats["segment"]
    if not t:
        raise InputError("export --format bids: the session has no beats")
    finite = [x for x in t if math.isfinite(x)]
    if len(finite) != len(t):
        raise InputError("export --format bids: a beat time is not finite")
    start = t[0]
    if t[-1] - start > BIDS_MAX_S:
        raise InputError(f"export --format bids: the beats span over {BIDS_MAX_S / 86400:g} days")
    samples = [round((x - start) * BIDS_HZ) for x in t]
    written = 0
    with private_file(data_path) as fh:
        sink = _GzipRows(fh)
        at = 0  # the next sample to write
        for i, sample in enumerate(samples):
            if sample < at:  # two beats on one sample (under 1 ms apart): the first is kept
                continue
            if i > 0 and seg[i] != seg[i - 1]:  # a break: no beat known before this RR began
                began = round((t[i] - rr[i] / 1000.0 - start) * BIDS_HZ)
                gap_end = max(at, min(sample, began))
                sink.rows(_GAP_ROW, gap_end - at)
                at = gap_end
            sink.rows(_EMPTY_ROW, sample - at)
            sink.rows(f"1\t{_number(rr[i])}\t{seg[i]}\t0\n", 1)
            at = sample + 1
            written += 1
        sink.close()
    sidecar = _bids_sidecar(bundle, start, written)
    write_private(sidecar_path, json.dumps(sidecar, indent=2, allow_nan=False) + "\n")
    return [data_path, sidecar_path]


class _GzipRows:
    """Rows into a gzip stream, a long run of one row in bounded pieces (a day's gap at
    1024 Hz is 88 M rows: never one string)."""

    PIECE: Final = 65536

    def __init__(self, fh: Any) -> None:
        self.fh = fh
        self.z = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip stream

    def rows(self, row: str, count: int) -> None:
        data = row.encode("ascii")
        while count > 0:
            n = min(count, self.PIECE)
            self.fh.write(self.z.compress(data * n))
            count -= n

    def close(self) -> None:
        self.fh.write(self.z.flush())


def _bids_sidecar(bundle: SessionBundle, start: float, beats: int) -> dict[str, Any]:
    from biofeedback import __version__

    doc: dict[str, Any] = {
        "SamplingFrequency": BIDS_HZ,
        "StartTime": start,
        "Columns": list(BIDS_COLUMNS),
        "beat": {
            "Description": "1 on the sample of a heartbeat (R peak, or the beat time the "
            "device reported), 0 elsewhere",
            "Units": "n/a",
        },
        "rr_ms": {
            "Description": "on a beat's sample, the RR interval ending at that beat, as "
            "recorded (not rounded to the sampling grid); n/a elsewhere",
            "Units": "ms",
        },
        "segment": {
            "Description": "on a beat's sample, its continuity segment: beats of one segment "
            "are consecutive, a new number follows a break; n/a elsewhere",
            "Units": "n/a",
        },
        "gap": {
            "Description": "1 on samples inside a continuity break (no beat is known there; "
            "do not interpolate across), 0 elsewhere",
            "Units": "n/a",
        },
        "SoftwareVersions": f"biofeedback {__version__}",
        "Manufacturer": str(bundle.device.get("name") or bundle.device.get("kind") or "n/a"),
        "BeatCount": beats,
    }
    started = bundle.session.get("started_wall_s")
    if isinstance(started, float) and math.isfinite(started):
        when = _utc(started + start)
        if when:
            doc["AcquisitionDateTime"] = when
    return doc


def read_bids_physio(data_path: Path) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """The sidecar and the beats (``t_s``, ``rr_ms``, ``segment``) of a BIDS physio export."""
    _, sidecar_path = bids_paths(data_path)
    sidecar = json.loads(sidecar_path.read_text(encoding="utf-8"))
    fs, start = float(sidecar["SamplingFrequency"]), float(sidecar["StartTime"])
    columns = sidecar["Columns"]
    beat_col, rr_col, seg_col = (columns.index(c) for c in ("beat", "rr_ms", "segment"))
    import numpy as np  # a reader for tests and users' scripts; writing needs no numpy

    beats: dict[str, list[Any]] = {"t_s": [], "rr_ms": [], "segment": []}
    text = gzip.decompress(data_path.read_bytes())
    # One row per sample (1000 Hz: millions of rows); only the beat rows ("1\t...") are parsed.
    if not text.endswith(b"\n"):
        text += b"\n"
    chars = np.frombuffer(text, dtype=np.uint8)
    ends = np.flatnonzero(chars == ord("\n"))
    starts = np.r_[0, ends[:-1] + 1]
    beat_rows = (chars[starts] == ord("1")) & (chars[np.minimum(starts + 1, ends)] == ord("\t"))
    for index in np.flatnonzero(beat_rows):
        begin, end = int(starts[index]), int(ends[index])
        cells = text[begin:end].decode("ascii").split("\t")
        if cells[beat_col] == "1":
            beats["t_s"].append(start + int(index) / fs)
            beats["rr_ms"].append(float(cells[rr_col]))
            beats["segment"].append(int(cells[seg_col]))
    return sidecar, beats
