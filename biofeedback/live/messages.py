"""What the live pipeline emits besides the device events: the contract the UI consumes.

The pipeline yields, in time order, every :mod:`devices.events` stream event (``Connected``,
``Disconnected``, ``Reconnecting``, ``BatteryRead``, ``SignalStrength``, ``Beat``,
``MalformedPacket``, ``UnitCheck``, ``MeasurementReceived``) and the events below. All ``t_s``
are on the source's monotonic clock, the same clock as the beats.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from devices.events import StreamEvent

if TYPE_CHECKING:
    from biofeedback.hrv.processor import Snapshot


class SegmentKind(enum.Enum):
    SETTLING = "settling"
    BASELINE = "baseline"
    TRIGGER = "trigger"
    WASHOUT = "washout"
    RATING = "rating"


@dataclass(frozen=True, slots=True)
class SegmentStarted:
    t_s: float
    index: int
    label: str
    kind: SegmentKind
    planned_s: float | None
    """Planned duration; ``None`` means "until the media ends"."""
    media: str | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class SegmentEnded:
    t_s: float
    index: int
    label: str
    complete: bool
    """False when the block was cut short (player crashed, user skipped)."""
    played_s: float | None = None


@dataclass(frozen=True, slots=True)
class MarkerRecorded:
    """A protocol, playback or user event (``kind``: tingle, paused, resumed, seeked, rating...)."""

    t_s: float
    kind: str
    label: str = ""
    value: Any = None


@dataclass(frozen=True, slots=True)
class RatingRequested:
    """The protocol asks for the optional 0-10 self-report after a trigger block."""

    t_s: float
    label: str


@dataclass(frozen=True, slots=True)
class SnapshotComputed:
    """A new HRV snapshot from the processor (the UI never computes HRV itself)."""

    snapshot: Snapshot


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should be told (strap lost, player crashed); never fatal."""

    t_s: float
    message: str
    severity: str = "warning"


@dataclass(frozen=True, slots=True)
class RecordingChanged:
    t_s: float
    recording: bool
    session_id: int | None = None


@dataclass(frozen=True, slots=True)
class SessionFinished:
    t_s: float
    session_id: int | None
    summary: dict[str, Any] = field(default_factory=dict)


PipelineEvent = (
    StreamEvent
    | SegmentStarted
    | SegmentEnded
    | MarkerRecorded
    | RatingRequested
    | SnapshotComputed
    | Notice
    | RecordingChanged
    | SessionFinished
)
