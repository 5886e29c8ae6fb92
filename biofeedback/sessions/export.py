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
from typing import Final

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
        return json.dumps(bundle.to_json(), separators=(",", ":"), allow_nan=False) + "\n"
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
    """Shortest text that reads back as the same float.

    >>> _number(812.5), _number(1114.0)
    ('812.5', '1114')
    """
    return str(int(value)) if float(value).is_integer() else repr(float(value))
