"""A recorded session's parasympathetic trend, recomputed by the same live processor.

The sessions browser shows a past session as the dashboard showed it live: the beats are pushed
through :class:`~biofeedback.hrv.processor.HrvProcessor` with the baseline segment opening and
closing the baseline, and one value is kept every ``step_s`` of beat time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from biofeedback.sessions.bundle import SessionBundle
    from biofeedback.sessions.store import SessionStore, SessionSummary


@dataclass(slots=True)
class SessionTrend:
    """Series sampled every ``step_s``; ``None`` where the processor had no value."""

    t_s: list[float] = field(default_factory=list)
    relaxation: list[float | None] = field(default_factory=list)
    ln_rmssd: list[float | None] = field(default_factory=list)
    pns_index: list[float | None] = field(default_factory=list)


def session_trend(bundle: SessionBundle, step_s: float = 5.0) -> SessionTrend:
    # Imported here: the dashboard builds StoredSessions before its first frame.
    from biofeedback.hrv.processor import HrvProcessor
    from biofeedback.hrv.settings import LIVE_CORRECTIONS, HrvSettings, stored_settings
    from devices.events import Beat

    settings = stored_settings(bundle.settings)
    if settings.correction not in LIVE_CORRECTIONS:
        settings = HrvSettings()
    processor = HrvProcessor(settings)
    baselines = sorted(
        (float(s["start_s"]), float(s["end_s"]))
        for s in bundle.segments
        if s.get("kind") == "baseline" and s.get("end_s") is not None
    )
    trend = SessionTrend()
    in_baseline = False
    next_s = float("-inf")
    beats = bundle.beats
    for i, (t_s, rr_ms, segment) in enumerate(
        zip(beats["t_s"], beats["rr_ms"], beats["segment"], strict=True)
    ):
        inside = any(start <= t_s < end for start, end in baselines)
        if inside and not in_baseline:
            processor.begin_baseline()
        elif in_baseline and not inside:
            processor.end_baseline()
        in_baseline = inside
        snapshot = processor.push(Beat(float(t_s), float(rr_ms), 0, int(segment), i))
        if snapshot is None or snapshot.t_s < next_s:
            continue
        next_s = snapshot.t_s + step_s
        trend.t_s.append(snapshot.t_s)
        trend.relaxation.append(snapshot.relaxation_score.value)
        trend.ln_rmssd.append(snapshot.ln_rmssd.value)
        trend.pns_index.append(snapshot.pns_index.value)
    return trend


class StoredSessions:
    """The sessions browser's view of the store: list, load, and the recomputed trend."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    def list_sessions(self) -> list[SessionSummary]:
        return self.store.list_sessions()

    def load_bundle(self, session_id: int) -> SessionBundle:
        return self.store.load_bundle(session_id)

    def trend(self, bundle: SessionBundle) -> SessionTrend:
        return session_trend(bundle)
