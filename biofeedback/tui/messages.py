"""Messages the pipeline worker posts to the app: small, past tense, coalescing when frequent.

The worker folds each event into the :class:`~biofeedback.tui.model.DashboardModel` *before*
posting, so a message replaced in the queue by a newer one of its kind loses no data; it only
says "redraw". Alerts never coalesce: each becomes a notification.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from devices.events import Beat


@dataclass
class BeatReceived(Message):
    """A beat reached the model (a burst of them coalesces into the newest)."""

    beat: Beat

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BeatReceived)


@dataclass
class SnapshotUpdated(Message):
    """A new HRV snapshot reached the model (only the newest matters)."""

    t_s: float

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotUpdated)


@dataclass
class EcgReceived(Message):
    """An ECG frame reached the model (only the newest matters): the strip is redrawn at once,
    outside the monitor's throttled redraw (it is cheap, and a strip should not lag)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EcgReceived)


@dataclass
class StatusChanged(Message):
    """Device, protocol or recording state changed in the model."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StatusChanged)


@dataclass
class AlertRaised(Message):
    """Something to tell the user now (strap lost, player crashed, pipeline ended)."""

    text: str
    severity: str = "warning"


@dataclass
class RatingAsked(Message):
    """The protocol asks for the self-report on the block ``label`` (never coalesces)."""

    label: str
