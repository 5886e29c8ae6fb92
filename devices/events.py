"""Typed stream events shared by every source (simulator, BLE strap, replay).

A source yields *source events* (connection state, raw measurements, battery...). The
:class:`~devices.timeline.BeatTimeline` derives :class:`Beat` events from them. All times are
seconds on the source's monotonic clock (``time.monotonic()`` for a real strap, the simulated
clock for the simulator); ``wall_s`` is Unix time, for display and storage only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from devices.heart_rate import BodySensorLocation, HeartRateMeasurement


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What identifies a strap."""

    name: str
    address: str
    kind: str
    """``"simulated"``, ``"ble"`` or ``"replay"``."""


@dataclass(frozen=True, slots=True)
class Connected:
    t_s: float
    device: DeviceInfo


class DisconnectReason(enum.Enum):
    LINK_LOST = "link lost"
    STALLED = "no notification within the stall timeout"
    USER = "stopped by the user"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Disconnected:
    t_s: float
    reason: DisconnectReason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Reconnecting:
    """A reconnect attempt is scheduled ``delay_s`` from ``t_s``."""

    t_s: float
    attempt: int
    delay_s: float


@dataclass(frozen=True, slots=True)
class MeasurementReceived:
    """One 0x2A37 notification as it arrived: the bytes are kept for reprocessing."""

    t_s: float
    wall_s: float
    raw: bytes
    measurement: HeartRateMeasurement


@dataclass(frozen=True, slots=True)
class MalformedPacket:
    """A notification that could not be decoded; it is counted and skipped, never fatal."""

    t_s: float
    wall_s: float
    raw: bytes
    error: str
    salvaged: HeartRateMeasurement | None = None


@dataclass(frozen=True, slots=True)
class BatteryRead:
    t_s: float
    percent: int


@dataclass(frozen=True, slots=True)
class SensorLocationRead:
    t_s: float
    location: BodySensorLocation | int


@dataclass(frozen=True, slots=True)
class SignalStrength:
    t_s: float
    rssi_dbm: int


class RRUnit(enum.Enum):
    """What the RR field's unit looks like from the arrival clock (FACTS.md §4.3)."""

    UNKNOWN = "unknown"
    SPEC_1024 = "1/1024 s"
    MILLISECONDS = "ms"


@dataclass(frozen=True, slots=True)
class UnitCheck:
    """The RR-unit verdict, emitted whenever it changes.

    ``units_per_s`` is the regression slope of the cumulative raw RR sum against arrival time:
    about 1024 for a compliant strap, about 1000 for one that sends milliseconds.
    """

    t_s: float
    verdict: RRUnit
    units_per_s: float
    span_s: float


class BeatFlag(enum.IntFlag):
    """Per-beat quality flags set by the device layer (never by dropping the beat)."""

    NONE = 0
    IMPLAUSIBLE = 1
    """RR outside the physiological gate (250-2500 ms)."""
    SALVAGED = 2
    """From a malformed packet's complete part."""


@dataclass(frozen=True, slots=True)
class Beat:
    """One RR interval placed on the source clock.

    ``t_s`` is the time of the beat that *ends* the interval. Beats of one ``segment`` form an
    unbroken chain (each ``t_s`` is the previous plus its RR); nothing downstream may take a
    successive difference across segments.
    """

    t_s: float
    rr_ms: float
    rr_raw: int
    segment: int
    index: int
    flags: BeatFlag = BeatFlag.NONE

    @property
    def implausible(self) -> bool:
        return bool(self.flags & BeatFlag.IMPLAUSIBLE)


SourceEvent = (
    Connected
    | Disconnected
    | Reconnecting
    | MeasurementReceived
    | MalformedPacket
    | BatteryRead
    | SensorLocationRead
    | SignalStrength
)
StreamEvent = SourceEvent | Beat | UnitCheck
