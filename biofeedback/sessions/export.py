"""Export a stored session: the JSON bundle, a beats CSV, plain RR text, or Kubios RR text.

- ``json``: the session bundle (README "Data formats"); importing it back restores the session
  exactly (beats, raw packets, markers, segments, settings).
- ``csv``: ``t_s,rr_ms,segment,flags``, one beat per row.
- ``rr``: one RR in ms per line (shortest exact float text; integers without ``.0``).
- ``kubios``: one RR in **seconds** per line, 6 decimals (1 µs; the strap's own resolution is
  1/1024 s). Kubios HRV opens plain ASCII RR files in s or ms; seconds are unambiguous for
  it. Plain RR text cannot mark a continuity gap, so the series reads as unbroken there.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

from biofeedback.errors import InputError
from biofeedback.sessions.bundle import SessionBundle
from biofeedback.sessions.store import SessionStore

EXPORT_FORMATS: Final = ("json", "csv", "rr", "kubios")
CSV_HEADER: Final = "t_s,rr_ms,segment,flags"


def export_session(store: SessionStore, session_id: int, fmt: str) -> str:
    """The session ``session_id`` as text in ``fmt`` (one of :data:`EXPORT_FORMATS`)."""
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {fmt!r} (one of {', '.join(EXPORT_FORMATS)})")
    return export_bundle(store.load_bundle(session_id), fmt)


def export_bundle(bundle: SessionBundle, fmt: str) -> str:
    beats = bundle.beats
    if fmt == "json":
        doc = _finite(bundle.to_json())
        return json.dumps(doc, separators=(",", ":"), allow_nan=False) + "\n"
    if fmt == "csv":
        rows = zip(beats["t_s"], beats["rr_ms"], beats["segment"], beats["flags"], strict=True)
        body = [f"{_number(t)},{_number(rr)},{seg},{flags}" for t, rr, seg, flags in rows]
        return "\n".join([CSV_HEADER, *body]) + "\n"
    if fmt == "rr":
        return "".join(f"{_number(rr)}\n" for rr in beats["rr_ms"])
    if fmt == "kubios":
        return "".join(f"{rr / 1000.0:.6f}\n" for rr in beats["rr_ms"])
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
