"""Read the sessions a comparison uses from the store: select by date or id, measure blocks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from biofeedback.analysis.blocks import SessionResponses, session_responses
from biofeedback.analysis.config import CompareSettings
from biofeedback.errors import InputError
from biofeedback.hrv.settings import HrvSettings
from biofeedback.sessions.bundle import SessionBundle
from biofeedback.sessions.store import SessionStore

if TYPE_CHECKING:
    from biofeedback.analysis.session_blocks import RecordedShapesOf


def parse_ids(text: str) -> list[int]:
    """Session ids from ``"3,5,8-10"``; raises :class:`InputError` naming the bad item.

    >>> parse_ids("3, 5,8-10")
    [3, 5, 8, 9, 10]
    """
    ids: list[int] = []
    for raw in text.split(","):
        item = raw.strip()
        first, sep, last = item.partition("-")
        try:
            lo = int(first)
            hi = int(last) if sep else lo
        except ValueError:
            raise InputError(f"--sessions: bad id {item!r} (expected e.g. 3,5,8-10)") from None
        if lo < 1 or hi < lo:
            raise InputError(f"--sessions: bad range {item!r}")
        ids.extend(range(lo, hi + 1))
    return ids


def parse_since(text: str) -> float:
    """Local midnight of ``YYYY-MM-DD`` as Unix time (s); raises :class:`InputError`."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--since: not a date {text!r} (expected YYYY-MM-DD)") from None
    return dt.datetime(day.year, day.month, day.day).timestamp()


def _spans(ids: list[int], most: int = 8) -> str:
    """Sorted ids as ranges, at most ``most`` of them, so the error stays one short line.

    >>> _spans([2, 3, 4, 5, 9]), _spans(list(range(1, 40, 2)), most=2)
    ('2-5, 9', '1, 3 (and 18 more)')
    """
    spans: list[str] = []
    start = prev = ids[0]
    for i in [*ids[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        spans.append(str(start) if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    more = f" (and {len(spans) - most} more)" if len(spans) > most else ""
    return ", ".join(spans[:most]) + more


def select_sessions(
    store: SessionStore, *, since_wall_s: float | None = None, ids: Sequence[int] | None = None
) -> list[int]:
    """Ids of the sessions to compare, oldest first; unknown ids raise :class:`InputError`."""
    summaries = store.list_sessions()
    known = {s.id for s in summaries}
    if ids is not None:
        missing = sorted(set(ids) - known)
        if missing:
            raise InputError(f"--sessions: no session {_spans(missing)} in the store")
    wanted = set(ids) if ids is not None else None
    # A session still being recorded has no settled blocks yet; stopped and interrupted
    # sessions count with their complete blocks only (see blocks.session_responses).
    chosen = [
        s for s in summaries if (wanted is None or s.id in wanted) and s.status != "recording"
    ]
    if since_wall_s is not None:
        chosen = [s for s in chosen if (s.started_wall_s or 0.0) >= since_wall_s]
    return [s.id for s in chosen]


def bundle_responses(
    bundle: SessionBundle,
    *,
    metrics: Collection[str],
    settings: CompareSettings | None = None,
    hrv: HrvSettings | None = None,
    shapes: RecordedShapesOf | None = None,
) -> SessionResponses:
    """Block responses of one stored or imported session; ``hrv`` ``None``: with the
    correction stored with it (:func:`~biofeedback.hrv.settings.stored_settings`); ``shapes``:
    its stored ECG's (:func:`~.session_blocks.recorded_shapes`) when the caller has them."""
    if hrv is None:
        from biofeedback.hrv.settings import stored_settings

        hrv = stored_settings(bundle.settings)
    from biofeedback.analysis.session_blocks import recorded_shapes

    beats = bundle.beats
    session_id = bundle.session.get("id")
    started = bundle.session.get("started_wall_s")
    return session_responses(
        beats["t_s"],
        beats["rr_ms"],
        beats["segment"],
        bundle.segments,
        bundle.markers,
        metrics=metrics,
        settings=settings,
        hrv=hrv,
        session_id=session_id if isinstance(session_id, int) else None,
        started_wall_s=float(started) if isinstance(started, int | float) else None,
        shape=(shapes or recorded_shapes(bundle)).shape,
    )


def load_responses(
    store: SessionStore,
    ids: Sequence[int],
    *,
    metrics: Collection[str],
    settings: CompareSettings | None = None,
    hrv: HrvSettings | None = None,
) -> list[SessionResponses]:
    """Block responses of each session in ``ids``: with ``hrv`` for all of them, or (``None``)
    each with the correction stored with it."""
    return [
        bundle_responses(store.load_bundle(i), metrics=metrics, settings=settings, hrv=hrv)
        for i in ids
    ]
