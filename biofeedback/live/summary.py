"""The session summary: per segment, what the beats and the processor's snapshots said.

Only numbers the pipeline already has are summarised (mean HR from RR; means of the
processor's 60-s lnRMSSD and relaxation-score values), each named with its unit and window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from biofeedback.live.messages import MarkerRecorded, SegmentEnded, SegmentStarted
from devices.events import Beat, Disconnected, MalformedPacket

if TYPE_CHECKING:
    from biofeedback.hrv.processor import Snapshot


@dataclass(slots=True)
class _SegmentTally:
    label: str
    kind: str
    start_s: float
    end_s: float | None = None
    complete: bool | None = None
    beats: int = 0
    rr_sum_ms: float = 0.0
    ln_rmssd: list[float] = field(default_factory=list)
    relaxation: list[float] = field(default_factory=list)
    tingles: int = 0

    def to_json(self) -> dict[str, Any]:
        def mean(values: list[float]) -> float | None:
            return round(sum(values) / len(values), 3) if values else None

        return {
            "label": self.label,
            "kind": self.kind,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "complete": self.complete,
            "beats": self.beats,
            "mean_hr_bpm": round(60000 * self.beats / self.rr_sum_ms, 2)
            if self.rr_sum_ms
            else None,
            "mean_ln_rmssd_60s": mean(self.ln_rmssd),
            "mean_relaxation_score_60s": mean(self.relaxation),
            "tingles": self.tingles,
        }


@dataclass(slots=True)
class SessionTally:
    beats: int = 0
    rr_sum_ms: float = 0.0
    first_t_s: float | None = None
    last_t_s: float | None = None
    disconnects: int = 0
    malformed: int = 0
    segments: list[_SegmentTally] = field(default_factory=list)
    _open: _SegmentTally | None = None

    def add(self, event: object) -> None:
        if isinstance(event, Beat):
            self.beats += 1
            self.rr_sum_ms += event.rr_ms
            self.first_t_s = event.t_s if self.first_t_s is None else self.first_t_s
            self.last_t_s = event.t_s
            if self._open is not None:
                self._open.beats += 1
                self._open.rr_sum_ms += event.rr_ms
        elif isinstance(event, Disconnected):
            self.disconnects += 1
        elif isinstance(event, MalformedPacket):
            self.malformed += 1
        elif isinstance(event, SegmentStarted):
            self._open = _SegmentTally(event.label, event.kind.value, event.t_s)
            self.segments.append(self._open)
        elif isinstance(event, SegmentEnded) and self._open is not None:
            self._open.end_s = event.t_s
            self._open.complete = event.complete
            self._open = None
        elif isinstance(event, MarkerRecorded) and event.kind == "tingle" and self._open:
            self._open.tingles += 1

    def close_open(self, t_s: float) -> None:
        """The session ends at ``t_s`` inside a segment: it is closed there, incomplete."""
        if self._open is not None:
            self._open.end_s = t_s
            self._open.complete = False
            self._open = None

    def add_snapshot(self, snapshot: Snapshot) -> None:
        if self._open is None:
            return
        if snapshot.ln_rmssd.value is not None:
            self._open.ln_rmssd.append(snapshot.ln_rmssd.value)
        if snapshot.relaxation_score.value is not None:
            self._open.relaxation.append(snapshot.relaxation_score.value)

    def summary(self) -> dict[str, Any]:
        duration = (
            self.last_t_s - self.first_t_s
            if self.first_t_s is not None and self.last_t_s is not None
            else 0.0
        )
        return {
            "beats": self.beats,
            "duration_s": round(duration, 3),
            "mean_hr_bpm": round(60000 * self.beats / self.rr_sum_ms, 2)
            if self.rr_sum_ms
            else None,
            "disconnects": self.disconnects,
            "malformed_packets": self.malformed,
            "segments": [s.to_json() for s in self.segments],
        }


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The summary as text for a terminal."""
    hr = summary.get("mean_hr_bpm")
    lines = [
        f"session {summary.get('session_id', '-')}: {summary['status']}, "
        f"{summary['beats']} beats over {summary['duration_s']:.0f} s, "
        f"mean HR {hr if hr is not None else 'n/a'} bpm (from RR), "
        f"{summary['disconnects']} disconnect(s), "
        f"{summary['malformed_packets']} malformed packet(s)"
    ]
    lines.append(
        f"  {'segment':<20} {'kind':<9} {'dur s':>7} {'HR bpm':>7} "
        f"{'lnRMSSD 60s':>12} {'relax z 60s':>12} {'tingles':>7}"
    )
    for seg in summary["segments"]:
        dur = (seg["end_s"] - seg["start_s"]) if seg["end_s"] is not None else float("nan")
        lines.append(
            f"  {seg['label']:<20} {seg['kind']:<9} {dur:7.0f} "
            f"{_fmt(seg['mean_hr_bpm'], 1):>7} {_fmt(seg['mean_ln_rmssd_60s'], 2):>12} "
            f"{_fmt(seg['mean_relaxation_score_60s'], 2):>12} {seg['tingles']:>7}"
            + ("" if seg["complete"] in (True, None) else "  (incomplete)")
        )
    lines.append("Not a medical device. lnRMSSD: ln(ms); relax z: lnRMSSD z-score vs baseline.")
    return lines


def _fmt(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"
