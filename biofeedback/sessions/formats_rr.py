"""Readers for plain RR files: RR text (ms or s) and the Elite HRV export; text decoding and
the RR unit for every text format (CSV: :mod:`.formats_csv`).

Each returns the RR values in milliseconds with the file line each came from, and leaves the
checks common to every format (empty, negative, zero) to :func:`checked_rr_ms`.
"""

from __future__ import annotations

import codecs
import datetime as dt
import math
import re
from pathlib import Path
from typing import Any, Final

import numpy as np

from biofeedback.errors import InputError
from biofeedback.sessions.formats_types import FloatArray, Lines

SECONDS_MEDIAN_LIMIT: Final = 10.0
"""A file whose median value is below this is in seconds (no human RR is under 10 ms)."""
OFFSET_MIN_MS: Final = 2500.0
"""A first value above the physiological RR range (and far above the median) is an offset."""
OFFSET_MEDIAN_RATIO: Final = 5.0
ELITE_NAME: Final = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ _](\d{2})-(\d{2})-(\d{2})\.txt$")
"""Elite HRV names its exports ``YYYY-MM-DD HH-MM-SS.txt``; ``_`` for the space is accepted."""


def text_encoding(data: bytes) -> str | None:
    """The encoding of a text file's bytes, or None when they are not text.

    UTF-16 is recognised by its byte-order mark; otherwise any NUL byte means binary. Bytes
    that are not UTF-8 are Windows-1252 (a Latin-1 superset, what Kubios on Windows writes)
    when they hold no control characters other than tab, CR, LF and form feed.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in data:
        return None
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        if _CONTROL.search(data):
            return None
        return "cp1252"
    return "utf-8-sig"


_CONTROL: Final = re.compile(rb"[\x01-\x08\x0b\x0e-\x1f\x7f]")


def decode_text(path: Path, data: bytes, *, partial: bool = False) -> str:
    """Text from a file's bytes (UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252).

    ``partial``: ``data`` is the head of a file, which may end inside a character.
    """
    encoding = text_encoding(data)
    if encoding is None:
        what = "NUL bytes" if b"\x00" in data else "control characters, not UTF-8"
        raise InputError(f"{path}: binary data, not a text file ({what})")
    if encoding == "cp1252":
        # the five bytes cp1252 leaves undefined are read as Latin-1 (ISO-8859-1)
        text = data.decode("cp1252", errors="replace")
        if "\ufffd" in text:
            text = data.decode("latin-1")
        return text
    try:
        return codecs.getincrementaldecoder(encoding)().decode(data, final=not partial)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not valid {encoding} text (byte {exc.start})") from exc


def guess_unit(values: FloatArray) -> str:
    """``s`` or ``ms`` from the values alone: a median below 10 is seconds (no RR is 10 ms)."""
    finite = values[np.isfinite(values)]
    median = float(np.median(finite)) if finite.size else 0.0
    return "s" if 0 < median < SECONDS_MEDIAN_LIMIT else "ms"


def unit_of(values: FloatArray, declared: str | None) -> tuple[str | None, str | None]:
    """The unit a file's RR are in, and a note when its declared unit (a header's ``[ms]``, the
    format's own) is contradicted by the values: RR of 0.8 ms or 812 s are no heartbeats, so
    the values decide. ``declared`` None stays None (detected later)."""
    if declared is None:
        return None, None
    found = guess_unit(values)
    if found == declared:
        return declared, None
    return found, f"the file says {declared}, the values are in {found} (median)"


def to_ms(values: FloatArray, unit: str | None) -> tuple[FloatArray, str]:
    """Scale to ms; ``unit`` None detects it (:func:`guess_unit`)."""
    if unit is None:
        unit = guess_unit(values)
    if unit not in ("ms", "s"):
        raise InputError(f"unit must be 'ms' or 's', not {unit!r}")
    return (values * 1000.0 if unit == "s" else values), unit


def split_offset(
    rr_ms: FloatArray, first_is_offset: bool | None
) -> tuple[FloatArray, float | None]:
    """Detach a leading offset (time to the first beat), as in PhysioNet-derived RR files.

    ``None`` detects it: the first value is an offset when it exceeds 2500 ms (no plausible RR)
    and 5 times the median of the rest. ``True``/``False`` force the choice.

    >>> split_offset(np.array([225796.875, 695.3125, 710.9375, 702.0]), None)[1]
    225796.875
    """
    if first_is_offset is None:
        first_is_offset = (
            rr_ms.size > 2
            and rr_ms[0] > OFFSET_MIN_MS
            and rr_ms[0] > OFFSET_MEDIAN_RATIO * float(np.median(rr_ms[1:]))
        )
    if first_is_offset and rr_ms.size:
        return rr_ms[1:], float(rr_ms[0])
    return rr_ms, None


def read_rr_text(path: Path, text: str) -> tuple[FloatArray, Lines, dict[str, Any]]:
    """One number per line (``#`` comments and blank lines skipped); raw values, not scaled.

    A file of bare numbers (the common case, millions of lines) is parsed by numpy in one go;
    anything else, or any failure there, goes line by line, which names the bad line.
    """
    from biofeedback.sessions.formats_columns import decimal_comma

    meta: dict[str, Any] = {}
    if "," in text:  # plain RR files (millions of lines) pay nothing for this check
        body = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        if decimal_comma(body[:200]) and decimal_comma(body):
            text = text.replace(",", ".")
            meta["decimal_comma"] = True
    fast = _bare_numbers(text)
    values, lines = fast if fast is not None else _numbers_by_line(path, text)
    match = ELITE_NAME.match(path.name)
    if match and bool(np.all(np.isfinite(values) & (values == np.round(values)))):
        y, mo, d, h, mi, s = match.groups()
        meta["started_local"] = f"{y}-{mo}-{d}T{h}:{mi}:{s}"
    return values, lines, meta


def _bare_numbers(text: str) -> tuple[FloatArray, Lines] | None:
    """Every line one number, no comments, no blank lines: the values and their line numbers
    (1, 2, 3...), else None."""
    if "#" in text:
        return None
    tokens = text.split()
    n_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if len(tokens) != n_lines or len(text.splitlines()) != n_lines:
        return None
    try:
        values = np.array(tokens, dtype=np.float64)
    except ValueError:
        return None
    return values, np.arange(1, values.size + 1, dtype=np.int64)


MISSING: Final = frozenset({"nan", "na", "n/a", "null", "none", "-", "--", "?"})
"""Cell or line contents that mark a beat as missing (a dropped beat): read as NaN, a gap."""


def number(cell: str) -> float:
    """A number from a text cell: quotes and a trailing separator stripped, a :data:`MISSING`
    mark as NaN; ValueError otherwise."""
    try:
        value = float(cell)  # the common case, first
    except ValueError:
        pass
    else:
        return math.nan if math.isnan(value) else value
    item = cell.strip().strip("\"'").strip().rstrip(",;").strip()
    if item.lower() in MISSING:
        return math.nan
    value = float(item)
    if math.isnan(value):
        return math.nan
    return value


def is_number(text: str) -> bool:
    """One number or a missing-beat mark (``NaN``, ``NA``), as :func:`number` reads it."""
    try:
        number(text)
    except ValueError:
        return False
    return True


def _numbers_by_line(path: Path, text: str) -> tuple[FloatArray, Lines]:
    values: list[float] = []
    lines: list[int] = []
    for number_, line in enumerate(text.splitlines(), start=1):
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        try:
            values.append(number(item))
        except ValueError:
            raise InputError(
                f"{path}: line {number_}: expected one RR value per line, got {item[:40]!r}"
            ) from None
        lines.append(number_)
    return np.asarray(values, dtype=np.float64), lines


def is_elite_hrv(path: Path) -> bool:
    return ELITE_NAME.match(path.name) is not None


def parse_iso(text: str) -> float:
    """Unix time of an ISO 8601 time (also ``2024/01/15 08:00:00`` and the day-first
    ``15.01.2024 08:00:00``); one without a zone is taken in this computer's zone."""
    text = text.strip()
    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        day_first = _DAY_FIRST.match(text)
        if day_first:
            d, mo, y, rest = day_first.groups()
            text = f"{y}-{mo}-{d}{rest or ''}"
        elif _YEAR_SLASH.match(text):
            text = text[:10].replace("/", "-") + text[10:]
        else:
            raise
    return dt.datetime.fromisoformat(text).timestamp()


_DAY_FIRST: Final = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})([ T].*)?$")
_YEAR_SLASH: Final = re.compile(r"^\d{4}/\d{2}/\d{2}")
