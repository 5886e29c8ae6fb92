"""The headless stream: every event as a line (text or JSON), and a one-line summary."""

from __future__ import annotations

import enum
import json
from contextlib import aclosing
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from devices.events import (
    BatteryRead,
    Beat,
    Connected,
    Disconnected,
    MalformedPacket,
    MeasurementReceived,
    Reconnecting,
    RRUnit,
    StreamEvent,
    UnitCheck,
)
from devices.source import with_beats
from devices.timeline import BeatTimeline

if TYPE_CHECKING:
    from devices.source import HeartRateSource


@dataclass(slots=True)
class StreamSummary:
    """What a stream delivered; ``line()`` is what the user sees at the end."""

    beats: int = 0
    first_t_s: float | None = None
    last_t_s: float | None = None
    rr_sum_ms: float = 0.0
    continuity_segments: int = 0
    malformed_packets: int = 0
    implausible_beats: int = 0
    disconnects: int = 0
    unit: RRUnit = RRUnit.UNKNOWN
    hr_byte_last_bpm: int | None = None
    _segments_seen: set[int] = field(default_factory=set)

    def add(self, event: StreamEvent) -> None:
        if isinstance(event, Beat):
            self.beats += 1
            self.rr_sum_ms += event.rr_ms
            self.implausible_beats += int(event.implausible)
            self._segments_seen.add(event.segment)
            self.continuity_segments = len(self._segments_seen)
        elif isinstance(event, MeasurementReceived):
            self.hr_byte_last_bpm = event.measurement.heart_rate_bpm
        elif isinstance(event, MalformedPacket):
            self.malformed_packets += 1
        elif isinstance(event, Disconnected):
            self.disconnects += 1
        elif isinstance(event, UnitCheck):
            self.unit = event.verdict
        t_s = getattr(event, "t_s", None)
        if isinstance(t_s, float):
            self.first_t_s = t_s if self.first_t_s is None else self.first_t_s
            self.last_t_s = t_s

    @property
    def duration_s(self) -> float:
        if self.first_t_s is None or self.last_t_s is None:
            return 0.0
        return self.last_t_s - self.first_t_s

    @property
    def mean_hr_bpm(self) -> float | None:
        """Mean heart rate from RR (60000 / mean RR), not from the strap's smoothed HR byte."""
        return 60000 * self.beats / self.rr_sum_ms if self.rr_sum_ms > 0 else None

    def line(self) -> str:
        hr = f"{self.mean_hr_bpm:.1f} bpm" if self.mean_hr_bpm is not None else "n/a"
        return (
            f"summary: {self.beats} beats in {self.duration_s:.1f} s, mean HR {hr} (from RR), "
            f"{self.continuity_segments} continuity segment(s), {self.disconnects} disconnect(s), "
            f"{self.malformed_packets} malformed packet(s) skipped, "
            f"{self.implausible_beats} implausible RR flagged, RR unit {self.unit.value}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "beats": self.beats,
            "duration_s": self.duration_s,
            "mean_hr_bpm": self.mean_hr_bpm,
            "continuity_segments": self.continuity_segments,
            "disconnects": self.disconnects,
            "malformed_packets": self.malformed_packets,
            "implausible_beats": self.implausible_beats,
            "rr_unit": self.unit.value,
        }


def format_event(event: StreamEvent) -> str | None:
    """A human line for the events worth a line; ``None`` for the rest."""
    if isinstance(event, Beat):
        flag = "  IMPLAUSIBLE" if event.implausible else ""
        hr_bpm = 60000 / event.rr_ms if event.rr_ms > 0 else 0.0
        return (
            f"{event.t_s:10.3f} s  RR {event.rr_ms:7.1f} ms  "
            f"HR {hr_bpm:5.1f} bpm  seg {event.segment}{flag}"
        )
    if isinstance(event, Connected):
        return f"{event.t_s:10.3f} s  connected: {event.device.name} ({event.device.address})"
    if isinstance(event, Disconnected):
        detail = f": {event.detail}" if event.detail else ""
        return f"{event.t_s:10.3f} s  disconnected ({event.reason.value}{detail})"
    if isinstance(event, Reconnecting):
        return (
            f"{event.t_s:10.3f} s  reconnecting, attempt {event.attempt} in {event.delay_s:.1f} s"
        )
    if isinstance(event, MalformedPacket):
        return f"{event.t_s:10.3f} s  skipped {event.error}"
    if isinstance(event, BatteryRead):
        return f"{event.t_s:10.3f} s  battery {event.percent} %"
    if isinstance(event, UnitCheck):
        return (
            f"{event.t_s:10.3f} s  RR unit looks like {event.verdict.value} "
            f"({event.units_per_s:.1f} units/s over {event.span_s:.0f} s)"
        )
    return None


def event_to_json(event: StreamEvent) -> dict[str, Any]:
    doc: dict[str, Any] = {"event": type(event).__name__}
    for key, value in asdict(event).items():
        doc[key] = _jsonable(value)
    return doc


def _jsonable(value: object) -> object:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


async def run_stream(
    source: HeartRateSource,
    out: TextIO,
    *,
    duration_s: float | None = None,
    as_json: bool = False,
    timeline: BeatTimeline | None = None,
    summary: StreamSummary | None = None,
) -> StreamSummary:
    """Print the stream until the source ends or ``duration_s`` of source time has passed.

    ``summary`` is filled as the stream goes, so a caller still has it after a Ctrl-C.
    """
    summary = summary if summary is not None else StreamSummary()
    start: float | None = None
    async with aclosing(with_beats(source, timeline)) as events:
        async for event in events:
            t_s = getattr(event, "t_s", None)
            if isinstance(t_s, float):
                start = t_s if start is None else start
                if duration_s is not None and t_s - start > duration_s:
                    break
            summary.add(event)
            if as_json:
                out.write(json.dumps(event_to_json(event)) + "\n")
            else:
                line = format_event(event)
                if line is not None:
                    out.write(line + "\n")
            out.flush()
    return summary
