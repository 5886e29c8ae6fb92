"""Beat times rebuilt from timestamp-less notifications, continuity segments, unit check."""

from __future__ import annotations

import numpy as np

from devices.events import (
    Beat,
    BeatFlag,
    Disconnected,
    DisconnectReason,
    MalformedPacket,
    MeasurementReceived,
    RRUnit,
    UnitCheck,
)
from devices.heart_rate import HeartRateMeasurement, SensorContact, encode_measurement
from devices.timeline import BeatTimeline, classify_units


def packet(
    t_s: float, *rr_raw: int, contact: SensorContact = SensorContact.DETECTED
) -> MeasurementReceived:
    m = HeartRateMeasurement(60, contact, None, tuple(rr_raw))
    return MeasurementReceived(t_s, 1.7e9 + t_s, encode_measurement(m), m)


def beats_of(timeline: BeatTimeline, *events: object) -> list[Beat]:
    out: list[Beat] = []
    for e in events:
        out.extend(b for b in timeline.feed(e) if isinstance(b, Beat))  # type: ignore[arg-type]
    return out


def test_first_packet_anchors_newest_rr_at_arrival_then_cumulative_sum() -> None:
    tl = BeatTimeline()
    beats = beats_of(tl, packet(100.0, 1024, 512), packet(101.2, 1024))
    assert [b.t_s for b in beats] == [99.5, 100.0, 101.0]
    assert [b.rr_ms for b in beats] == [1000.0, 500.0, 1000.0]
    assert {b.segment for b in beats} == {0}
    assert [b.index for b in beats] == [0, 1, 2]


def test_disconnect_and_contact_loss_end_a_segment_but_not_supported_does_not() -> None:
    tl = BeatTimeline()
    a = beats_of(tl, packet(10.0, 1024), packet(11.0, 1024, contact=SensorContact.NOT_SUPPORTED))
    assert [b.segment for b in a] == [0, 0]
    b = beats_of(
        tl,
        Disconnected(11.5, DisconnectReason.LINK_LOST),
        packet(20.0, 1024),
        packet(21.0, 1024, contact=SensorContact.NOT_DETECTED),
        packet(22.0, 1024),
    )
    assert [x.segment for x in b] == [1, 2]
    assert b[0].t_s == 20.0  # re-anchored to the arrival clock after the gap
    assert tl.stats.contact_lost_packets == 1


def test_lost_beats_detected_from_lag_start_a_new_segment() -> None:
    tl = BeatTimeline()
    beats = beats_of(tl, packet(10.0, 1024), packet(11.0, 1024), packet(30.0, 1024))
    assert [b.segment for b in beats] == [0, 0, 1]
    assert beats[-1].t_s == 30.0
    assert tl.stats.lag_breaks == 1


def test_implausible_rr_is_flagged_not_dropped() -> None:
    tl = BeatTimeline()
    beats = beats_of(tl, packet(10.0, 1024, 28, 1000))
    assert len(beats) == 3
    assert [b.implausible for b in beats] == [False, True, False]
    assert beats[1].flags & BeatFlag.IMPLAUSIBLE


def test_corrupt_long_rr_cannot_push_the_clock_into_the_future() -> None:
    tl = BeatTimeline()
    beats = beats_of(tl, packet(10.0, 1024), packet(11.0, 65535), packet(12.0, 1024))
    # The packet holding the corrupt RR is re-anchored: it starts a segment of its own, so no
    # successive difference links the corrupt value to the beat before it.
    assert [b.segment for b in beats] == [0, 1, 1]
    assert beats[1].implausible
    assert [b.t_s for b in beats[1:]] == [11.0, 12.0]


def test_malformed_burst_loses_no_good_beat_and_salvage_breaks_continuity() -> None:
    tl = BeatTimeline()
    events: list[object] = [packet(float(t), 1024) for t in range(1, 6)]
    for k in range(5):
        events.append(MalformedPacket(5.1 + k * 0.1, 0.0, b"\x16", "truncated"))
    salvaged = HeartRateMeasurement(60, SensorContact.DETECTED, None, (1024,))
    events.append(MalformedPacket(6.0, 0.0, b"\x16\x3c\x00\x04\x01", "odd", salvaged))
    events += [packet(float(t), 1024) for t in range(7, 12)]
    beats = beats_of(tl, *events)
    assert len(beats) == 11
    assert [b.segment for b in beats] == [0] * 6 + [1] * 5
    assert beats[5].flags & BeatFlag.SALVAGED
    assert tl.stats.malformed_packets == 6


def _unit_verdict(units_per_s: float) -> list[UnitCheck]:
    """A strap at 60 bpm whose RR field counts ``units_per_s`` per second, jittered arrival."""
    rng = np.random.default_rng(3)
    tl = BeatTimeline()
    checks: list[UnitCheck] = []
    t = 0.0
    for _ in range(200):
        t += 1.0
        arrival = t + rng.uniform(0, 0.8)
        m = HeartRateMeasurement(60, SensorContact.DETECTED, None, (round(units_per_s),))
        ev = MeasurementReceived(arrival, arrival, encode_measurement(m), m)
        checks.extend(x for x in tl.feed(ev) if isinstance(x, UnitCheck))
    return checks


def test_unit_check_flags_a_strap_that_sends_milliseconds() -> None:
    checks = _unit_verdict(1000)
    assert checks
    assert checks[-1].verdict is RRUnit.MILLISECONDS
    assert checks[0].span_s >= 60


def test_unit_check_confirms_spec_units() -> None:
    checks = _unit_verdict(1024)
    assert [c.verdict for c in checks] == [RRUnit.SPEC_1024]


def test_classify_units_boundaries() -> None:
    assert classify_units(1024 * 1.01) is RRUnit.SPEC_1024
    assert classify_units(1000 * 0.99) is RRUnit.MILLISECONDS
    assert classify_units(1100) is RRUnit.UNKNOWN


def test_ms_override_reads_raw_as_milliseconds() -> None:
    tl = BeatTimeline(rr_unit=RRUnit.MILLISECONDS)
    beats = beats_of(tl, packet(10.0, 1000))
    assert beats[0].rr_ms == 1000.0
