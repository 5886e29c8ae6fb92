"""RR recordings from files: detection, reading, and conversion to a session bundle for import.

Formats (``detect_format`` names), recognised from content first, the file name second:
``bundle`` (this program's JSON), ``rr_text`` (one RR per line, ms or s; Kubios RR export),
``elite_hrv`` (Elite HRV export: one int RR ms per line, start time in the file name
``YYYY-MM-DD HH-MM-SS.txt``), ``csv`` (a header naming an RR column: Polar Sensor Logger RR
and PPI, HRV Logger..., :mod:`.formats_csv`), ``polar_hrm`` (Polar HRM, R-R mode), ``npy`` (a
1-D numpy array of RR), ``fit`` (Garmin FIT ``hrv``/``beat_intervals`` messages or a Connect IQ
RR field, :mod:`.formats_fit`), ``kubios_report`` (:mod:`.formats_kubios`),
``suunto_sml`` and ``apple_health`` (:mod:`.formats_xml`), ``vns_analyse``
(:mod:`.formats_vns`), ``json_rr`` (other JSON naming RR, :mod:`.formats_json`), and the
column formats of
:mod:`.formats_columns` (``empatica_ibi``, ``time_rr``, ``rr_line``, ``movesense_hr``,
``vu_ams``, ``beat_list``, ``garmin_csv``; ``polar_flow_csv`` is refused: heart rate only).
Waveforms (:mod:`.formats_ecg`: ``polar_ecg``, ``polar_acc``, ``wfdb``) are samples, not beats:
:func:`read_input` returns them as a :class:`Waveform` and the command line detects the beats.
A ZIP archive of one file is read as that file (:mod:`.formats_archive`).
Text may be UTF-8 (with or without BOM), UTF-16 (with BOM) or Windows-1252/Latin-1, with LF,
CRLF or CR lines. Every failure is an :class:`~biofeedback.errors.InputError` with a one-line
message naming the file and, where there is one, the line.

Decisions, documented here and in the README:
- Units: a median below 10 means seconds; ``unit="ms"|"s"`` overrides. A unit the file states
  (a header's ``[ms]``) that its values contradict gives way to them (``meta["unit_note"]``).
- A first value above 2500 ms and 5x the median of the rest is the offset to the first beat
  (PhysioNet-derived files such as nsr2db); it is kept in ``meta["offset_s"]``, not as an RR.
  ``first_is_offset=True|False`` forces the choice.
- Beat times and gaps: where a file gives beat or arrival times, they are kept, and a gap
  becomes a continuity break (``segment``); see :mod:`.formats_timed`.
- Start time: ``meta["started_wall_s"]`` (Unix s) where the file gives one; a local time
  without a zone (``started_local``) is taken in this computer's time zone.
- A single trailing 0 (a terminator some exporters write, e.g. ``real_rri.txt``) is dropped and
  noted in ``meta["dropped_trailing_zero"]``; a 0 or negative RR anywhere else is refused, and so
  is an RR above 60 s (a unit or offset mistake, never a heartbeat), and a file whose median RR
  is under 200 ms (heart rate in bpm read as RR).
- A beat marked missing (``NaN``, ``NA``, ``-``, a PPI row with ``blocker`` 1) is left out, and
  the recording has a gap there (``meta["missing_beats"]``).
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.lib import format as npformat
from numpy.typing import NDArray

from biofeedback.errors import InputError
from biofeedback.safe_io import file_size, open_regular, read_limited
from biofeedback.sessions import formats_archive as archive
from biofeedback.sessions import formats_columns as columns
from biofeedback.sessions import formats_ecg as waveforms
from biofeedback.sessions import formats_json as json_formats
from biofeedback.sessions import formats_limits as lim
from biofeedback.sessions import formats_rr as rr
from biofeedback.sessions import formats_timed as timed
from biofeedback.sessions import formats_xml as xml_formats
from biofeedback.sessions.bundle import SessionBundle, parse_bundle
from biofeedback.sessions.formats_csv import read_csv
from biofeedback.sessions.formats_ecg import Waveform
from biofeedback.sessions.formats_fit import is_fit, read_fit
from biofeedback.sessions.formats_hrm import is_hrm, read_hrm
from biofeedback.sessions.formats_kubios import is_kubios_report, read_kubios
from biofeedback.sessions.formats_types import Lines, Parsed, RRRecording
from biofeedback.sessions.formats_vns import is_vns, read_vns
from devices.events import BeatFlag
from devices.timeline import RR_PLAUSIBLE_MAX_MS, RR_PLAUSIBLE_MIN_MS

FORMATS: Final = (
    "bundle",
    "rr_text",
    "elite_hrv",
    "csv",
    "polar_hrm",
    "npy",
    "fit",
    "kubios_report",
    "suunto_sml",
    "apple_health",
    "vns_analyse",
    "json_rr",
    *columns.FORMATS,
    *waveforms.FORMATS,
)
__all__ = [
    "FORMATS",
    "RRRecording",
    "Waveform",
    "detect_format",
    "read_as_bundle",
    "read_for_import",
    "read_input",
    "read_recording",
]
RR_MAX_MS: Final = 60_000.0
RR_MEDIAN_MIN_MS: Final = 200.0
"""A median RR under 200 ms (300 bpm) is no heart's: a column of heart rate read as RR, or ms
taken for s."""
NPY_MAGIC: Final = b"\x93NUMPY"


def detect_format(path: Path) -> str:
    """The format name of ``path`` (one of :data:`FORMATS`), from its content and name."""
    return _detect(*_open(Path(path)))


def _streamed(path: Path, fmt: str | None) -> RRRecording | None:
    """An Apple Health export over :data:`~.formats_limits.MAX_FILE_BYTES`, parsed in chunks
    (:func:`.formats_xml.read_apple_health_file`); ``None`` for any other file (read whole)."""
    size = file_size(path)
    if size is None or size <= lim.MAX_FILE_BYTES or fmt not in (None, "apple_health"):
        return None
    with open_regular(path, lim.MAX_STREAMED_BYTES) as (fh, _):
        head = fh.read(65536)
    text = rr.decode_text(path, head, partial=True).lstrip()
    if not text.startswith("<") or xml_formats.sniff(text) != "apple_health":
        return None  # refused by the usual size limit
    parsed = xml_formats.read_apple_health_file(path, lim.MAX_STREAMED_BYTES)
    return _finish(path, parsed, "apple_health", None, None)


def _open(path: Path) -> tuple[Path, bytes]:
    """The file's bytes, within the bounds: a regular file (not a FIFO or a device), at most
    :data:`~biofeedback.sessions.formats_limits.MAX_FILE_BYTES`, checked before reading; for
    a ZIP archive of one file, that file's (:mod:`.formats_archive`), named ``ARCHIVE/NAME``."""
    data = read_limited(path, lim.MAX_FILE_BYTES)
    if not data.strip():
        raise InputError(f"{path}: empty file")
    if archive.is_zip(data):
        return archive.only_member(path, data)
    return path, data


def _detect(path: Path, data: bytes) -> str:
    if data.startswith(NPY_MAGIC):
        return "npy"
    if is_fit(data):
        return "fit"
    head = rr.decode_text(path, data[:65536], partial=len(data) > 65536)
    stripped = head.lstrip()
    wave = waveforms.sniff(path, stripped)
    if wave is not None:
        return wave
    if stripped.startswith(("{", "[")) and json_formats.sniff(stripped):
        return "json_rr"
    if stripped.startswith("{"):
        return "bundle"
    if stripped.startswith("<"):
        kind = xml_formats.sniff(stripped)
        if kind == "xml":
            raise InputError(f"{path}: XML that is not a Suunto .sml or Apple Health export")
        return kind or "csv"
    if is_hrm(stripped):
        return "polar_hrm"
    if is_kubios_report(stripped):
        return "kubios_report"
    if is_vns(stripped):
        return "vns_analyse"
    sniffed = columns.sniff(path, stripped)
    if sniffed is not None:
        return sniffed
    first = next((ln for ln in stripped.splitlines() if not ln.startswith("#")), "")
    if any(c.isalpha() and c not in "eE" for c in first) and not rr.is_number(first):
        return "csv"
    return "elite_hrv" if rr.is_elite_hrv(path) else "rr_text"


def read_recording(
    path: Path,
    *,
    unit: str | None = None,
    first_is_offset: bool | None = None,
    fmt: str | None = None,
) -> RRRecording:
    """Read any supported file as RR intervals in ms (see the module notes for the rules)."""
    streamed = _streamed(Path(path), fmt)
    if streamed is not None:
        return streamed
    path, data = _open(Path(path))
    return _recording(path, data, unit, first_is_offset, fmt)


def read_input(
    path: Path, *, unit: str | None = None, first_is_offset: bool | None = None
) -> RRRecording | Waveform:
    """RR intervals, or the samples of an ECG or ACC file (:mod:`.formats_ecg`): the command
    line turns an ECG into beats (``sessions`` does not import ``ecg``)."""
    streamed = _streamed(Path(path), None)
    if streamed is not None:
        return streamed
    path, data = _open(Path(path))
    fmt = _detect(path, data)
    if fmt in waveforms.FORMATS:
        return _waveform(path, data, fmt)
    return _recording(path, data, unit, first_is_offset, fmt)


def _waveform(path: Path, data: bytes, fmt: str) -> Waveform:
    if fmt == "wfdb":
        if not path.is_file():  # a header inside a ZIP archive: its signal files are not here
            raise InputError(f"{path}: a WFDB record in a ZIP archive: unzip it first")
        return waveforms.read_wfdb(path)
    lim.check_lines(data, str(path))
    if rr.text_encoding(data[:4]) == "utf-16":
        data = rr.decode_text(path, data).encode("utf-8")
    wave = waveforms.read_polar(path, data, fmt)
    _started(path, wave.meta)
    return wave


def _recording(
    path: Path, data: bytes, unit: str | None, first_is_offset: bool | None, fmt: str | None
) -> RRRecording:
    fmt = fmt or _detect(path, data)
    if fmt in waveforms.FORMATS:
        kind = "ACC" if fmt == "polar_acc" else "ECG"
        raise InputError(
            f"{path}: {kind} samples ({fmt}), not RR intervals: analyze or import the file "
            "to have its beats detected"
        )
    if fmt == "bundle":
        return _from_bundle(parse_bundle(data, str(path)))
    if fmt not in ("npy", "fit"):
        lim.check_lines(data, str(path))
    return _finish(path, _parse(path, data, fmt), fmt, unit, first_is_offset)


def _finish(
    path: Path, parsed: Parsed, fmt: str, unit: str | None, first_is_offset: bool | None
) -> RRRecording:
    """The recording of parsed values: missing and trailing-zero beats, the unit, the checks."""
    meta = parsed.meta
    values, lines, t_s, segment = _drop_trailing_zero(parsed, meta)
    values, lines, t_s, segment = _drop_missing(path, values, lines, t_s, segment, meta)
    forced = unit is not None
    if unit is None:
        unit, note = rr.unit_of(values, parsed.unit)
        if note:
            meta["unit_note"] = note
    rr_ms, meta["unit"] = rr.to_ms(values, unit)
    if fmt in ("rr_text", "elite_hrv"):
        rr_ms, offset_ms = rr.split_offset(rr_ms, first_is_offset)
        if offset_ms is not None:
            meta["offset_s"] = offset_ms / 1000.0
            lines = lines[1:] if lines is not None else None
    _check(path, rr_ms, lines, forced_unit=forced)
    if t_s is not None:
        _check_times(path, t_s, lines)
    _started(path, meta)
    if segment is not None and segment.size and int(segment[-1]) == 0:
        segment = None
    if segment is not None:
        meta["gaps"] = int(np.count_nonzero(np.diff(segment)))
    return RRRecording(rr_ms=rr_ms, t_s=t_s, source_format=fmt, meta=meta, segment=segment)


def _parse(path: Path, data: bytes, fmt: str) -> Parsed:
    if fmt == "npy":
        return Parsed(_read_npy(path, data), None)
    if fmt == "fit":
        return read_fit(path, data)
    if fmt == "suunto_sml":
        return xml_formats.read_sml(path, data)
    if fmt == "apple_health":
        return xml_formats.read_apple_health(path, data)
    if fmt == "json_rr":
        return json_formats.read_json(path, data)
    text = rr.decode_text(path, data)
    if fmt == "polar_hrm":
        values, hrm_lines, meta = read_hrm(path, text)
        meta["device"] = "Polar (HRM file)"
        return Parsed(values, hrm_lines, meta, "ms")
    if fmt == "csv":
        return read_csv(path, text)
    if fmt == "kubios_report":
        return read_kubios(path, text)
    if fmt == "vns_analyse":
        return read_vns(path, text)
    if fmt in columns.FORMATS:
        return columns.read(fmt, path, text)
    if fmt in ("rr_text", "elite_hrv"):
        values, text_lines, meta = rr.read_rr_text(path, text)
        if fmt == "elite_hrv":
            meta["app"] = "Elite HRV"
        return Parsed(values, text_lines, meta, "ms" if fmt == "elite_hrv" else None)
    raise InputError(f"{path}: unknown format {fmt!r} (known: {', '.join(FORMATS)})")


def _started(path: Path, meta: dict[str, Any]) -> None:
    """``started_wall_s`` checked; from ``started_local`` (this computer's zone) if absent."""
    if "started_wall_s" not in meta and meta.get("started_local"):
        try:
            local = dt.datetime.fromisoformat(str(meta["started_local"]))
        except ValueError:
            local = None
        if local is not None:
            meta["started_wall_s"] = local.timestamp()
            meta["started_zone"] = "this computer's (the file names none)"
    if "started_wall_s" in meta:
        meta["started_wall_s"] = lim.check_wall_s(meta["started_wall_s"], f"{path}: time")


def _read_npy(path: Path, data: bytes) -> NDArray[np.float64]:
    """A 1-D integer or float array, its header checked before any allocation: a header may
    claim any shape (a 74.5 GiB one was seen), and only the bytes present are used."""
    fp = io.BytesIO(data)
    try:
        version = npformat.read_magic(fp)
        if version == (1, 0):
            shape, _fortran, dtype = npformat.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, _fortran, dtype = npformat.read_array_header_2_0(fp)
        else:
            raise ValueError(f"unsupported .npy version {version[0]}.{version[1]}")
    except Exception as exc:  # numpy's header parser raises several kinds (ValueError,
        # SyntaxError, tokenize.TokenError...) for a malformed header: all mean "not an array"
        first = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: not a readable .npy array: {first}") from None
    if len(shape) != 1 or dtype.kind not in "iuf" or dtype.hasobject:
        shown = "x".join(str(n) if abs(n) < 10**12 else "huge" for n in shape[:4])
        raise InputError(f"{path}: expected a 1-D integer or float array, got {dtype} ({shown})")
    (count,) = shape
    if not 0 <= count <= lim.MAX_BEATS:
        claimed = count if abs(count) < 10**18 else "an absurd number of"
        raise InputError(f"{path}: the header claims {claimed} values (limit {lim.MAX_BEATS})")
    payload = memoryview(data)[fp.tell() :]
    if len(payload) < count * dtype.itemsize:
        raise InputError(
            f"{path}: truncated: the header claims {count} values, the file holds "
            f"{len(payload) // dtype.itemsize}"
        )
    values: NDArray[np.float64] = np.frombuffer(payload, dtype=dtype, count=count).astype(
        np.float64
    )
    return values


def _drop_trailing_zero(
    parsed: Parsed, meta: dict[str, Any]
) -> tuple[NDArray[np.float64], Lines | None, NDArray[np.float64] | None, NDArray[np.int64] | None]:
    values, lines, t_s, segment = parsed.values, parsed.lines, parsed.t_s, parsed.segment
    if values.size > 1 and values[-1] == 0:
        meta["dropped_trailing_zero"] = True
        return (
            values[:-1],
            lines[:-1] if lines is not None else None,
            t_s[:-1] if t_s is not None else None,
            segment[:-1] if segment is not None else None,
        )
    return values, lines, t_s, segment


def _drop_missing(
    path: Path,
    values: NDArray[np.float64],
    lines: Lines | None,
    t_s: NDArray[np.float64] | None,
    segment: NDArray[np.int64] | None,
    meta: dict[str, Any],
) -> tuple[NDArray[np.float64], Lines | None, NDArray[np.float64] | None, NDArray[np.int64] | None]:
    """Beats a file marks as missing (NaN) removed, a gap left where each was."""
    keep, segment = timed.drop_missing(values, t_s, segment)
    if keep.all():
        return values, lines, t_s, segment
    if not keep.any():
        raise InputError(f"{path}: every RR value is marked missing (NaN): no RR values")
    meta["missing_beats"] = int(np.count_nonzero(~keep))
    return (
        values[keep],
        np.asarray(lines, dtype=np.int64)[keep] if lines is not None else None,
        t_s[keep] if t_s is not None else None,
        segment,
    )


def _check(
    path: Path, rr_ms: NDArray[np.float64], lines: Lines | None, *, forced_unit: bool = False
) -> None:
    """The checks every format's RR pass (the module notes); the median check not where the
    caller forced the unit (its override is honoured, however odd the result)."""
    if rr_ms.size == 0:
        raise InputError(f"{path}: no RR values")
    bad = ~np.isfinite(rr_ms) | (rr_ms <= 0) | (rr_ms > RR_MAX_MS)
    if bad.any():
        i = int(np.argmax(bad))
        where = f"line {lines[i]}" if lines is not None else f"value {i + 1}"
        value = float(rr_ms[i])
        reason = (
            "negative RR"
            if value < 0
            else "RR of 0"
            if value == 0
            else "RR over 60 s (wrong unit, or an offset: see first_is_offset)"
            if value > RR_MAX_MS
            else "not a finite RR"
        )
        raise InputError(f"{path}: {where}: {reason} ({value:g} ms)")
    median = float(np.median(rr_ms))
    if rr_ms.size >= 3 and median < RR_MEDIAN_MIN_MS and not forced_unit:
        raise InputError(
            f"{path}: the median RR is {median:g} ms (over {60000 / RR_MEDIAN_MIN_MS:g} beats a "
            "minute): these are no RR intervals (heart rate in bpm, or a wrong --unit?)"
        )


def _check_times(path: Path, t_s: NDArray[np.float64], lines: Lines | None) -> None:
    bad = ~(np.abs(t_s) <= lim.MAX_ABS_T_S)
    if bad.any():
        i = int(np.argmax(bad))
        where = f"line {lines[i]}" if lines is not None else f"value {i + 1}"
        raise InputError(f"{path}: {where}: beat time {float(t_s[i]):g} s is out of range")


def _from_bundle(bundle: SessionBundle) -> RRRecording:
    beats = bundle.beats
    return RRRecording(
        rr_ms=np.asarray(beats["rr_ms"], dtype=np.float64),
        t_s=np.asarray(beats["t_s"], dtype=np.float64),
        source_format="bundle",
        meta={"session": bundle.session, "device": bundle.device, "settings": bundle.settings},
        segment=np.asarray(beats["segment"], dtype=np.int64),
    )


def recording_to_bundle(recording: RRRecording, name: str = "") -> SessionBundle:
    """A session bundle holding an imported RR file (``rr_raw`` null: no strap units)."""
    rr_ms = recording.rr_ms
    if recording.t_s is not None:
        t_s = recording.t_s
    else:
        t_s = recording.meta.get("offset_s", 0.0) + np.cumsum(rr_ms) / 1000.0
    segment = recording.segment if recording.segment is not None else np.zeros(rr_ms.size, int)
    implausible = (rr_ms < RR_PLAUSIBLE_MIN_MS) | (rr_ms > RR_PLAUSIBLE_MAX_MS)
    meta = {k: v for k, v in recording.meta.items() if k != "started_wall_s"}
    session: dict[str, Any] = {
        "source": f"import:{recording.source_format}",
        "import": meta,
        "notes": f"imported from {name}" if name else "imported",
    }
    if "started_wall_s" in recording.meta:
        session["started_wall_s"] = float(recording.meta["started_wall_s"])
    return SessionBundle(
        session=session,
        device={
            "name": str(recording.meta.get("device") or recording.meta.get("app") or ""),
            "address": "",
            "kind": "import",
            "format": recording.source_format,
        },
        beats={  # tolist(): Python floats and ints, as fast as numpy gives them
            "t_s": np.asarray(t_s, dtype=np.float64).tolist(),
            "rr_ms": np.asarray(rr_ms, dtype=np.float64).tolist(),
            "rr_raw": [None] * rr_ms.size,
            "segment": np.asarray(segment, dtype=np.int64).tolist(),
            "flags": np.where(implausible, int(BeatFlag.IMPLAUSIBLE), 0).tolist(),
        },
    )


def read_as_bundle(
    path: Path, *, unit: str | None = None, first_is_offset: bool | None = None
) -> SessionBundle:
    """What ``biofeedback import FILE`` stores: a bundle file as is, any other format converted."""
    path, data = _open(Path(path))
    fmt = _detect(path, data)
    if fmt == "bundle":
        return parse_bundle(data, str(path))
    recording = _recording(path, data, unit, first_is_offset, fmt)
    return recording_to_bundle(recording, path.name)


def read_for_import(
    path: Path, *, unit: str | None = None, first_is_offset: bool | None = None
) -> SessionBundle | Waveform:
    """:func:`read_as_bundle`, or the samples of a waveform file (the caller detects its beats)."""
    path, data = _open(Path(path))
    fmt = _detect(path, data)
    if fmt in waveforms.FORMATS:
        return _waveform(path, data, fmt)
    if fmt == "bundle":
        return parse_bundle(data, str(path))
    return recording_to_bundle(_recording(path, data, unit, first_is_offset, fmt), path.name)
