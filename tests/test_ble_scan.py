"""Scanning and the typed start-up errors, through bleak against the fake BlueZ."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from devices.ble import (
    AdapterProblem,
    AdapterUnavailable,
    ConnectFailed,
    DeviceNotFound,
    ScannedDevice,
    scan,
)
from devices.errors import DeviceError, SourceError
from devices.events import Connected, Reconnecting, SourceEvent
from devices.fake_bluez import FakeBluezUnavailable, FakeStrapConfig, running
from devices.fake_bluez.bus import private_system_bus
from tests.ble_fixtures import collect, fast_source, simulated

STRAP = FakeStrapConfig()


def _one_line_with_advice(exc: DeviceError) -> str:
    message = str(exc)
    assert "\n" not in message
    assert ": " in message  # what happened, then what to do
    return message


async def test_scan_finds_the_strap_and_ignores_a_device_without_heart_rate() -> None:
    async with running(simulated(5)[0], speed=10) as fake:
        assert fake.config.neighbour
        found = await scan(0.3)
    assert found == [ScannedDevice(STRAP.name, STRAP.address, found[0].rssi_dbm)]
    assert -70 < found[0].rssi_dbm < -50


async def test_connect_by_name_substring_any_case() -> None:
    async with running(simulated(5)[0], speed=10) as fake:
        source = fast_source(fake)
        source.query = "h10 fake"
        events = await collect(source, lambda ev: isinstance(ev[-1], Connected))
    assert events[-1] == Connected(events[-1].t_s, events[-1].device)
    assert events[-1].device.address == STRAP.address


async def test_scan_with_bluetooth_off_is_a_typed_error() -> None:
    async with running([], config=FakeStrapConfig(powered=False)):
        with pytest.raises(AdapterUnavailable) as caught:
            await scan(0.1)
    assert caught.value.reason is AdapterProblem.POWERED_OFF
    assert "turn it on" in _one_line_with_advice(caught.value)


async def test_stream_with_bluetooth_off_is_a_typed_error() -> None:
    async with running([], config=FakeStrapConfig(powered=False)) as fake:
        with pytest.raises(AdapterUnavailable) as caught:
            await collect(fast_source(fake), lambda ev: False)
    assert caught.value.reason is AdapterProblem.POWERED_OFF


async def test_unknown_device_is_not_found() -> None:
    async with running(simulated(5)[0], speed=10) as fake:
        source = fast_source(fake, connect_timeout_s=0.3)
        source.query = "Wahoo TICKR"
        with pytest.raises(DeviceNotFound) as caught:
            await collect(source, lambda ev: False)
    assert caught.value.query == "Wahoo TICKR"
    assert "biofeedback scan" in _one_line_with_advice(caught.value)


async def test_a_device_without_heart_rate_is_never_connected() -> None:
    async with running(simulated(5)[0], speed=10) as fake:
        source = fast_source(fake, connect_timeout_s=0.3)
        source.query = STRAP.neighbour_address
        with pytest.raises(DeviceNotFound):
            await collect(source, lambda ev: False)
        assert fake.neighbour.connects == 0


async def test_dbus_error_from_connect_is_retried_then_typed() -> None:
    error = ("org.bluez.Error.Failed", "br-connection-page-timeout")
    async with running(simulated(5)[0], speed=10) as fake:
        fake.fail_connect(error)
        events: list[SourceEvent] = []

        async def consume() -> None:
            async for event in fast_source(fake, connect_attempts=3).events():
                events.append(event)

        with pytest.raises(ConnectFailed) as caught:
            await consume()
    assert [type(e) for e in events] == [Reconnecting, Reconnecting]
    assert caught.value.attempts == 3
    assert caught.value.address == STRAP.address
    assert "br-connection-page-timeout" in caught.value.detail
    assert isinstance(caught.value, SourceError)
    _one_line_with_advice(caught.value)


async def test_a_transient_connect_error_is_overcome() -> None:
    async with running(simulated(5)[0], speed=10) as fake:
        fake.fail_connect(("org.bluez.Error.Failed", "le-connection-abort-by-remote"))

        def clear_after_first_retry(events: list[object]) -> bool:
            if isinstance(events[-1], Reconnecting):
                fake.fail_connect(None)
            return isinstance(events[-1], Connected)

        events = await collect(fast_source(fake), clear_after_first_retry)
    assert [type(e) for e in events] == [Reconnecting, Connected]


def test_the_fake_refuses_other_platforms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(FakeBluezUnavailable, match="not Linux"), private_system_bus():
        pass


async def test_the_fake_restores_the_environment() -> None:
    before = {k: os.environ.get(k) for k in ("DBUS_SYSTEM_BUS_ADDRESS", "PATH")}
    async with running([]):
        assert os.environ["DBUS_SYSTEM_BUS_ADDRESS"] != before["DBUS_SYSTEM_BUS_ADDRESS"]
        assert shutil.which("bluetoothctl") is not None
    assert {k: os.environ.get(k) for k in before} == before
