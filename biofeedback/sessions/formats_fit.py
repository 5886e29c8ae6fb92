"""Garmin / ANT FIT activity files: the RR intervals of their ``hrv`` (or ``beat_intervals``)
messages.

Read with `fitdecode <https://pypi.org/project/fitdecode/>`_ (imported only when a FIT file is
read): maintained (0.11, 2025), pure Python, streaming (one message at a time, so a big file
is never held decoded), checks CRCs, and knows Garmin's profile (``hrv`` message 78, field
``time``: up to 5 RRs in s, 0xFFFF = invalid, given as None). fitparse was the other
candidate; its last release is from 2020.

An ``hrv`` message has no timestamp: beats are the cumulative RR from the activity start (the
first timer start, else the session start, else the file's creation). A timer stop and
restart (a pause) is a gap: the beats after it start a new segment, placed at the restart.
Newer Garmin watches log beat-to-beat intervals as ``beat_intervals`` (message 290, ``time``
in ms), read the same way; Connect IQ apps write them as a developer field of ``record``
messages (named ``RR``, ``RRI``...), read when a file has no ``hrv`` messages. A FIT file with
none of them (HRV logging off) holds heart rate only and is refused.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any, Final

import numpy as np

from biofeedback.errors import InputError
from biofeedback.sessions import formats_limits as lim
from biofeedback.sessions.formats_rr import guess_unit
from biofeedback.sessions.formats_types import Parsed

FIT_SIGNATURE: Final = b".FIT"
_BEAT_MESSAGES: Final = {"hrv": 1.0, "beat_intervals": 0.001}
"""FIT messages holding RR, and the scale of their ``time`` to s: ``hrv`` (78) in s (an activity
with HRV logging on), ``beat_intervals`` (290) in ms (newer watches' beat-to-beat logging)."""
_RR_FIELD_NAMES: Final = frozenset(
    {"rr", "rri", "rrinterval", "rrintervals", "rrms", "ibi", "beatinterval", "beatintervals"}
)
"""Developer field names (lower case, letters only) that hold RR intervals."""
_STOPS: Final = frozenset({"stop", "stop_all", "stop_disable", "stop_disable_all"})


def is_fit(data: bytes) -> bool:
    """A FIT file: header size 12 or 14, then ``.FIT`` at bytes 8-11."""
    return len(data) >= 12 and data[0] in (12, 14) and data[8:12] == FIT_SIGNATURE


def read_fit(path: Path, data: bytes) -> Parsed:
    try:
        import fitdecode
    except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
        raise InputError(
            f"{path}: reading FIT files needs fitdecode (pip install fitdecode)"
        ) from None
    rr: list[float] = []
    seg: list[int] = []
    records: list[int] = []
    anchors: list[float | None] = [None]
    info: dict[str, Any] = {}
    dev = _DeveloperRR()
    paused = False
    segment = 0
    number = 0
    try:
        with fitdecode.FitReader(io.BytesIO(data)) as reader:
            for frame in reader:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                number += 1
                name = frame.name
                if name in _BEAT_MESSAGES:
                    values = frame.get_value("time", fallback=None)
                    if values is None:
                        continue
                    if not isinstance(values, tuple | list):
                        values = (values,)
                    scale = _BEAT_MESSAGES[name]
                    info.setdefault("beat_messages", set()).add(name)
                    for value in values:
                        if value is None or not 0 < float(value) * scale < 65.535:
                            continue
                        rr.append(float(value) * scale)
                        seg.append(segment)
                        records.append(number)
                    lim.check_count(len(rr), lim.MAX_BEATS, "RR values", str(path))
                elif name == "record":
                    _developer_rr(frame, dev, segment, number)
                    lim.check_count(len(dev.values), lim.MAX_BEATS, "RR values", str(path))
                elif name == "event":
                    _event(frame, info)
                    kind = frame.get_value("event_type", fallback=None)
                    if frame.get_value("event", fallback=None) == "timer":
                        if kind in _STOPS:
                            paused = True
                        elif kind == "start":
                            when = _unix(frame.get_value("timestamp", fallback=None))
                            if paused and rr and seg[-1] == segment:
                                segment += 1
                                anchors.append(when)
                            elif not rr:
                                anchors[-1] = anchors[-1] if anchors[-1] is not None else when
                            paused = False
                elif name in ("file_id", "session", "device_info") and name not in info:
                    info[name] = {f.name: f.value for f in frame.fields if f.value is not None}
    except fitdecode.FitError as exc:
        first = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: not a readable FIT file: {first}") from None
    meta = _meta(info)
    if not rr and dev.values:  # a Connect IQ app's RR field (no hrv messages)
        rr, seg, records = dev.seconds(meta), dev.segments, dev.records
    if "beat_intervals" in info.get("beat_messages", ()):
        meta["fit_messages"] = ", ".join(sorted(info["beat_messages"]))
    if not rr:
        raise InputError(
            f"{path}: FIT file without hrv or beat_intervals messages (record {number}): "
            "heart rate records "
            "only, no RR intervals: HRV needs beat-to-beat data (turn on HRV logging on the "
            "device)"
        )
    rr_s = np.asarray(rr, dtype=np.float64)
    segment_arr = np.asarray(seg, dtype=np.int64)
    start = meta.get("started_wall_s")
    t_s = _beat_times(rr_s, segment_arr, anchors, start)
    return Parsed(rr_s, records, meta, "s", t_s, segment_arr)


class _DeveloperRR:
    """RR in a developer field of ``record`` messages (Connect IQ apps such as an "HRV RR
    interval recorder" write one named ``RR``): the values, their unit from the field's units
    or else from the values (:func:`~biofeedback.sessions.formats_rr.guess_unit`)."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.segments: list[int] = []
        self.records: list[int] = []
        self.field = ""
        self.units = ""

    def seconds(self, meta: dict[str, Any]) -> list[float]:
        values = np.asarray(self.values, dtype=np.float64)
        unit = {"ms": "ms", "s": "s"}.get(self.units.strip().lower()) or guess_unit(values)
        meta["fit_messages"] = f"record (developer field {self.field!r}, {unit})"
        scaled: list[float] = (values / 1000.0 if unit == "ms" else values).tolist()
        return scaled


def _developer_rr(frame: Any, dev: _DeveloperRR, segment: int, number: int) -> None:
    for field in frame.fields:
        name = re.sub(r"[^a-z]", "", str(field.name or "").lower())
        if name not in _RR_FIELD_NAMES or field.value is None:
            continue
        values = field.value if isinstance(field.value, tuple | list) else (field.value,)
        for value in values:
            if isinstance(value, int | float) and 0 < float(value) < 65535:
                dev.values.append(float(value))
                dev.segments.append(segment)
                dev.records.append(number)
        dev.field, dev.units = str(field.name), str(getattr(field, "units", "") or "")


def _event(frame: Any, info: dict[str, Any]) -> None:
    if (
        frame.get_value("event", fallback=None) == "timer"
        and "timer_start" not in info
        and frame.get_value("event_type", fallback=None) == "start"
    ):
        info["timer_start"] = _unix(frame.get_value("timestamp", fallback=None))


def _unix(value: object) -> float | None:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.timestamp()
    return None


def _meta(info: dict[str, Any]) -> dict[str, Any]:
    file_id = info.get("file_id", {})
    session = info.get("session", {})
    meta: dict[str, Any] = {"times": "cumulative RR from the activity start"}
    for start in (
        info.get("timer_start"),
        _unix(session.get("start_time")),
        _unix(file_id.get("time_created")),
    ):
        if start is not None:
            meta["started_wall_s"] = start
            break
    maker = file_id.get("manufacturer")
    product = file_id.get("garmin_product") or file_id.get("product_name") or file_id.get("product")
    device = " ".join(str(x) for x in (maker, product) if x is not None)
    if device:
        meta["device"] = device
    if session.get("sport") is not None:
        meta["sport"] = str(session["sport"])
    return meta


def _beat_times(
    rr_s: np.ndarray[Any, np.dtype[np.float64]],
    segment: np.ndarray[Any, np.dtype[np.int64]],
    anchors: list[float | None],
    start: float | None,
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Cumulative RR per segment; a segment after a pause starts at its restart (when the file
    says when), else right after the previous beat."""
    t = np.cumsum(rr_s)
    for s in range(1, int(segment[-1]) + 1):
        idx = np.flatnonzero(segment == s)
        anchor = anchors[s] if s < len(anchors) else None
        if anchor is not None and start is not None and idx.size:
            shift = (anchor - start) - (t[idx[0]] - rr_s[idx[0]])
            if shift > 0:
                t[idx[0] :] += shift
    return np.asarray(t, dtype=np.float64)
