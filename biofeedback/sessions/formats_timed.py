"""Beat times and gaps from what a file gives: beat times, arrival times, or beat lists.

Three cases, each one rule (README, "Import formats"):

- **Beat times beside the RR** (Empatica E4 ``IBI.csv``, Polar Flow ``time RR``, HRVAS ``.ibi``,
  VU-AMS, HRV Logger ``since_start``): successive beat times differ by the RR, except across a
  gap, where beats were dropped. A gap is a difference that misses the RR by more than
  :data:`GAP_MIN_S` or :data:`GAP_REL` of the RR (a dropped beat adds a whole RR, rounding
  adds milliseconds). The beat after a gap starts a new continuity segment; its own RR is
  real (the device measured it) and is kept. Whether a row's time is the beat that *ends* its
  interval (E4, Polar) or the one that *starts* it (HRVAS) is decided by which fits better.
- **Arrival times** (Polar Sensor Logger's phone stamps, Garmin's companion CSV): stamps of
  when the phone received each RR, not beat times. Beats are the cumulative RR, re-anchored to
  the arrival clock only after a gap: the arrivals jump by more than :data:`ARRIVAL_GAP_S`
  beyond the RR (BLE delivers RRs up to 3-4 s late, so less is jitter, not a gap).
- **Beat lists** (Lifecard Holter: a time and a label per beat): RR is the difference of
  successive beat times; non-beats (noise marks) are dropped, and an interval that spans one
  and is too long to be a single beat (over :data:`SPAN_MAX_RATIO` × the median) is a gap.
"""

from __future__ import annotations

import re
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from biofeedback.hrv.chains import chain_starts
from biofeedback.sessions.formats_types import FloatArray, IntArray

GAP_MIN_S: Final = 0.15
GAP_REL: Final = 0.5
ARRIVAL_GAP_S: Final = 3.0
SPAN_MAX_RATIO: Final = 1.5
TIME_MS_RATIO: Final = 100.0
"""A time column whose steps are over 100 times the RR (in s) is in ms."""
_CLOCK: Final = re.compile(
    r"^\s*(\d{1,2})[:.](\d{2})[:.](\d{2})(?:[.,](\d+))?\s*"
    r"([AaPp]\.?\s?[Mm]\.?)?\s*$"
)

BoolArray = NDArray[np.bool_]


def segments_from_breaks(breaks: BoolArray) -> IntArray:
    """Segment numbers from a mask of "a gap before this beat" (the first is ignored)."""
    mask = np.asarray(breaks, dtype=bool).copy()
    if mask.size:
        mask[0] = False
    return np.cumsum(mask, dtype=np.int64)


def _misses(dt_s: FloatArray, rr_s: FloatArray) -> BoolArray:
    tol = np.maximum(GAP_MIN_S, GAP_REL * rr_s)
    return np.asarray(np.abs(dt_s - rr_s) > tol, dtype=np.bool_)


def alignment(t_s: FloatArray, rr_s: FloatArray) -> Literal["end", "start"]:
    """``end`` when a row's time is the beat ending its RR (``t[i] - t[i-1] == rr[i]``),
    ``start`` when it begins it (``t[i+1] - t[i] == rr[i]``): whichever fits more rows."""
    if t_s.size < 3:
        return "end"
    dt = np.diff(t_s)
    end, start = _misses(dt, rr_s[1:]), _misses(dt, rr_s[:-1])
    if int(start.sum()) != int(end.sum()):
        return "start" if start.sum() < end.sum() else "end"
    # as many gaps either way: the closer fit where both fit (rounding, not gaps, differs)
    both = ~(start | end)
    err_end = float(np.abs(dt - rr_s[1:])[both].sum())
    err_start = float(np.abs(dt - rr_s[:-1])[both].sum())
    return "start" if err_start < err_end else "end"


def beat_time_segments(t_s: FloatArray, rr_s: FloatArray) -> tuple[FloatArray, IntArray, str]:
    """Beat times (each the end of its RR), segments, and the alignment found."""
    align = alignment(t_s, rr_s)
    t_end = t_s + rr_s if align == "start" else t_s
    breaks = np.zeros(t_end.size, dtype=bool)
    if t_end.size > 1:
        breaks[1:] = _misses(np.diff(t_end), rr_s[1:])
    return t_end, segments_from_breaks(breaks), align


def arrival_segments(wall_s: FloatArray, rr_s: FloatArray) -> IntArray:
    """Segments where successive arrivals differ from the RR by more than :data:`ARRIVAL_GAP_S`."""
    breaks = np.zeros(wall_s.size, dtype=bool)
    if wall_s.size > 1:
        breaks[1:] = np.abs(np.diff(wall_s) - rr_s[1:]) > ARRIVAL_GAP_S
    return segments_from_breaks(breaks)


def arrival_times(
    wall_s: FloatArray, rr_s: FloatArray, segment: IntArray, *, start: float
) -> FloatArray:
    """Beat times (s from the wall time ``start``): cumulative RR within each segment, its
    first beat placed at its arrival."""
    cum = np.cumsum(rr_s)
    firsts = chain_starts(segment)
    offset = (wall_s[firsts] - start) - cum[firsts]
    counts = np.diff(np.r_[firsts, segment.size])
    return np.asarray(cum + np.repeat(offset, counts), dtype=np.float64)


def beats_from_list(
    t_s: FloatArray, is_beat: BoolArray
) -> tuple[FloatArray, FloatArray, IntArray, BoolArray]:
    """From beat times with a beat/non-beat mask: (rr_s, t_s, segment, kept) where ``kept``
    marks the rows whose beat ends an RR (the first beat, and a beat after a gap whose interval
    is not one beat long, only anchor the next)."""
    beats = np.flatnonzero(is_beat)
    bt = t_s[beats]
    if bt.size < 2:
        empty = np.zeros(0)
        return empty, empty, np.zeros(0, dtype=np.int64), np.zeros(t_s.size, dtype=bool)
    rr = np.diff(bt)
    spans_non_beat = np.diff(beats) > 1
    median = float(np.median(rr))
    bad = (spans_non_beat & (rr > SPAN_MAX_RATIO * median)) | (rr <= 0)
    # an interval that is not one beat long is dropped; the beat after it starts a segment
    keep = ~bad
    breaks = np.zeros(rr.size, dtype=bool)
    breaks[1:] = bad[:-1]
    segment = segments_from_breaks(breaks)[keep]
    segment = np.unique(segment, return_inverse=True)[1].astype(np.int64)
    kept_rows = np.zeros(t_s.size, dtype=bool)
    kept_rows[beats[1:][keep]] = True
    return rr[keep], bt[1:][keep], segment, kept_rows


def clock_seconds(text: str) -> float | None:
    """Seconds since midnight of a clock time (``08:00:01.602``, ``8:00:01,60 PM``, ``3.10.02
    a.m.``), None when ``text`` is not one.

    >>> clock_seconds("8:00:01,5 PM"), clock_seconds("00:01:02.250"), clock_seconds("812")
    (72001.5, 62.25, None)
    """
    match = _CLOCK.match(text)
    if match is None:
        return None
    h, mi, s, frac, ampm = match.groups()
    hour = int(h)
    if ampm:
        hour = hour % 12 + (12 if ampm[0] in "Pp" else 0)
    if hour > 23 or int(mi) > 59 or int(s) > 60:
        return None
    return hour * 3600 + int(mi) * 60 + int(s) + (float("0." + frac) if frac else 0.0)


def unwrap_days(seconds: FloatArray) -> FloatArray:
    """Clock times (s since midnight) made increasing across midnight: a step back of over
    12 h is the next day."""
    if seconds.size < 2:
        return seconds
    back = np.diff(seconds) < -43200.0
    return np.asarray(seconds + 86400.0 * np.r_[0, np.cumsum(back)], dtype=np.float64)


def elapsed_seconds(t: FloatArray, rr_s: FloatArray) -> tuple[FloatArray, str]:
    """An elapsed-time column in s, and the unit it was in: ms when its steps are over
    :data:`TIME_MS_RATIO` times the RR (in s)."""
    step = float(np.median(np.diff(t))) if t.size > 1 else 0.0
    median_rr = float(np.median(rr_s[np.isfinite(rr_s)])) if np.isfinite(rr_s).any() else 0.0
    if step > 0 and step / max(median_rr, 1e-9) > TIME_MS_RATIO:
        return t / 1000.0, "ms"
    return t, "s"


def drop_missing(
    values: FloatArray, t_s: FloatArray | None, segment: IntArray | None
) -> tuple[BoolArray, IntArray | None]:
    """Where a file marks a beat as missing (NaN: an empty or ``NaN`` cell, a device's dropped
    beat): the rows to keep, and the segments of the kept rows, a new one after each missing
    beat (no successive difference spans it). ``segment`` None and nothing missing: None."""
    missing = np.isnan(values)
    if t_s is not None:
        missing |= np.isnan(t_s)
    if not missing.any():
        return ~missing, segment
    keep = ~missing
    after = np.r_[False, missing[:-1]]
    base = np.zeros(values.size, dtype=np.int64) if segment is None else segment
    key = base * (values.size + 1) + np.cumsum(after)
    breaks = np.r_[False, np.diff(key[keep]) != 0]
    return keep, segments_from_breaks(breaks)


EPOCH_MIN_S: Final = 1e8
"""A time from 1973 on (after :func:`epoch_seconds`) is a Unix time; below, elapsed time."""


def epoch_seconds(value: float) -> float:
    """Unix time in s from an epoch in s, ms, µs or ns (told apart by magnitude)."""
    for above, scale in ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3)):
        if value > above:
            return value / scale
    return value
