"""Bounds on what an imported file may hold, checked before (or while) it is read.

A file someone sent you must not be able to exhaust memory, hang the reader, or store a value
that breaks later commands (a start time of 1e300 s makes every ``sessions`` listing fail).
Each bound is a one-line :class:`~biofeedback.errors.InputError`. The numbers are far beyond a
real recording: a day of beats is about 100 000; a lifetime of daily sessions 20 million.
"""

from __future__ import annotations

import math
from typing import Any, Final

from biofeedback.errors import InputError

MAX_FILE_BYTES: Final = 512 * 2**20
"""An input file over 512 MiB is refused before it is read (but for the streamed format below)."""
MAX_STREAMED_BYTES: Final = 32 * 2**30
"""An Apple Health ``export.xml``, parsed in chunks without being held in memory, may be up to
32 GiB (exports of many years run to several)."""
MAX_LINES: Final = 10_000_000
"""Lines of a text format (and entries of an array): ten million beats is 100 days."""
MAX_BEATS: Final = MAX_LINES
MAX_PACKETS: Final = MAX_LINES
MAX_RECORDS: Final = 1_000_000
"""Markers or segments in one bundle."""
MAX_TEXT: Final = 1_000_000
"""Characters in one string of a bundle (a label, notes, a device name)."""
MAX_HEX: Final = 4096
"""Hex digits of one raw packet (a BLE notification is at most 512 bytes)."""
MAX_DEPTH: Final = 32
"""Nesting of JSON objects and lists (a bundle needs 4)."""
MAX_INT: Final = 2**63 - 1
"""SQLite's integer range; JSON allows any size."""
WALL_MIN_S: Final = 0.0
WALL_MAX_S: Final = 7_258_118_400.0
"""Wall times are between 1970-01-01 and 2200-01-01 (Unix seconds)."""
MAX_ABS_T_S: Final = 1e10
"""Session times (s from the start): 300 years either way; beyond is a unit mistake."""
MAX_RR_MS: Final = 1e6
"""An RR in a bundle; text formats refuse anything over 60 s already."""
MAX_SMALL_INT: Final = 2**31 - 1
"""Segments numbers, flags and raw RR units."""
MAX_WAVE_CHUNKS: Final = 1_000_000
"""Waveform chunks in one bundle (a week of 10-s ECG and ACC chunks is 121 000)."""
MAX_CHUNK_SAMPLES: Final = 1_000_000
"""Samples in one waveform chunk (a recorder writes 10 s: 1300 of ECG, 2000 of 200-Hz ACC)."""
MAX_CHUNK_BYTES: Final = 16 * 2**20
"""Encoded bytes of one chunk (a million 3-channel samples inflate to 12 MiB at most)."""
MAX_WAVE_VALUES: Final = 600_000_000
"""Sample values (samples x channels) in one bundle, checked before any chunk is inflated: a
week of 130-Hz ECG and 200-Hz 3-axis ACC is 441 million (2.4 GB once decoded, never at once)."""
MAX_FS_HZ: Final = 100_000.0
"""A waveform's sample rate (the H10's ECG is 130 Hz, its ACC at most 200 Hz)."""


def check_wall_s(value: float, where: str) -> float:
    """``value`` as a float if it is a plausible Unix time, else an InputError."""
    if not (math.isfinite(value) and WALL_MIN_S <= value <= WALL_MAX_S):
        raise InputError(f"{where}: {value:g} is not a Unix time between 1970 and 2200")
    return float(value)


def check_lines(data: bytes, where: str) -> None:
    lines = data.count(b"\n")
    if lines > MAX_LINES:
        raise InputError(f"{where}: {lines} lines is over the limit of {MAX_LINES}")


def check_count(n: int, limit: int, what: str, where: str) -> None:
    if n > limit:
        raise InputError(f"{where}: {n} {what} is over the limit of {limit}")


def check_tree(value: Any, where: str) -> None:
    """Refuse JSON nested deeper than :data:`MAX_DEPTH`, integers SQLite cannot hold,
    non-finite numbers and over-long strings, anywhere in ``value`` (without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
            for key in item:
                if len(key) > MAX_TEXT:
                    raise InputError(f"{where}: a key of {len(key)} characters")
        elif isinstance(item, list):
            children = item
        else:
            check_scalar(item, where)
            continue
        if depth >= MAX_DEPTH:
            raise InputError(f"{where}: nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children)


def check_scalar(item: object, where: str) -> None:
    if isinstance(item, bool) or item is None:
        return
    if isinstance(item, int):
        if not -MAX_INT - 1 <= item <= MAX_INT:
            raise InputError(f"{where}: integer out of range ({item.bit_length()} bits)")
    elif isinstance(item, float):
        if not math.isfinite(item):
            raise InputError(f"{where}: number is not finite ({item})")
    elif isinstance(item, str) and len(item) > MAX_TEXT:
        raise InputError(f"{where}: a string of {len(item)} characters")
