"""The simulated radio: bytes, packet limits, latency, artifacts and determinism."""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
import pytest

from devices.errors import MalformedMeasurement
from devices.heart_rate import SensorContact, max_rr_per_packet, parse_measurement
from devices.simulator import (
    Artifact,
    ArtifactRates,
    GroundTruth,
    Person,
    Profile,
    SimConfig,
    SimEvent,
    SimLinkDown,
    SimLinkUp,
    SimPacket,
    SimulatedStrap,
)
from devices.simulator.packetizer import Packetizer


@cache
def run(config: SimConfig) -> tuple[list[SimEvent], GroundTruth]:
    strap = SimulatedStrap(config)
    events = list(strap.events())
    return events, strap.truth


def packets(events: list[SimEvent]) -> list[SimPacket]:
    return [e for e in events if isinstance(e, SimPacket)]


def decoded_rr(events: list[SimEvent]) -> np.ndarray:
    return np.array(
        [r for p in packets(events) for r in parse_measurement(p.data).rr_raw], dtype=np.int64
    )


def test_clean_packets_reproduce_the_true_beats_exactly() -> None:
    events, truth = run(SimConfig(seed=5, duration_s=900))
    assert all(isinstance(e, SimPacket) for e in events)
    rr = decoded_rr(events)
    assert np.array_equal(truth.sent_artifact, np.zeros_like(truth.sent_artifact))
    delivered = truth.delivered
    first = int(np.argmax(delivered))
    assert delivered[first:].all()
    start_s = truth.sent_t_s[first] - rr[0] / 1024
    beats_s = start_s + np.cumsum(rr) / 1024
    true_s = truth.t_s[truth.sent_true_index[first:]]
    assert np.abs(beats_s - true_s).max() <= 1 / 1024
    assert np.array_equal(beats_s, true_s)


def test_default_packets_look_like_a_polar_strap() -> None:
    events, truth = run(SimConfig(seed=5, duration_s=900))
    data = [p.data for p in packets(events)]
    assert [d[0] for d in data[:2]] == [0x06, 0x06]
    assert all(len(d) == 2 for d in data[:2])
    assert {d[0] for d in data[2:]} <= {0x16, 0x06}
    assert {len(d) for d in data[2:]} <= {2, 4, 6}
    gaps = np.diff([p.t_s for p in packets(events)])
    assert np.allclose(gaps, 1.0)
    hr_byte = np.array([d[1] for d in data])
    inst_bpm = 60000 / truth.rr_true_ms
    assert abs(np.mean(hr_byte) - np.mean(inst_bpm)) < 1.5
    assert np.std(np.diff(hr_byte)) < np.std(np.diff(inst_bpm))


def test_packet_index_of_each_beat_is_the_packet_that_carried_it() -> None:
    events, truth = run(SimConfig(seed=6, duration_s=300, latency_max_s=4.0))
    sim_packets = packets(events)
    assert np.array_equal(truth.packet_t_s, [p.t_s for p in sim_packets])
    for j in np.flatnonzero(truth.delivered)[:50]:
        carried = parse_measurement(sim_packets[truth.sent_packet_index[j]].data).rr_raw
        assert truth.sent_rr_raw[j] in carried


def overflow_config(*, uint16: bool, energy: bool) -> SimConfig:
    """About 0.7 RR per notification below the limit, so that bursts overflow now and then."""
    fast = Profile(person=Person(resting_hr_bpm=150.0, session_sd_hr_bpm=0.0))
    limit = max_rr_per_packet(hr_uint16=uint16, energy=energy)
    return SimConfig(
        seed=11,
        profile=fast,
        duration_s=600,
        notify_period_s=(limit - 0.7) * 0.4,
        hr_uint16=uint16,
        energy_expended=energy,
        latency_max_s=3.0,
    )


@pytest.mark.parametrize(("uint16", "energy"), itertools.product([False, True], repeat=2))
def test_packets_never_exceed_the_rr_limit_and_overflow_keeps_order(
    uint16: bool, energy: bool
) -> None:
    events, truth = run(overflow_config(uint16=uint16, energy=energy))
    limit = max_rr_per_packet(hr_uint16=uint16, energy=energy)
    decoded = [parse_measurement(p.data) for p in packets(events)]
    counts = np.array([len(m.rr_raw) for m in decoded])
    assert counts.max() == limit
    assert np.sum(counts == limit) > 5
    assert all(m.hr_uint16 == uint16 for m in decoded)
    assert all((m.energy_expended_kj is not None) == energy for m in decoded)
    delivered = truth.delivered
    first = int(np.argmax(delivered))
    # Every RR is delivered in order, except those still queued when the session ends.
    assert np.all(np.diff(delivered[first:].astype(int)) <= 0)
    assert np.sum(~delivered[first:]) <= 2 * limit
    assert np.array_equal(decoded_rr(events), truth.sent_rr_raw[delivered])


def test_energy_expended_grows_with_the_beats() -> None:
    events, _ = run(overflow_config(uint16=False, energy=True))
    energy_kj = [parse_measurement(p.data).energy_expended_kj for p in packets(events)]
    assert energy_kj == sorted(energy_kj)
    assert energy_kj[-1] == pytest.approx(0.077 * 150 * 10, rel=0.1)


def test_latency_delays_rrs_without_reordering() -> None:
    events, truth = run(SimConfig(seed=6, duration_s=1800, latency_max_s=4.0))
    delivered = truth.delivered
    delay_s = truth.packet_t_s[truth.sent_packet_index[delivered]] - truth.sent_t_s[delivered]
    assert delay_s.min() >= 0
    assert delay_s.max() <= 4.0 + 1.0
    assert delay_s.max() > 2.5
    assert np.all(np.diff(truth.sent_packet_index[delivered]) >= 0)
    assert np.array_equal(decoded_rr(events), truth.sent_rr_raw[delivered])


def test_same_seed_gives_identical_bytes_and_other_seeds_differ() -> None:
    config = SimConfig(
        seed=21,
        duration_s=1300,
        latency_max_s=3.0,
        artifacts=ArtifactRates(ectopic=0.02, malformed=0.05, disconnects_per_h=6),
    )
    first = list(SimulatedStrap(config).events())
    strap = SimulatedStrap(config)
    assert list(strap.events()) == first
    assert list(strap.events()) == first
    prefix = list(itertools.islice(SimulatedStrap(config).events(), 100))
    assert prefix == first[:100]
    other = list(SimulatedStrap(SimConfig(seed=22, duration_s=1300)).events())
    assert [p.data for p in packets(other)] != [p.data for p in packets(first)]


def test_events_end_at_the_duration_in_time_order() -> None:
    events, truth = run(SimConfig(seed=2, duration_s=1234.5, latency_max_s=2.0))
    times = [e.t_s for e in events]
    assert times == sorted(times)
    assert times[-1] < 1234.5
    assert truth.t_s[-1] < 1234.5


BEAT_RATES = ArtifactRates(ectopic=0.01, missed=0.008, extra=0.006)


def test_beat_artifact_counts_match_their_rates() -> None:
    _, truth = run(SimConfig(seed=8, duration_s=4 * 3600, artifacts=BEAT_RATES))
    n = len(truth.t_s)
    total = BEAT_RATES.ectopic + BEAT_RATES.missed + BEAT_RATES.extra
    for kind, p in ((Artifact.ECTOPIC, 0.01), (Artifact.MISSED, 0.008), (Artifact.EXTRA, 0.006)):
        # Beats right after an artifact draw none, hence the factor (1 - total).
        expected = n * p * (1 - total)
        count = int(np.sum(truth.artifact == kind))
        assert abs(count - expected) <= 3 * np.sqrt(expected * (1 - p))
        assert int(np.sum(truth.sent_artifact == kind)) == count


def test_beat_artifacts_have_their_textbook_shape() -> None:
    _, truth = run(SimConfig(seed=8, duration_s=4 * 3600, artifacts=BEAT_RATES))
    rr = truth.rr_sent_ms
    local = np.median(truth.rr_true_ms)
    ectopic = np.flatnonzero(truth.sent_artifact == Artifact.ECTOPIC)
    ectopic = ectopic[ectopic + 1 < len(rr)]
    assert np.all(rr[ectopic] < 0.85 * local * 1.2)
    assert np.all(rr[ectopic + 1] > rr[ectopic])
    missed = truth.sent_artifact == Artifact.MISSED
    assert np.median(rr[missed]) == pytest.approx(2 * local, rel=0.1)
    extra = np.flatnonzero(truth.sent_artifact == Artifact.EXTRA)
    assert np.all(truth.sent_true_index[extra] == -1)
    assert np.median(rr[extra]) == pytest.approx(0.5 * local, rel=0.15)
    assert len(truth.sent_t_s) == len(truth.t_s) + len(extra) - int(missed.sum())


EPISODE_RATES = ArtifactRates(contact_loss_per_h=8.0, disconnects_per_h=6.0, malformed=0.02)


def test_episode_and_malformed_counts_match_their_rates() -> None:
    hours = 6.0
    _, truth = run(SimConfig(seed=9, duration_s=hours * 3600, artifacts=EPISODE_RATES))
    for per_h, intervals in ((8.0, truth.contact_loss_s), (6.0, truth.outages_s)):
        expected = per_h * hours
        assert abs(len(intervals) - expected) <= 3 * np.sqrt(expected)
    good = int(np.sum(~truth.packet_malformed))
    bad = int(np.sum(truth.packet_malformed))
    assert abs(bad - 0.02 * good) <= 3 * np.sqrt(good * 0.02 * 0.98)


def test_malformed_packets_carry_no_good_beat() -> None:
    events, truth = run(SimConfig(seed=9, duration_s=6 * 3600, artifacts=EPISODE_RATES))
    sim_packets = packets(events)
    for p, bad in zip(sim_packets, truth.packet_malformed, strict=True):
        if bad:
            with pytest.raises(MalformedMeasurement) as info:
                parse_measurement(p.data)
            salvaged = info.value.salvaged
            assert salvaged is None or salvaged.rr_raw == ()
    good_rr = [
        r
        for p, bad in zip(sim_packets, truth.packet_malformed, strict=True)
        if not bad
        for r in parse_measurement(p.data).rr_raw
    ]
    assert np.array_equal(good_rr, truth.sent_rr_raw[truth.delivered])


def test_contact_loss_packets_say_so_and_carry_no_rr() -> None:
    events, truth = run(SimConfig(seed=9, duration_s=6 * 3600, artifacts=EPISODE_RATES))
    starts, ends = truth.contact_loss_s[:, 0], truth.contact_loss_s[:, 1]
    assert np.all((ends - starts >= 3.0) & (ends - starts <= 10.0))
    for p, bad in zip(packets(events), truth.packet_malformed, strict=True):
        i = np.searchsorted(starts, p.t_s, side="right") - 1
        if i >= 0 and p.t_s < ends[i] and not bad:
            m = parse_measurement(p.data)
            assert m.contact is SensorContact.NOT_DETECTED
            assert m.rr_raw == ()
    lost = truth.sent_artifact == Artifact.CONTACT_LOSS
    assert lost.any()
    assert not truth.delivered[lost].any()


def test_disconnects_are_short_outages_followed_by_startup_packets() -> None:
    config = SimConfig(seed=9, duration_s=6 * 3600, artifacts=EPISODE_RATES)
    events, truth = run(config)
    downs = [i for i, e in enumerate(events) if isinstance(e, SimLinkDown)]
    assert len(downs) == len(truth.outages_s)
    for i in downs:
        up = next(j for j in range(i + 1, len(events)) if not isinstance(events[j], SimPacket))
        assert isinstance(events[up], SimLinkUp)
        assert 2.0 <= events[up].t_s - events[i].t_s <= 8.0
        assert up == i + 1
        after = [e for e in events[up + 1 : up + 6] if isinstance(e, SimPacket)]
        good = [p for p in after if len(p.data) == 2 and p.data[0] in (0x04, 0x06)]
        assert len(good) >= config.startup_packets
        assert all(len(p.data) == 2 for p in after[: config.startup_packets])


def test_beats_during_an_outage_are_lost() -> None:
    _, truth = run(SimConfig(seed=9, duration_s=6 * 3600, artifacts=EPISODE_RATES))
    for down, up in truth.outages_s:
        during = (truth.sent_t_s >= down) & (truth.sent_t_s < up)
        assert during.any()
        assert not truth.delivered[during].any()


def test_packetizer_without_beats_sends_startup_then_heart_rate_only() -> None:
    config = SimConfig(energy_expended=True)
    empty_f, empty_i = np.empty(0), np.empty(0, dtype=np.int64)
    events, det, carriers = Packetizer(config, 61.4, 0.5).feed(
        empty_f, empty_i, empty_i, empty_f, 5.0, [], []
    )
    assert [p.data.hex() for p in packets(events)] == ["0e3d0000"] * 5
    assert len(det) == len(carriers) == 0
