"""The exception root of the device layer and its subclasses.

Every error a source raises derives from :class:`DeviceError`, so a caller can catch one type and
show ``str(exc)`` as a one-line message. Subclasses carry data, not only text.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devices.heart_rate import HeartRateMeasurement


class DeviceError(Exception):
    """Root of every error raised by :mod:`devices`."""


class MalformedReason(enum.Enum):
    """Why a Heart Rate Measurement payload could not be decoded."""

    EMPTY = "empty payload"
    TRUNCATED_HEART_RATE = "heart-rate field truncated"
    TRUNCATED_ENERGY = "energy-expended field truncated"
    UNPAIRED_RR_BYTE = "unpaired trailing byte in the RR-interval field"
    OUT_OF_RANGE = "value out of its specified range"
    WRONG_LENGTH = "wrong payload length"


class MalformedMeasurement(ValueError, DeviceError):
    """A payload that does not follow the GATT layout.

    ``salvaged`` holds what was decoded before the fault when that much is trustworthy: for an
    unpaired trailing byte, the heart rate and every complete RR before it (the odd byte is most
    likely half of an RR lost in transit, so a consumer must treat the packet as a possible lost
    beat). It is ``None`` when nothing could be decoded.
    """

    def __init__(
        self,
        reason: MalformedReason,
        data: bytes,
        salvaged: HeartRateMeasurement | None = None,
    ) -> None:
        self.reason = reason
        self.data = bytes(data)
        self.salvaged = salvaged
        super().__init__(f"malformed packet ({reason.value}): {self.data.hex(' ') or '<empty>'}")


class SourceError(DeviceError):
    """A source could not start or continue (device missing, adapter off, permission...)."""


class ProfileError(ValueError, DeviceError):
    """A simulator profile file is missing or invalid."""
