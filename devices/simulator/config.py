"""What a simulated session is made of: the segment timeline, artifact rates and strap options."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from devices.simulator.profile import Profile

_LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9_ -]*$")


@dataclass(frozen=True, slots=True)
class Segment:
    """One block of the session timeline: ``"baseline"``, a trigger name, or ``"washout"``."""

    label: str
    duration_s: float


def parse_segments(spec: str) -> tuple[Segment, ...]:
    """Parse ``"label:seconds,label:seconds,..."``; raises ``ValueError`` naming the bad item.

    >>> parse_segments("baseline:300, whispering:120.5")
    (Segment(label='baseline', duration_s=300.0), Segment(label='whispering', duration_s=120.5))
    """
    segments: list[Segment] = []
    for raw in spec.split(","):
        item = raw.strip()
        label, sep, seconds = item.rpartition(":")
        label = label.strip()
        if not sep or not _LABEL.match(label):
            raise ValueError(f"bad segment {item!r}: expected label:seconds")
        try:
            duration_s = float(seconds)
        except ValueError:
            raise ValueError(f"bad segment {item!r}: {seconds.strip()!r} is not a number") from None
        if not math.isfinite(duration_s) or duration_s <= 0:
            raise ValueError(f"bad segment {item!r}: the duration must be positive")
        segments.append(Segment(label, duration_s))
    return tuple(segments)


@dataclass(frozen=True, slots=True)
class ArtifactRates:
    """How often each artifact happens.

    ``ectopic``, ``missed`` and ``extra`` are probabilities per beat; ``malformed`` per
    notification; contact-loss episodes and disconnects are Poisson events per hour.
    """

    ectopic: float = 0.0
    missed: float = 0.0
    extra: float = 0.0
    contact_loss_per_h: float = 0.0
    disconnects_per_h: float = 0.0
    malformed: float = 0.0

    def __post_init__(self) -> None:
        for name in ("ectopic", "missed", "extra", "malformed"):
            value = getattr(self, name)
            if not 0.0 <= value <= 0.3:
                raise ValueError(f"artifact rate {name}={value!r} must be in [0, 0.3]")
        if self.ectopic + self.missed + self.extra > 0.3:
            raise ValueError("the per-beat artifact rates must sum to at most 0.3")
        for name in ("contact_loss_per_h", "disconnects_per_h"):
            value = getattr(self, name)
            if not 0.0 <= value <= 600.0:
                raise ValueError(f"artifact rate {name}={value!r} must be in [0, 600]")


@dataclass(frozen=True, slots=True, kw_only=True)
class SimConfig:
    """Everything that determines a simulated session; the same config gives the same bytes.

    ``duration_s`` ``None`` means the length of the timeline, or endless with no segments; past
    the end of the timeline the person stays in the baseline state.
    """

    seed: int = 0
    profile: Profile = field(default_factory=Profile)
    session_index: int = 0
    """0-based index of this session in a series (habituation: ``habituation_per_session``)."""
    segments: tuple[Segment, ...] = ()
    duration_s: float | None = None
    artifacts: ArtifactRates = field(default_factory=ArtifactRates)
    latency_max_s: float = 0.0
    """RRs reach the radio 0..this many seconds after the beat (slowly varying, FACTS.md §4.3)."""
    hr_uint16: bool = False
    energy_expended: bool = False
    startup_packets: int = 2
    """Notifications without RR after each (re)connection, like the H7's first ``06 3c``."""
    contact_supported: bool = True
    notify_period_s: float = 1.0
    battery_percent: int = 87

    def __post_init__(self) -> None:
        if self.seed < 0 or self.session_index < 0:
            raise ValueError("seed and session_index must be non-negative")
        if self.duration_s is not None and not (
            math.isfinite(self.duration_s) and self.duration_s > 0
        ):
            raise ValueError("duration_s must be positive")
        if not 0.0 <= self.latency_max_s <= 10.0:
            raise ValueError("latency_max_s must be in [0, 10]")
        if not 0 <= self.startup_packets <= 30:
            raise ValueError("startup_packets must be in [0, 30]")
        if not 0.25 <= self.notify_period_s <= 5.0:
            raise ValueError("notify_period_s must be in [0.25, 5]")
        if not 0 <= self.battery_percent <= 100:
            raise ValueError("battery_percent must be in [0, 100]")

    @property
    def timeline_s(self) -> float:
        """Total length of the segments."""
        return math.fsum(s.duration_s for s in self.segments)

    @property
    def end_s(self) -> float:
        """When the session ends on the simulated clock (``inf`` for an endless stream)."""
        if self.duration_s is not None:
            return self.duration_s
        return self.timeline_s if self.segments else math.inf
