"""Streaming through the real bleak stack against the fake BlueZ: completeness, order, clean-up."""

from __future__ import annotations

import asyncio
import os
from contextlib import aclosing

import pytest

from devices.ble import BleStrapSource
from devices.events import (
    BatteryRead,
    Connected,
    MalformedPacket,
    MeasurementReceived,
    SensorLocationRead,
    SignalStrength,
)
from devices.fake_bluez import FakeStrapConfig, SimulatedBleSource, running, scan_simulated
from devices.heart_rate import BodySensorLocation, parse_measurement
from devices.simulator import SimConfig, SimPacket
from tests.ble_fixtures import (
    HANG_GUARD_S,
    all_sent_received,
    collect,
    fast_source,
    measurements,
    simulated,
)

ORIGINAL_BUS = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")


@pytest.mark.slow  # ten simulated minutes over a real dbus-daemon at 300x
@pytest.mark.xdist_group("realtime-dbus")  # one at a time: each paces a fake strap on a real bus
async def test_ten_minutes_every_beat_exactly_once_in_order() -> None:
    packets, truth_rr = simulated(600, seed=1)
    async with running(packets, speed=300) as fake:
        events = await collect(fast_source(fake), all_sent_received(fake))
        sent = [p.data for p in fake.sent]
    received = measurements(events)
    assert [m.raw for m in received] == sent
    rr = [r for m in received for r in m.measurement.rr_raw]
    assert tuple(rr) == truth_rr
    assert len(rr) > 600
    times = [m.t_s for m in received]
    assert times == sorted(times)


async def test_connection_prelude_reports_device_battery_location_and_signal() -> None:
    async with running(simulated(30)[0], speed=50) as fake:
        events = await collect(fast_source(fake), lambda ev: len(ev) == 5)
    connected, signal, battery, location, first = events
    assert isinstance(connected, Connected)
    assert (connected.device.name, connected.device.kind) == (fake.name, "ble")
    assert isinstance(signal, SignalStrength)
    assert battery == BatteryRead(battery.t_s, fake.config.battery_percent)
    assert location == SensorLocationRead(location.t_s, BodySensorLocation.CHEST)
    assert isinstance(first, MeasurementReceived)


async def test_arrival_is_stamped_with_the_injected_clocks() -> None:
    ticks = iter(range(10_000))
    async with running(simulated(10)[0], speed=50) as fake:
        source = fast_source(fake, clock=lambda: float(next(ticks)), wall_clock=lambda: 1.7e9)
        events = await collect(source, lambda ev: len(measurements(ev)) == 3)
    stamps = [(m.t_s, m.wall_s) for m in measurements(events)]
    assert [w for _, w in stamps] == [1.7e9] * 3
    assert [t for t, _ in stamps] == sorted({t for t, _ in stamps})


async def test_malformed_notifications_are_counted_and_skipped_good_ones_kept() -> None:
    good, _ = simulated(60, seed=2)
    bad = [b"", b"\x16", bytes.fromhex("10 3e b1 03 de")]
    script = list(good)
    for k, data in enumerate(bad):
        t_s = good[10 + 15 * k].t_s + 0.5
        script.append(SimPacket(t_s, data))
    script.sort(key=lambda e: e.t_s)
    async with running(script, speed=100) as fake:
        source = fast_source(fake)
        events = await collect(source, all_sent_received(fake))
    malformed = [e for e in events if isinstance(e, MalformedPacket)]
    assert [e.raw for e in malformed] == bad
    assert source.malformed_count == 3
    assert malformed[2].salvaged == parse_measurement(bytes.fromhex("10 3e b1 03"))
    assert [m.raw for m in measurements(events)] == [p.data for p in good]


async def test_cancelling_the_consumer_stops_notify_and_disconnects() -> None:
    async with running(simulated(600)[0], speed=20) as fake:
        source = fast_source(fake)
        started = asyncio.Event()

        async def consume() -> None:
            async with aclosing(source.events()) as stream:
                async for event in stream:
                    if isinstance(event, MeasurementReceived):
                        started.set()

        task = asyncio.create_task(consume())
        await started.wait()
        task.cancel()
        _done, _ = await asyncio.wait({task})
        assert task.cancelled()
        measurement_char = fake.strap.characteristics[0]
        assert not measurement_char.notifying
        assert not fake.strap.connected
        assert fake.strap.connects == 1


async def test_breaking_out_early_cleans_up_at_once() -> None:
    async with running(simulated(600)[0], speed=20) as fake:
        source: BleStrapSource = fast_source(fake)
        await collect(source, lambda ev: len(measurements(ev)) == 2)
        assert not fake.strap.connected
        assert not fake.strap.characteristics[0].notifying


async def test_simulate_ble_source_streams_the_whole_simulation_then_ends() -> None:
    source = SimulatedBleSource(SimConfig(duration_s=120, seed=4), speed=100)
    assert source.device.kind == "ble"
    async with asyncio.timeout(HANG_GUARD_S), aclosing(source.events()) as stream:
        events = [event async for event in stream]
    truth = source.truth
    delivered = truth.sent_rr_raw[truth.sent_packet_index >= 0]
    rr = [r for m in measurements(events) for r in m.measurement.rr_raw]
    assert rr == [int(r) for r in delivered]
    assert isinstance(events[0], Connected)
    assert os.environ.get("DBUS_SYSTEM_BUS_ADDRESS") == ORIGINAL_BUS


async def test_scan_simulated_lists_only_the_strap() -> None:
    found = await scan_simulated(0.2)
    assert [d.address for d in found] == [FakeStrapConfig().address]
