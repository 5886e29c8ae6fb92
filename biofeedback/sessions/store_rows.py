"""Conversions between a :class:`SessionBundle` and the store's rows, exact both ways.

A record's known keys go to typed columns only when their value has the column's exact type
(a float for a REAL column, a str for TEXT); anything else, unknown keys included, goes to a JSON
``extra`` column. Loading merges the two, so every record comes back equal, key for key.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any, Final

from biofeedback.errors import InputError
from biofeedback.sessions.bundle import BEAT_COLUMNS, SessionBundle

# The session keys with their own column; "json" columns hold any JSON value.
SESSION_COLUMNS: Final = {
    "started_wall_s": float,
    "source": str,
    "profile": str,
    "protocol": "json",
    "order_used": "json",
    "notes": str,
    "status": str,
    "ended_wall_s": float,
}
MARKER_COLUMNS: Final = {"t_s": float, "kind": str, "label": str, "value": "json"}
SEGMENT_COLUMNS: Final = {
    "label": str,
    "kind": str,
    "start_s": float,
    "end_s": float,
    "complete": bool,
    "category": str,
}
# complete: the protocol (or the source) ran to its end; stopped: its user ended it early;
# interrupted: a signal, a crash or a lost terminal ended it.
STATUSES: Final = ("recording", "complete", "stopped", "interrupted")
# Keys that identify where a copy lives, not what was recorded: left out of the content hash.
_NOT_CONTENT: Final = ("id", "status", "notes")


def dumps(value: object) -> str:
    """Compact JSON; Python's float repr makes numbers round-trip bit for bit."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def split_record(record: Mapping[str, Any], columns: Mapping[str, object]) -> dict[str, Any]:
    """Column values (None where absent) plus ``extra``: the JSON of everything else."""
    row: dict[str, Any] = dict.fromkeys(columns)
    extra: dict[str, Any] = {}
    for key, value in record.items():
        kind = columns.get(key)
        if kind == "json":
            row[key] = dumps(value)
        elif kind is not None and type(value) is kind:
            row[key] = int(value) if kind is bool else value
        else:
            extra[key] = value
    row["extra"] = dumps(extra) if extra else None
    return row


def join_record(row: Mapping[str, Any], columns: Mapping[str, object]) -> dict[str, Any]:
    """The inverse of :func:`split_record`."""
    record: dict[str, Any] = {}
    for key, kind in columns.items():
        value = row[key]
        if value is None:
            continue
        if kind == "json":
            record[key] = json.loads(value)
        else:
            record[key] = bool(value) if kind is bool else value
    if row["extra"]:
        record.update(json.loads(row["extra"]))
    return record


def normalise(bundle: SessionBundle, origin: str) -> SessionBundle:
    """Check the columns' types and give each column one type (floats stay floats); check each
    waveform chunk (decoding it, bounded) and give it the store's form (base64 samples)."""
    beats = bundle.beats
    packets = bundle.packets
    try:
        bundle.beats = {
            "t_s": _finite_column(beats["t_s"]),
            "rr_ms": _finite_column(beats["rr_ms"]),
            "rr_raw": _integer_column(beats["rr_raw"], none_ok=True),
            "segment": _integer_column(beats["segment"]),
            "flags": _integer_column(beats["flags"]),
        }
        bundle.packets = {
            "t_s": _finite_column(packets["t_s"]),
            "wall_s": _finite_column(packets["wall_s"]),
            "hex": [bytes.fromhex(v).hex() for v in packets["hex"]],
        }
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(f"{origin}: bad value in beats or packets: {exc}") from exc
    if bundle.waveforms:
        from biofeedback.sessions.store_waves import canonical_records

        bundle.waveforms = canonical_records(bundle.waveforms, origin)
    status = bundle.session.get("status", "complete")
    if status not in STATUSES:
        raise InputError(f"{origin}: session status {status!r} is not one of {STATUSES}")
    for where, records, required in (
        ("markers", bundle.markers, ("t_s", "kind")),
        ("segments", bundle.segments, ("label", "start_s")),
    ):
        for i, record in enumerate(records):
            missing = [k for k in required if k not in record]
            if missing:
                raise InputError(f"{origin}: {where}[{i}] lacks {', '.join(missing)}")
    return bundle


def _finite_column(values: list[Any]) -> list[float]:
    """The column as floats, each a finite int or float (not a bool); vectorised when every
    value is already an int or float, else checked one by one for the message."""
    kinds = set(map(type, values))
    if kinds <= {float, int}:
        import numpy as np  # here, not at import: opening a store must not pay for numpy

        column = np.asarray(values, dtype=np.float64)
        if np.isfinite(column).all():
            out: list[float] = column.tolist()
            return out
    return [_finite(v) for v in values]


def _integer_column(values: list[Any], *, none_ok: bool = False) -> list[Any]:
    """The column unchanged when every value is an int (``None`` too with ``none_ok``)."""
    allowed = {int, type(None)} if none_ok else {int}
    if set(map(type, values)) <= allowed:
        return list(values)
    return [None if none_ok and v is None else _integer(v) for v in values]


def _finite(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"not a number: {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not finite: {value!r}")
    return number


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"not an integer: {value!r}")
    return value


def content_sha256(bundle: SessionBundle) -> str:
    """SHA-256 of what was recorded, independent of the copy's id, status and notes."""
    doc = bundle.to_json()
    doc["session"] = {k: v for k, v in bundle.session.items() if k not in _NOT_CONTENT}
    doc.pop("program", None)
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def beat_rows(session_id: int, beats: Mapping[str, list[Any]]) -> list[tuple[Any, ...]]:
    return list(
        zip([session_id] * len(beats["t_s"]), *(beats[c] for c in BEAT_COLUMNS), strict=True)
    )


def packet_rows(session_id: int, packets: Mapping[str, list[Any]]) -> list[tuple[Any, ...]]:
    n = len(packets["t_s"])
    raws = [bytes.fromhex(h) for h in packets["hex"]]
    return list(zip([session_id] * n, packets["t_s"], packets["wall_s"], raws, strict=True))


def columns_of(rows: list[tuple[Any, ...]], names: tuple[str, ...]) -> dict[str, list[Any]]:
    if not rows:
        return {n: [] for n in names}
    return {n: list(col) for n, col in zip(names, zip(*rows, strict=True), strict=True)}
