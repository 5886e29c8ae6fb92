"""The session summary: per segment, what the beats and the processor's snapshots said.

Only numbers the pipeline already has are summarised (mean HR from RR; means of the
processor's 60-s lnRMSSD and relaxation-score values, without the windows that reached into
irregular rhythm the live check confirmed later), each named with its unit and window,
and ``blocks``: each block's change from the baseline with its 95 % interval, as the
processor's block-so-far estimate gave it when the block ended
(:mod:`biofeedback.hrv.block_estimate`; the same records as ``show ID --json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from biofeedback.hrv.block_estimate import BlockEstimate, block_record
from biofeedback.hrv.block_text import block_cells
from biofeedback.live.messages import MarkerRecorded, SegmentEnded, SegmentStarted
from devices.events import Beat, Disconnected, DisconnectReason, MalformedPacket

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
    ln_rmssd: list[tuple[float, float]] = field(default_factory=list)
    """``(t_s, value)`` of each snapshot's 60-s lnRMSSD in the segment."""
    relaxation: list[tuple[float, float]] = field(default_factory=list)
    tingles: int = 0

    def withhold_after(self, t_s: float) -> None:
        """Drop the values of windows that reach past ``t_s`` (irregular rhythm found after
        the fact: they measured the rhythm, not vagal tone)."""
        self.ln_rmssd = [(t, v) for t, v in self.ln_rmssd if t <= t_s]
        self.relaxation = [(t, v) for t, v in self.relaxation if t <= t_s]

    def to_json(self) -> dict[str, Any]:
        def mean(values: list[tuple[float, float]]) -> float | None:
            return round(sum(v for _, v in values) / len(values), 3) if values else None

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
    _estimates: dict[float, BlockEstimate] = field(default_factory=dict)
    _running: BlockEstimate | None = None
    _irregular_since_s: float | None = None

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
            # The strap lost, not the stream closed on purpose at the end (the pipeline's
            # "strap lost" notice follows the same rule).
            if event.reason is not DisconnectReason.USER:
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

    def add_blocks(self, estimates: tuple[BlockEstimate, ...]) -> None:
        """The processor's final estimates of finished segments (keyed by their start)."""
        for estimate in estimates:
            self._estimates[estimate.start_s] = estimate

    def add_snapshot(self, snapshot: Snapshot) -> None:
        self.add_blocks(snapshot.blocks_done)
        if snapshot.block is not None and snapshot.block.start_s not in self._estimates:
            # a running segment's newest estimate; its final one replaces it
            self._running = snapshot.block
        since = snapshot.irregular_since_s
        if since is not None and since != self._irregular_since_s:
            # Irregular rhythm confirmed only now: the windows since its onset measured it.
            self._irregular_since_s = since
            for seg in self.segments:
                seg.withhold_after(since)
        if self._open is None:
            return
        if snapshot.ln_rmssd.value is not None:
            self._open.ln_rmssd.append((snapshot.t_s, snapshot.ln_rmssd.value))
        if snapshot.relaxation_score.value is not None:
            self._open.relaxation.append((snapshot.t_s, snapshot.relaxation_score.value))

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
            "blocks": self.blocks(),
        }

    def blocks(self) -> list[dict[str, Any]]:
        """One record per trigger block and washout of this session, in order."""
        out: list[dict[str, Any]] = []
        running = self._running
        for seg in self.segments:
            if seg.kind not in ("trigger", "washout"):
                continue
            estimate = self._estimates.get(seg.start_s)
            if estimate is None and running is not None and running.start_s == seg.start_s:
                estimate = running
            if estimate is None:
                record: dict[str, Any] = {
                    "label": seg.label,
                    "kind": seg.kind,
                    "start_s": seg.start_s,
                    "end_s": seg.end_s,
                    "metric": "ln_rmssd",
                    "change": None,
                    "low": None,
                    "high": None,
                    "n_beats": seg.beats,
                    "artifact_share": None,
                    "breathing_per_min": None,
                    "reason": "no beats analysed in this block",
                }
            else:
                record = block_record(estimate)
                record["end_s"] = seg.end_s
                record["hr_change_bpm"] = block_record(estimate, "hr_bpm")["change"]
                hr = block_record(estimate, "hr_bpm")
                record["hr_low_bpm"], record["hr_high_bpm"] = hr["low"], hr["high"]
            record["tingles"] = seg.tingles
            record["complete"] = seg.complete
            out.append(record)
        return out


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
    lines += block_lines(summary.get("blocks", []))
    lines.append("Not a medical device. lnRMSSD: ln(ms); relax z: lnRMSSD z-score vs baseline.")
    return lines


ONE_SESSION_CAN: Final = (
    "One session can say: how far each block's lnRMSSD and HR moved from this session's "
    "baseline, with a 95 % interval for that change (measurement error and serial correlation)."
)
ONE_SESSION_CANNOT: Final = (
    "It cannot say why: one session cannot tell a trigger from time in session (settling, "
    "drift, carry-over). Record more sessions to compare triggers: `biofeedback compare` "
    "(key c in the dashboard)."
)


def block_lines(blocks: list[dict[str, Any]]) -> list[str]:
    """The blocks' changes from baseline as text, with what one session can and cannot say."""
    if not blocks:
        return ["  no block after a baseline: nothing to compare"]
    lines = [
        "  change vs baseline (block after its first 45 s; 95 % interval):",
        f"  {'block':<20} {'kind':<8} {'ΔlnRMSSD ln(ms) [95 %]':<24} {'ΔHR bpm':>8} "
        f"{'breaths/min [95 %]':>18} {'corrected':>9} {'tingles':>7}",
    ]
    for block in blocks:
        ln, hr, breathing, share = block_cells(block)
        lines.append(
            f"  {block['label']:<20.20} {block['kind']:<8} {ln:<24} {hr:>8} {breathing:>18} "
            f"{share:>9} {block.get('tingles', 0):>7}"
        )
    lines += [ONE_SESSION_CAN, ONE_SESSION_CANNOT]
    return lines


def _fmt(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"
