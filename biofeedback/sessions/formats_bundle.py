"""Reading a session bundle from a file someone else wrote: parse within bounds, check every field.

The store trusts a bundle's types (a marker time that is a string breaks a NOT NULL column, a
segment number of 10**30 overflows SQLite's integers, a start time of 1e300 s breaks every later
listing), so a bundle from a file is checked here before it reaches the store: each column is a
list of numbers of the right kind in range (checked with numpy, a day of beats at a time), each
record field has its type, every other value is JSON nested at most a few levels with integers
SQLite can hold, and each bound of :mod:`~biofeedback.sessions.formats_limits` holds. Every
refusal is one line naming the file and the field.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from biofeedback.errors import InputError
from biofeedback.sessions import formats_limits as lim

if TYPE_CHECKING:
    from biofeedback.sessions.bundle import SessionBundle

_TEXT_FIELDS: Final = {
    "session": ("source", "profile", "notes", "status"),
    "markers": ("label",),
    "segments": ("kind", "category"),
}


def parse_json(data: bytes, origin: str) -> object:
    """JSON from a file's bytes: a one-line InputError for every way it can fail.

    NaN and Infinity (which Python's parser accepts) are refused; so are integers over Python's
    4300-digit limit (a ValueError) and nesting too deep for the parser (a RecursionError).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{origin}: not UTF-8 text (byte {exc.start})") from exc
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InputError(f"{origin}: not valid JSON (line {exc.lineno}): {exc.msg}") from exc
    except RecursionError:
        raise InputError(f"{origin}: JSON nested too deeply") from None
    except ValueError as exc:  # int digits limit, or _no_constant
        raise InputError(f"{origin}: not valid JSON: {str(exc).splitlines()[0][:120]}") from None


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def check_bundle(bundle: SessionBundle, origin: str) -> None:
    """Refuse a bundle whose fields have the wrong types or absurd values (in place: integer
    times become floats, the store's column type)."""
    _beats(bundle.beats, f"{origin}: beats")
    _packets(bundle.packets, f"{origin}: packets")
    for name, part in (
        ("session", bundle.session),
        ("device", bundle.device),
        ("settings", bundle.settings),
        ("truth", bundle.truth),
    ):
        lim.check_tree(part, f"{origin}: {name}")
    _session(bundle.session, f"{origin}: session")
    _records(bundle.markers, origin, "markers", times=("t_s",), texts=("kind",))
    _records(bundle.segments, origin, "segments", times=("start_s",), texts=("label",))
    for i, segment in enumerate(bundle.segments):
        where = f"{origin}: segments[{i}]"
        if segment.get("end_s") is not None:
            segment["end_s"] = _time(segment["end_s"], f"{where}.end_s")
        if segment.get("complete") is not None and not isinstance(segment["complete"], bool):
            raise InputError(f"{where}.complete: expected true or false")


def _beats(beats: Mapping[str, list[Any]], where: str) -> None:
    lim.check_count(len(beats["t_s"]), lim.MAX_BEATS, "beats", where)
    _numbers(beats["t_s"], -lim.MAX_ABS_T_S, lim.MAX_ABS_T_S, f"{where}.t_s")
    _numbers(beats["rr_ms"], 0.0, lim.MAX_RR_MS, f"{where}.rr_ms")
    raw = beats["rr_raw"]
    _numbers([v for v in raw if v is not None], 0, lim.MAX_SMALL_INT, f"{where}.rr_raw", ints=True)
    small = lim.MAX_SMALL_INT
    _numbers(beats["segment"], -small - 1, small, f"{where}.segment", ints=True)
    _numbers(beats["flags"], 0, small, f"{where}.flags", ints=True)


def _packets(packets: Mapping[str, list[Any]], where: str) -> None:
    lim.check_count(len(packets["t_s"]), lim.MAX_PACKETS, "packets", where)
    _numbers(packets["t_s"], -lim.MAX_ABS_T_S, lim.MAX_ABS_T_S, f"{where}.t_s")
    _numbers(packets["wall_s"], lim.WALL_MIN_S, lim.WALL_MAX_S, f"{where}.wall_s")
    for i, value in enumerate(packets["hex"]):
        if not isinstance(value, str) or len(value) > lim.MAX_HEX:
            shown = f"{len(value)} characters" if isinstance(value, str) else type(value).__name__
            raise InputError(f"{where}.hex[{i}]: expected a hex string, got {shown}")


def _numbers(column: list[Any], low: float, high: float, where: str, *, ints: bool = False) -> None:
    if not column:
        return
    import numpy as np  # only when a bundle is checked: opening a store need not load numpy

    kinds = "iu" if ints else "iuf"
    try:
        array = np.asarray(column)
    except (ValueError, TypeError, OverflowError):
        array = np.asarray([], dtype=object)
    if array.ndim != 1 or array.dtype.kind not in kinds:
        i, value = next(
            ((i, v) for i, v in enumerate(column) if not _is_number(v, ints)), (0, column[0])
        )
        what = "an integer" if ints else "a number"
        raise InputError(f"{where}[{i}]: expected {what}, got {_show(value)}")
    values = array.astype(np.float64)
    ok = np.isfinite(values) & (values >= low) & (values <= high)
    if not ok.all():
        i = int(np.argmin(ok))
        raise InputError(f"{where}[{i}]: {_show(column[i])} is out of range ({low:g} to {high:g})")


def _is_number(value: object, ints: bool) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -lim.MAX_INT - 1 <= value <= lim.MAX_INT
    return not ints and isinstance(value, float)


def _show(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of {value.bit_length()} bits"
    if isinstance(value, str | list | dict):
        return type(value).__name__
    return repr(value)[:40]


def _time(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}: expected a number of seconds, got {_show(value)}")
    if not (math.isfinite(value) and abs(value) <= lim.MAX_ABS_T_S):
        raise InputError(f"{where}: {_show(value)} s is out of range")
    return float(value)


def _session(session: dict[str, Any], where: str) -> None:
    for key in ("started_wall_s", "ended_wall_s"):
        value = session.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"{where}.{key}: expected a Unix time, got {_show(value)}")
        session[key] = lim.check_wall_s(float(value), f"{where}.{key}")
    _texts(session, _TEXT_FIELDS["session"], where)


def _records(
    records: list[dict[str, Any]],
    origin: str,
    name: str,
    *,
    times: tuple[str, ...],
    texts: tuple[str, ...],
) -> None:
    """Markers or segments: ``times`` must be numbers when present (the store checks that the
    required ones are), ``texts`` strings; the optional text fields strings or null."""
    lim.check_count(len(records), lim.MAX_RECORDS, name, origin)
    for i, record in enumerate(records):
        at = f"{origin}: {name}[{i}]"
        lim.check_tree(record, at)
        for key in times:
            if key in record:
                record[key] = _time(record[key], f"{at}.{key}")
        for key in texts:
            if key in record and not isinstance(record[key], str):
                raise InputError(f"{at}.{key}: expected a string, got {_show(record[key])}")
        _texts(record, _TEXT_FIELDS[name], at)


def _texts(record: Mapping[str, Any], keys: tuple[str, ...], where: str) -> None:
    for key in keys:
        value = record.get(key)
        if value is not None and not isinstance(value, str):
            raise InputError(f"{where}.{key}: expected a string, got {_show(value)}")
