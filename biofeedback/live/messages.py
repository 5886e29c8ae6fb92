"""What the live pipeline emits besides the device events: the contract the UI consumes.

The pipeline yields, in time order, every :mod:`devices.events` stream event (``Connected``,
``Disconnected``, ``Reconnecting``, ``BatteryRead``, ``SignalStrength``, ``Beat``,
``MalformedPacket``, ``UnitCheck``, ``MeasurementReceived``) and the events below. All ``t_s``
are on the source's monotonic clock, the same clock as the beats.

A strap with the PMD service (a Polar H10) also streams ECG and chest acceleration; the
pipeline passes them through the online ECG stage (:mod:`biofeedback.ecg.online`) and yields
:class:`EcgProcessed` per ECG frame and :class:`BreathingEstimated` every few seconds instead of
the raw sample events. A strap without PMD yields neither.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from devices.events import StreamEvent

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from biofeedback.ecg.labels import BeatClass
    from biofeedback.ecg.online import BreathEstimate, LiveBeat
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


@dataclass(frozen=True, slots=True)
class EcgProcessed:
    """One ECG frame through the online stage: its samples (for the strip) and the R-peaks
    that became final with it, labelled by shape (the UI draws these, it computes nothing)."""

    t_s: float
    """The newest sample's time."""
    samples_t_s: NDArray[np.float64]
    samples_uv: NDArray[np.int32]
    segment: int
    """PMD continuity segment: the strip breaks where it changes."""
    beats: tuple[LiveBeat, ...]
    label_counts: tuple[tuple[BeatClass, int], ...]
    """Beats per label since the stream began."""


@dataclass(frozen=True, slots=True)
class BreathingEstimated:
    """Breathing measured from the chest (ACC) and from R amplitudes (ECG-derived), beside the
    RSA estimate of the HRV snapshot; either is ``None`` until its window has data."""

    t_s: float
    chest: BreathEstimate | None
    edr: BreathEstimate | None


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
    | EcgProcessed
    | BreathingEstimated
)
