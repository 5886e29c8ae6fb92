"""XML exports: Suunto ``.sml`` (R-R data) and Apple Health ``export.xml``.

Parsed with the standard library's expat parser, streaming, with every entity declaration
refused (no entity expansion, so no "billion laughs"; external entities are never fetched).

- ``suunto_sml``: Suunto Moveslink/SuuntoLink ``.sml``: ``<R-R><Data>`` holds the RRs in ms,
  space-separated (``<IBI>`` in older logs); the start is the header's ``DateTime`` (local),
  or the first sample's ``UTC`` less its ``Time``; the device is ``<Device><Name>``.
- ``apple_health``: Apple Health ``export.xml``. Apple Watch HRV records
  (``HKQuantityTypeIdentifierHeartRateVariabilitySDNN``) may carry
  ``InstantaneousBeatsPerMinute`` beats with their times (10 ms resolution): those are read,
  RR from successive beat times, one continuity segment per record. An export without them
  holds heart-rate samples only and is refused.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.parsers.expat
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import numpy as np

from biofeedback.errors import InputError
from biofeedback.safe_io import open_regular
from biofeedback.sessions import formats_limits as lim
from biofeedback.sessions import formats_timed as timed
from biofeedback.sessions.formats_types import Parsed

NO_RR: Final = "no RR intervals: HRV needs beat-to-beat data"
HRV_TYPE: Final = "HKQuantityTypeIdentifierHeartRateVariabilitySDNN"


def sniff(text: str) -> str | None:
    head = text.lstrip()[:4096]
    if not head.startswith("<"):
        return None
    if "<sml" in head or "suunto.com/schemas/sml" in head or _MOVESLINK.search(head):
        return "suunto_sml"
    if "<HealthData" in head or "HealthKit Export" in head:
        return "apple_health"
    return "xml"


class _Refused(Exception):
    pass


def _parser(path: Path) -> Any:
    parser = xml.parsers.expat.ParserCreate()

    def no_entities(name: str, *_: object) -> None:
        raise _Refused(f"line {parser.CurrentLineNumber}: XML entity declaration {name!r}")

    parser.EntityDeclHandler = no_entities
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


def _run(path: Path, parser: Any, data: bytes, *, final: bool = True) -> None:
    try:
        parser.Parse(data, final)
    except _Refused as exc:
        raise InputError(f"{path}: {exc}; not read") from None
    except xml.parsers.expat.ExpatError as exc:
        raise InputError(f"{path}: line {exc.lineno}: not well-formed XML: {exc}") from None


_MOVESLINK: Final = re.compile(r"^(?:<\?xml[^>]*\?>\s*)?<header>", re.IGNORECASE)
"""Suunto Ambit logs of Moveslink2 (``.xml``): ``<header>``, ``<R-R><IBI>``, ``<Samples>`` side by
side, with no root element around them."""


def _one_root(data: bytes) -> bytes:
    """A Moveslink2 log's top-level elements wrapped in one root (XML allows one); the
    declaration is kept in place, so line numbers stay the file's."""
    head = data[:512].lstrip().lower()
    declared = head.startswith(b"<?xml")
    body = head[head.find(b"?>") + 2 :].lstrip() if declared else head
    if not body.startswith(b"<header>"):
        return data
    if declared:
        end = data.find(b"?>") + 2
        return data[:end] + b"<moveslink>" + data[end:] + b"</moveslink>"
    return b"<moveslink>" + data + b"</moveslink>"


def read_sml(path: Path, data: bytes) -> Parsed:
    parser = _parser(path)
    stack: list[str] = []
    text: list[str] = []
    found: dict[str, str] = {}
    rr_text: list[str] = []
    rr_line = [0]

    def start(name: str, _attrs: dict[str, str]) -> None:
        stack.append(name)
        text.clear()
        if stack[-2:] in (["R-R", "Data"], ["R-R", "IBI"]) and not rr_line[0]:
            rr_line[0] = parser.CurrentLineNumber

    def end(name: str) -> None:
        value = "".join(text).strip()
        path_ = "/".join(stack[-2:])
        if path_ in ("R-R/Data", "R-R/IBI"):
            rr_text.append(value)
        elif path_.lower() == "header/datetime" and "start" not in found:
            found["start"] = value
        elif path_ == "Device/Name" and "device" not in found:
            found["device"] = value
        elif path_ == "Sample/UTC" and "utc" not in found:
            found["utc"] = value
            found["utc_at"] = "pending"
        elif path_ == "Sample/Time" and found.get("utc_at") == "pending":
            found["utc_at"] = value
        stack.pop()
        text.clear()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text.append
    _run(path, parser, _one_root(data))
    tokens = [tok for tok in re.split(r"[\s,;]+", " ".join(rr_text)) if tok]
    lim.check_count(len(tokens), lim.MAX_BEATS, "RR values", str(path))
    if not tokens:
        raise InputError(f"{path}: Suunto log without R-R data: heart rate only, {NO_RR}")
    values: list[float] = []
    for tok in tokens:
        try:
            values.append(float(tok))
        except ValueError:
            raise InputError(
                f"{path}: line {rr_line[0]}: R-R value is not a number: {tok[:40]!r}"
            ) from None
    meta: dict[str, Any] = {"device": found.get("device") or "Suunto"}
    if found.get("start"):
        meta["started_local"] = found["start"]
    try:
        utc = dt.datetime.fromisoformat(found["utc"]).replace(tzinfo=dt.UTC).timestamp()
        meta["started_wall_s"] = utc - float(found.get("utc_at", "0") or 0)
    except (KeyError, ValueError):
        pass
    return Parsed(np.asarray(values, dtype=np.float64), [rr_line[0]] * len(values), meta, "ms")


STREAM_CHUNK_BYTES: Final = 8 * 2**20
"""How much of a large Apple Health export is parsed at a time (:func:`read_apple_health_file`)."""


def read_apple_health(path: Path, data: bytes) -> Parsed:
    """An Apple Health ``export.xml`` held in memory (:func:`read_apple_health_file` streams)."""
    return _apple_health(path, lambda parser: _run(path, parser, data))


def read_apple_health_file(path: Path, max_bytes: int) -> Parsed:
    """An Apple Health ``export.xml`` of any size up to ``max_bytes``, parsed in chunks of
    :data:`STREAM_CHUNK_BYTES` (multi-year exports run to gigabytes; only the heartbeat
    series are kept, so memory stays that of the beats)."""

    def feed(parser: Any) -> None:
        with open_regular(path, max_bytes) as (fh, _):
            while chunk := fh.read(STREAM_CHUNK_BYTES):
                _run(path, parser, chunk, final=False)
            _run(path, parser, b"", final=True)

    return _apple_health(path, feed)


def _apple_health(path: Path, feed: Callable[[Any], None]) -> Parsed:
    parser = _parser(path)
    counts: dict[str, int] = {}
    first_line: dict[str, int] = {}
    records: list[tuple[str, list[tuple[str, str, int]]]] = []
    current: list[Any] = [None]

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "Record":
            kind = attrs.get("type", "?").removeprefix("HKQuantityTypeIdentifier")
            counts[kind] = counts.get(kind, 0) + 1
            first_line.setdefault(kind, parser.CurrentLineNumber)
            if attrs.get("type") == HRV_TYPE:
                current[0] = (attrs.get("startDate", ""), [])
                records.append(current[0])
        elif name == "InstantaneousBeatsPerMinute" and current[0] is not None:
            beat = (attrs.get("time", ""), attrs.get("bpm", ""), parser.CurrentLineNumber)
            current[0][1].append(beat)
            lim.check_count(len(current[0][1]), lim.MAX_BEATS, "beats", str(path))

    def end(name: str) -> None:
        if name == "Record":
            current[0] = None

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    feed(parser)
    n_beats = sum(len(beats) for _, beats in records)
    if n_beats:
        parsed = _apple_beats(path, records)
        if parsed.values.size:
            return parsed
    order = sorted(counts.items(), key=lambda kv: (not kv[0].startswith("HeartRate"), kv[0]))
    held = ", ".join(f"{n} {k}" for k, n in order[:6]) or "no records"
    line = first_line.get("HeartRate", min(first_line.values(), default=1))
    what = "heart rate samples" if "HeartRate" in counts else "no heartbeat data"
    beats = (
        f"{n_beats} InstantaneousBeatsPerMinute readings that are not successive beats"
        if n_beats
        else "no InstantaneousBeatsPerMinute beats"
    )
    raise InputError(
        f"{path}: line {line}: Apple Health export with {what} ({held[:120]}) and {beats}: " + NO_RR
    )


def _apple_beats(path: Path, records: list[tuple[str, list[tuple[str, str, int]]]]) -> Parsed:
    """RR between successive InstantaneousBeatsPerMinute readings whose time difference is
    the RR their bpm implies (the :mod:`.formats_timed` gap rule); others are breaks."""
    rr: list[float] = []
    t_s: list[float] = []
    seg: list[int] = []
    lines: list[int] = []
    start_wall: float | None = None
    segment = 0
    for start_date, beats in records:
        if len(beats) < 2:
            continue
        try:
            day = dt.datetime.strptime(start_date, "%Y-%m-%d %H:%M:%S %z")
        except ValueError:
            raise InputError(f"{path}: line {beats[0][2]}: startDate {start_date!r}") from None
        times = [_clock(path, text, line, day) for text, _, line in beats]
        bpm = [_bpm(path, value, line) for _, value, line in beats]
        for i in range(1, len(times)):
            while times[i] < times[i - 1] - 1.0:  # past midnight
                times[i] += 86400.0
        if start_wall is None:
            start_wall = times[0]
        joined = False
        for i in range(1, len(times)):
            interval = times[i] - times[i - 1]
            expected = 60.0 / bpm[i]
            if abs(interval - expected) > max(timed.GAP_MIN_S, timed.GAP_REL * expected):
                if joined:
                    segment += 1
                joined = False
                continue
            rr.append(interval)
            t_s.append(times[i] - start_wall)
            seg.append(segment)
            lines.append(beats[i][2])
            joined = True
        segment += 1
    meta: dict[str, Any] = {
        "device": "Apple Watch (Apple Health HRV records)",
        "times": "beat (InstantaneousBeatsPerMinute)",
    }
    if start_wall is not None:
        meta["started_wall_s"] = start_wall
    return Parsed(
        np.asarray(rr, dtype=np.float64),
        lines,
        meta,
        "s",
        np.asarray(t_s, dtype=np.float64),
        np.asarray(seg, dtype=np.int64),
    )


def _bpm(path: Path, value: str, line: int) -> float:
    try:
        bpm = float(value)
    except ValueError:
        bpm = float("nan")
    if not 10.0 <= bpm <= 300.0:
        raise InputError(f"{path}: line {line}: bpm {value[:20]!r} is not a heart rate")
    return bpm


def _clock(path: Path, text: str, line: int, day: dt.datetime) -> float:
    seconds = timed.clock_seconds(text)
    if seconds is None:
        raise InputError(f"{path}: line {line}: beat time {text[:40]!r} is not a clock time")
    base = day.replace(hour=0, minute=0, second=0, microsecond=0)
    return base.timestamp() + seconds
