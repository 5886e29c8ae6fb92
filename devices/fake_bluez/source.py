"""``--simulate=ble``: the simulated strap served by the fake BlueZ and read back through bleak."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncGenerator, Callable, Iterable
from contextlib import aclosing
from dataclasses import replace
from typing import TYPE_CHECKING, Final

from devices.ble import BleStrapSource, ScannedDevice, scan
from devices.ble_pmd import BleH10Source
from devices.events import (
    DeviceInfo,
    Disconnected,
    MalformedPacket,
    MeasurementReceived,
    SourceEvent,
)
from devices.fake_bluez.pmd import PmdWaveforms
from devices.fake_bluez.runner import running
from devices.fake_bluez.strap import FakeStrapConfig
from devices.simulator import GroundTruth, SimConfig, SimEvent, SimulatedStrap
from devices.simulator.acc import AccConfig, simulate_acc
from devices.simulator.ecg import EcgConfig, simulate_ecg

if TYPE_CHECKING:
    from devices.source import WaveformEvent

DEFAULT_STRAP: Final = FakeStrapConfig()


class SimulatedBleSource:
    """A :class:`~devices.source.HeartRateSource` that runs the whole Bluetooth path.

    The private bus and the fake service start when :meth:`events` is iterated and stop with
    it. A finite simulation ends the stream once every notification sent has arrived.

    ``h10``: the fake strap is a Polar H10 with the PMD service streaming the simulated ECG and
    chest acceleration (:mod:`devices.simulator.ecg`, :mod:`devices.simulator.acc`), read back
    through :class:`~devices.ble_pmd.BleH10Source`; :meth:`waveforms` yields them. The
    waveforms need the whole session's truth first, so an H10 simulation must have an end.
    """

    def __init__(
        self,
        config: SimConfig,
        *,
        speed: float = 1.0,
        stall_timeout_s: float = 5.0,
        strap: FakeStrapConfig = DEFAULT_STRAP,
        h10: bool = False,
    ) -> None:
        if h10 and not math.isfinite(config.end_s):
            raise ValueError("a simulated H10 over the fake BlueZ needs a duration")
        self._strap = SimulatedStrap(config)
        self._h10 = h10
        self._waves: asyncio.Queue[WaveformEvent | None] = asyncio.Queue()
        self.pmd: PmdWaveforms | None = None
        """The ECG and ACC the fake H10 streams (ground truth), once :meth:`events` started."""
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
        script: Iterable[SimEvent] = self._strap.events()
        if self._h10:
            script = list(script)
            end_s = self._strap.config.end_s
            ecg = simulate_ecg(self._strap.truth, end_s, EcgConfig(seed=self._strap.config.seed))
            acc = simulate_acc(
                self._strap.truth, end_s, AccConfig(seed=self._strap.config.seed), ecg.motion_s
            )
            self.pmd = PmdWaveforms(ecg, acc)
        async with running(
            script, speed=self._speed, config=self._fake_config, pmd=self.pmd
        ) as fake:
            clock = _scaled_clock(self._speed)
            source: BleStrapSource | BleH10Source
            if self._h10:
                source = BleH10Source(
                    fake.address, clock=clock, stall_timeout_s=self._stall_timeout_s
                )
                pump = asyncio.ensure_future(self._pump_waves(source))
            else:
                source = BleStrapSource(
                    fake.address, stall_timeout_s=self._stall_timeout_s, clock=clock
                )
                pump = None
            arrived = 0
            try:
                async with aclosing(source.events()) as events:
                    async for event in events:
                        self._info = source.device
                        yield event
                        arrived += isinstance(event, MeasurementReceived | MalformedPacket)
                        if fake.done and (
                            arrived >= len(fake.sent) or isinstance(event, Disconnected)
                        ):
                            return
            finally:
                if pump is not None:
                    pump.cancel()
                self._waves.put_nowait(None)

    async def _pump_waves(self, source: BleH10Source) -> None:
        async with aclosing(source.waveforms()) as waves:
            async for event in waves:
                self._waves.put_nowait(event)

    async def waveforms(self) -> AsyncGenerator[WaveformEvent, None]:
        """The fake H10's ECG and ACC as read back over bleak (nothing without ``h10``): they
        end with :meth:`events`."""
        if not self._h10:
            return
        while (event := await self._waves.get()) is not None:
            yield event


def _scaled_clock(speed: float) -> Callable[[], float]:
    """Arrival stamps in simulated seconds from 0 (the source's start), so RR sums and arrival
    times share one time base, and that base is the session clock of a simulated session
    (``SessionClock(origin_s=0.0)``, as the in-process simulator's ``clock_offset_s=0``). It
    was ``time.monotonic()`` at the start plus scaled time: beats hours after the protocol's
    0-based segment times, and a settling segment thousands of seconds negative."""
    origin_s = time.monotonic()
    return lambda: (time.monotonic() - origin_s) * speed


async def scan_simulated(timeout_s: float = 1.0) -> list[ScannedDevice]:
    """``scan --simulate=ble``: a real bleak scan of the fake BlueZ (the strap and a neighbour)."""
    async with running([]):
        return await scan(timeout_s)
