"""``--simulate=ble``: the simulated strap served by the fake BlueZ and read back through bleak."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import replace
from typing import Final

from devices.ble import BleStrapSource, ScannedDevice, scan
from devices.events import (
    DeviceInfo,
    Disconnected,
    MalformedPacket,
    MeasurementReceived,
    SourceEvent,
)
from devices.fake_bluez.runner import running
from devices.fake_bluez.strap import FakeStrapConfig
from devices.simulator import GroundTruth, SimConfig, SimulatedStrap

DEFAULT_STRAP: Final = FakeStrapConfig()


class SimulatedBleSource:
    """A :class:`~devices.source.HeartRateSource` that runs the whole Bluetooth path.

    The private bus and the fake service start when :meth:`events` is iterated and stop with
    it. A finite simulation ends the stream once every notification sent has arrived.
    """

    def __init__(
        self,
        config: SimConfig,
        *,
        speed: float = 1.0,
        stall_timeout_s: float = 5.0,
        strap: FakeStrapConfig = DEFAULT_STRAP,
    ) -> None:
        self._strap = SimulatedStrap(config)
        self._speed = speed
        self._stall_timeout_s = stall_timeout_s
        self._fake_config = replace(strap, battery_percent=config.battery_percent)
        self._info = DeviceInfo(strap.name, strap.address, "ble")

    @property
    def device(self) -> DeviceInfo:
        return self._info

    @property
    def truth(self) -> GroundTruth:
        """What the simulated strap generated so far."""
        return self._strap.truth

    async def events(self) -> AsyncGenerator[SourceEvent, None]:
        async with running(
            self._strap.events(), speed=self._speed, config=self._fake_config
        ) as fake:
            source = BleStrapSource(
                fake.address,
                stall_timeout_s=self._stall_timeout_s,
                clock=_scaled_clock(self._speed),
            )
            arrived = 0
            async with aclosing(source.events()) as events:
                async for event in events:
                    self._info = source.device
                    yield event
                    arrived += isinstance(event, MeasurementReceived | MalformedPacket)
                    if fake.done and (arrived >= len(fake.sent) or isinstance(event, Disconnected)):
                        return


def _scaled_clock(speed: float) -> Callable[[], float]:
    """Arrival stamps in simulated seconds, so RR sums and arrival times share one time base."""
    origin_s = time.monotonic()
    return lambda: origin_s + (time.monotonic() - origin_s) * speed


async def scan_simulated(timeout_s: float = 1.0) -> list[ScannedDevice]:
    """``scan --simulate=ble``: a real bleak scan of the fake BlueZ (the strap and a neighbour)."""
    async with running([]):
        return await scan(timeout_s)
