"""Rebuild beat times from notifications that carry no timestamps (FACTS.md §4.3).

A strap sends 0..n RR intervals about once a second, and they can be 3-4 s old, so arrival time
is never a beat time. Beat times are a cumulative sum of RR, anchored to the arrival clock at the
start of a *continuity segment*: the newest RR of the first packet is taken to end at that
packet's arrival. The absolute offset of a segment is therefore the (unobservable) delivery
latency of its first packet, at most a few seconds; within a segment, beat times are exact.

A segment ends, and the next beat is re-anchored to the arrival clock, on:
- a disconnect (including a stall, which a source reports as a disconnect);
- contact lost (contact bits 10b; "not supported" is not contact loss);
- a malformed packet whose complete RRs were salvaged (its lost half RR is a lost beat);
- a cumulative sum that falls behind the arrival clock by more than ``max_lag_s`` (beats were
  lost) or runs ahead of it by more than ``max_lead_s`` (a corrupt, impossibly long RR).

Implausible RRs (outside 250-2500 ms) are flagged on the beat, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from devices.events import (
    Beat,
    BeatFlag,
    Disconnected,
    MalformedPacket,
    MeasurementReceived,
    RRUnit,
    SourceEvent,
    UnitCheck,
)
from devices.heart_rate import RR_UNITS_PER_S, HeartRateMeasurement, SensorContact

RR_PLAUSIBLE_MIN_MS: Final = 250.0
RR_PLAUSIBLE_MAX_MS: Final = 2500.0
MAX_LAG_S: Final = 6.0
"""Beats older than this behind their packet's arrival mean beats were lost (latency is ≤ 4 s)."""
MAX_LEAD_S: Final = 6.0
UNIT_CHECK_MIN_SPAN_S: Final = 60.0
UNIT_TOLERANCE: Final = 0.0115
"""Relative slope tolerance: 1000 and 1024 units/s are 2.4 % apart, so each gets half of it."""


@dataclass(slots=True)
class _UnitFit:
    """Running least-squares fit of cumulative raw RR against arrival time, one segment."""

    t0_s: float = 0.0
    cum_raw: float = 0.0
    n: int = 0
    sum_t: float = 0.0
    sum_y: float = 0.0
    sum_tt: float = 0.0
    sum_ty: float = 0.0
    span_s: float = 0.0

    def add(self, t_s: float, raw_sum: int) -> None:
        if self.n == 0:
            self.t0_s = t_s
        self.cum_raw += raw_sum
        t = t_s - self.t0_s
        self.n += 1
        self.sum_t += t
        self.sum_y += self.cum_raw
        self.sum_tt += t * t
        self.sum_ty += t * self.cum_raw
        self.span_s = t

    def slope(self) -> float | None:
        den = self.n * self.sum_tt - self.sum_t**2
        if self.n < 3 or den <= 0:
            return None
        return (self.n * self.sum_ty - self.sum_t * self.sum_y) / den


def classify_units(units_per_s: float) -> RRUnit:
    """Name the RR unit from the raw-sum slope (units per second of arrival time).

    >>> classify_units(1023.0), classify_units(1001.0), classify_units(1012.0)
    (<RRUnit.SPEC_1024: '1/1024 s'>, <RRUnit.MILLISECONDS: 'ms'>, <RRUnit.UNKNOWN: 'unknown'>)
    """
    if abs(units_per_s / RR_UNITS_PER_S - 1) < UNIT_TOLERANCE:
        return RRUnit.SPEC_1024
    if abs(units_per_s / 1000 - 1) < UNIT_TOLERANCE:
        return RRUnit.MILLISECONDS
    return RRUnit.UNKNOWN


@dataclass(slots=True)
class TimelineStats:
    """Counters a user may want to see at the end of a stream."""

    beats: int = 0
    segments: int = 0
    malformed_packets: int = 0
    contact_lost_packets: int = 0
    implausible_beats: int = 0
    lag_breaks: int = 0


@dataclass(slots=True)
class BeatTimeline:
    """Turn source events into :class:`Beat` events (and :class:`UnitCheck` verdicts).

    Pure and synchronous: ``feed`` one event at a time, get the derived events back.
    """

    rr_unit: RRUnit = RRUnit.SPEC_1024
    """How to read the RR field: the spec's 1/1024 s, or ms for a device known to send them."""
    max_lag_s: float = MAX_LAG_S
    max_lead_s: float = MAX_LEAD_S
    stats: TimelineStats = field(default_factory=TimelineStats)
    _segment: int = -1
    _open: bool = False
    _last_t_s: float = 0.0
    _index: int = 0
    _fit: _UnitFit = field(default_factory=_UnitFit)
    _unit: RRUnit = RRUnit.UNKNOWN

    def break_segment(self) -> None:
        """End the current continuity segment; the next beat is re-anchored."""
        self._open = False
        self._fit = _UnitFit()

    def feed(self, event: SourceEvent) -> list[Beat | UnitCheck]:
        if isinstance(event, Disconnected):
            self.break_segment()
            return []
        if isinstance(event, MalformedPacket):
            self.stats.malformed_packets += 1
            if event.salvaged is None or not event.salvaged.rr_raw:
                return []
            out = self._place(event.t_s, event.salvaged, BeatFlag.SALVAGED)
            self.break_segment()
            return out
        if isinstance(event, MeasurementReceived):
            m = event.measurement
            if m.contact is SensorContact.NOT_DETECTED:
                self.stats.contact_lost_packets += 1
                self.break_segment()
                return []
            if not m.rr_raw:
                return []
            return self._place(event.t_s, m, BeatFlag.NONE)
        return []

    def _place(
        self, arrival_s: float, m: HeartRateMeasurement, extra: BeatFlag
    ) -> list[Beat | UnitCheck]:
        rr_ms = (
            tuple(float(r) for r in m.rr_raw) if self.rr_unit is RRUnit.MILLISECONDS else m.rr_ms
        )
        total_s = sum(rr_ms) / 1000
        if self._open:
            lag_s = arrival_s - (self._last_t_s + total_s)
            if lag_s > self.max_lag_s or lag_s < -self.max_lead_s:
                self.stats.lag_breaks += 1
                self.break_segment()
        if not self._open:
            self._segment += 1
            self._open = True
            self._index = 0
            self.stats.segments += 1
            self._last_t_s = arrival_s - total_s
        out: list[Beat | UnitCheck] = []
        for raw, ms in zip(m.rr_raw, rr_ms, strict=True):
            self._last_t_s += ms / 1000
            flags = extra
            if not RR_PLAUSIBLE_MIN_MS <= ms <= RR_PLAUSIBLE_MAX_MS:
                flags |= BeatFlag.IMPLAUSIBLE
                self.stats.implausible_beats += 1
            out.append(Beat(self._last_t_s, ms, raw, self._segment, self._index, flags))
            self._index += 1
        self.stats.beats += len(m.rr_raw)
        self._fit.add(arrival_s, sum(m.rr_raw))
        check = self._unit_check(arrival_s)
        if check is not None:
            out.append(check)
        return out

    def _unit_check(self, t_s: float) -> UnitCheck | None:
        if self._fit.span_s < UNIT_CHECK_MIN_SPAN_S:
            return None
        slope = self._fit.slope()
        if slope is None:
            return None
        verdict = classify_units(slope)
        if verdict is self._unit:
            return None
        self._unit = verdict
        return UnitCheck(t_s, verdict, slope, self._fit.span_s)

    @property
    def unit(self) -> RRUnit:
        """The latest RR-unit verdict (``UNKNOWN`` until a minute of data)."""
        return self._unit
