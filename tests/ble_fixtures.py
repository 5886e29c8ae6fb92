"""Shared helpers for the BLE tests: a fast source against the fake BlueZ, event collection."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable, Sequence
from contextlib import aclosing

from devices.ble import BleStrapSource
from devices.ble_backoff import Backoff
from devices.events import MalformedPacket, MeasurementReceived, SourceEvent
from devices.fake_bluez import FakeBluez
from devices.simulator import SimConfig, SimEvent, SimLinkDown, SimLinkUp, SimPacket, SimulatedStrap

FAST_BACKOFF = Backoff(min_s=0.01, cap_s=0.05)
HANG_GUARD_S = 60.0
"""Only stops a broken test from hanging CI; no assertion depends on it."""


def simulated(duration_s: float, seed: int = 0) -> tuple[list[SimPacket], tuple[int, ...]]:
    """A clean simulated session's packets and every RR they carry, per the ground truth."""
    strap = SimulatedStrap(SimConfig(duration_s=duration_s, seed=seed))
    packets = [e for e in strap.events() if isinstance(e, SimPacket)]
    truth = strap.truth
    delivered = truth.sent_packet_index >= 0
    return packets, tuple(int(r) for r in truth.sent_rr_raw[delivered])


def fast_source(fake: FakeBluez, **overrides: object) -> BleStrapSource:
    options: dict[str, object] = {
        "stall_timeout_s": 2.0,
        "backoff": FAST_BACKOFF,
        "connect_timeout_s": 2.0,
        "rng": random.Random(7),
    }
    options.update(overrides)
    return BleStrapSource(fake.address, **options)  # type: ignore[arg-type]


async def collect(
    source: BleStrapSource, until: Callable[[list[SourceEvent]], bool]
) -> list[SourceEvent]:
    """Events from ``source`` until ``until(events)`` holds (checked after each event)."""
    events: list[SourceEvent] = []
    async with asyncio.timeout(HANG_GUARD_S), aclosing(source.events()) as stream:
        async for event in stream:
            events.append(event)
            if until(events):
                break
    return events


def all_sent_received(fake: FakeBluez) -> Callable[[list[SourceEvent]], bool]:
    def done(events: list[SourceEvent]) -> bool:
        received = sum(isinstance(e, MeasurementReceived | MalformedPacket) for e in events)
        return fake.done and received >= len(fake.sent)

    return done


def with_drops(
    packets: Iterable[SimPacket], outages: Sequence[tuple[float, float]]
) -> list[SimEvent]:
    """The packets with a ``SimLinkDown``/``SimLinkUp`` pair per ``(start_s, end_s)`` outage."""
    events: list[SimEvent] = list(packets)
    for start_s, end_s in outages:
        events += [SimLinkDown(start_s), SimLinkUp(end_s)]
    # Link events sort before a packet at the same instant: the packet then meets the new state.
    return sorted(events, key=lambda e: (e.t_s, isinstance(e, SimPacket)))


def measurements(events: Iterable[SourceEvent]) -> list[MeasurementReceived]:
    return [e for e in events if isinstance(e, MeasurementReceived)]
