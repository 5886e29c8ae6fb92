"""The Bluetooth Heart Rate Service wire format (GATT 0x2A37, 0x2A38, 0x2A19).

Pure functions: bytes in, frozen dataclasses out, and the reverse for the simulator.

Layout of a Heart Rate Measurement (little-endian; Bluetooth SIG HRS 1.0, FACTS.md §4.1)::

    flags:u8 | hr:u8 or u16 (bit0) | energy_kj:u16 (bit3) | rr:u16 * n (bit4), 1/1024 s each

Contact bits 1-2: 0b0x not supported, 0b10 supported but not detected, 0b11 detected.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import Final

from devices.errors import MalformedMeasurement, MalformedReason

HEART_RATE_SERVICE_UUID: Final = "0000180d-0000-1000-8000-00805f9b34fb"
HEART_RATE_MEASUREMENT_UUID: Final = "00002a37-0000-1000-8000-00805f9b34fb"
BODY_SENSOR_LOCATION_UUID: Final = "00002a38-0000-1000-8000-00805f9b34fb"
BATTERY_SERVICE_UUID: Final = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID: Final = "00002a19-0000-1000-8000-00805f9b34fb"

RR_UNITS_PER_S: Final = 1024
"""RR intervals are sent in 1/1024 s (spec); some devices send ms instead (FACTS.md §4.3)."""

ATT_PAYLOAD_BYTES: Final = 20
"""Payload of one notification at the default ATT MTU of 23."""

_FLAG_HR_UINT16: Final = 0x01
_FLAG_CONTACT_DETECTED: Final = 0x02
_FLAG_CONTACT_SUPPORTED: Final = 0x04
_FLAG_ENERGY: Final = 0x08
_FLAG_RR: Final = 0x10


class SensorContact(enum.Enum):
    """Sensor Contact Status (flags bits 1-2). "Not supported" is not contact loss."""

    NOT_SUPPORTED = "not supported"
    NOT_DETECTED = "not detected"
    DETECTED = "detected"


class BodySensorLocation(enum.IntEnum):
    """Body Sensor Location (0x2A38) values."""

    OTHER = 0
    CHEST = 1
    WRIST = 2
    FINGER = 3
    HAND = 4
    EAR_LOBE = 5
    FOOT = 6


def rr_raw_to_ms(raw: int) -> float:
    """Convert one RR in 1/1024 s to milliseconds, exactly (no rounding).

    >>> rr_raw_to_ms(1024), rr_raw_to_ms(340)
    (1000.0, 332.03125)
    """
    return raw * 1000 / RR_UNITS_PER_S


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    """One decoded 0x2A37 notification."""

    heart_rate_bpm: int
    contact: SensorContact
    energy_expended_kj: int | None
    rr_raw: tuple[int, ...]
    hr_uint16: bool = False
    """Whether the heart rate was sent as uint16 (kept so that encoding round-trips)."""

    @property
    def rr_ms(self) -> tuple[float, ...]:
        """RR intervals in ms, exactly ``raw * 1000 / 1024``."""
        return tuple(rr_raw_to_ms(r) for r in self.rr_raw)

    @property
    def max_rr_count(self) -> int:
        """How many RRs fit in one notification with these flags at the default MTU."""
        return max_rr_per_packet(
            hr_uint16=self.hr_uint16, energy=self.energy_expended_kj is not None
        )


def max_rr_per_packet(*, hr_uint16: bool, energy: bool) -> int:
    """RR capacity of a 20-byte payload: 9 (u8 HR), 8 (u8 HR + energy or u16 HR), 7 (both)."""
    header = 1 + (2 if hr_uint16 else 1) + (2 if energy else 0)
    return (ATT_PAYLOAD_BYTES - header) // 2


def _contact_from_flags(flags: int) -> SensorContact:
    if not flags & _FLAG_CONTACT_SUPPORTED:
        return SensorContact.NOT_SUPPORTED
    if flags & _FLAG_CONTACT_DETECTED:
        return SensorContact.DETECTED
    return SensorContact.NOT_DETECTED


def parse_measurement(data: bytes) -> HeartRateMeasurement:
    """Decode a Heart Rate Measurement payload.

    Every RR in the packet is read (never only the first). Reserved bits 5-7 are ignored, and so
    is an RR flag with no RR after it (harmless; the heart rate is still valid).
    Raises :class:`MalformedMeasurement` (a ``ValueError``) on anything that does not fit the
    layout; for an unpaired trailing byte the error's ``salvaged`` holds the complete part.

    >>> m = parse_measurement(bytes.fromhex("16 48 54 01 ec 02"))
    >>> m.heart_rate_bpm, m.contact.name, m.rr_ms
    (72, 'DETECTED', (332.03125, 730.46875))
    """
    data = bytes(data)
    if not data:
        raise MalformedMeasurement(MalformedReason.EMPTY, data)
    flags = data[0]
    hr_uint16 = bool(flags & _FLAG_HR_UINT16)
    offset = 1
    if hr_uint16:
        if len(data) < 3:
            raise MalformedMeasurement(MalformedReason.TRUNCATED_HEART_RATE, data)
        (heart_rate,) = struct.unpack_from("<H", data, offset)
        offset += 2
    else:
        if len(data) < 2:
            raise MalformedMeasurement(MalformedReason.TRUNCATED_HEART_RATE, data)
        heart_rate = data[offset]
        offset += 1
    energy: int | None = None
    if flags & _FLAG_ENERGY:
        if len(data) < offset + 2:
            raise MalformedMeasurement(MalformedReason.TRUNCATED_ENERGY, data)
        (energy,) = struct.unpack_from("<H", data, offset)
        offset += 2
    rest = data[offset:]
    if not flags & _FLAG_RR:
        if rest:
            raise MalformedMeasurement(MalformedReason.WRONG_LENGTH, data)
        return HeartRateMeasurement(heart_rate, _contact_from_flags(flags), energy, (), hr_uint16)
    n_rr = len(rest) // 2
    rr_raw = struct.unpack_from(f"<{n_rr}H", rest) if n_rr else ()
    measurement = HeartRateMeasurement(
        heart_rate, _contact_from_flags(flags), energy, tuple(rr_raw), hr_uint16
    )
    if len(rest) % 2:
        raise MalformedMeasurement(MalformedReason.UNPAIRED_RR_BYTE, data, salvaged=measurement)
    return measurement


def encode_measurement(m: HeartRateMeasurement) -> bytes:
    """Encode a measurement exactly as a strap would; ``parse_measurement`` inverts it.

    A uint8 heart rate above 255 is sent as uint16, as the Nordic reference firmware does.

    >>> encode_measurement(HeartRateMeasurement(60, SensorContact.DETECTED, None, (1041,))).hex()
    '163c1104'
    """
    hr_uint16 = m.hr_uint16 or m.heart_rate_bpm > 0xFF
    flags = _FLAG_HR_UINT16 if hr_uint16 else 0
    if m.contact is SensorContact.DETECTED:
        flags |= _FLAG_CONTACT_SUPPORTED | _FLAG_CONTACT_DETECTED
    elif m.contact is SensorContact.NOT_DETECTED:
        flags |= _FLAG_CONTACT_SUPPORTED
    if m.energy_expended_kj is not None:
        flags |= _FLAG_ENERGY
    if m.rr_raw:
        flags |= _FLAG_RR
    out = bytearray([flags])
    out += struct.pack("<H", m.heart_rate_bpm) if hr_uint16 else bytes([m.heart_rate_bpm])
    if m.energy_expended_kj is not None:
        out += struct.pack("<H", m.energy_expended_kj)
    out += struct.pack(f"<{len(m.rr_raw)}H", *m.rr_raw)
    return bytes(out)


def parse_body_sensor_location(data: bytes) -> BodySensorLocation | int:
    """Decode 0x2A38 (one uint8). Values the spec reserves come back as the plain int."""
    if len(data) != 1:
        raise MalformedMeasurement(MalformedReason.WRONG_LENGTH, bytes(data))
    try:
        return BodySensorLocation(data[0])
    except ValueError:
        return data[0]


def parse_battery_level(data: bytes) -> int:
    """Decode 0x2A19, a uint8 percentage 0-100."""
    if len(data) != 1:
        raise MalformedMeasurement(MalformedReason.WRONG_LENGTH, bytes(data))
    if data[0] > 100:
        raise MalformedMeasurement(MalformedReason.OUT_OF_RANGE, bytes(data))
    return data[0]
