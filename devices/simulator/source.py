"""The simulated strap as an asynchronous heart-rate source, in real time or as fast as possible."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncGenerator
from typing import Final

from devices.errors import MalformedMeasurement
from devices.events import (
    BatteryRead,
    Connected,
    DeviceInfo,
    Disconnected,
    DisconnectReason,
    MalformedPacket,
    MeasurementReceived,
    SourceEvent,
)
from devices.heart_rate import parse_measurement
from devices.simulator.packetizer import SimLinkDown, SimLinkUp, SimPacket
from devices.simulator.strap import SimulatedStrap

SIM_EPOCH_S: Final = 1_735_689_600.0
"""Wall clock of simulated time zero (2025-01-01T00:00:00Z), so that output is deterministic."""

_YIELD_EVERY: Final = 256

SIM_DEVICE: Final = DeviceInfo(
    name="Simulated strap", address="SIM:00:00:00:00:01", kind="simulated"
)


async def pace(
    speed: float | None, sim_t_s: float, start_real_s: float, n: int, yield_every: int
) -> None:
    """Sleep until simulated time ``sim_t_s`` is due at ``speed`` (simulated s per real s,
    counted from the monotonic ``start_real_s``); with ``speed=None`` no sleeping, but a pause
    every ``yield_every``-th event ``n``: without one a fast replay would starve other tasks."""
    if speed is None:
        if n % yield_every == 0:
            await asyncio.sleep(0)
        return
    delay_s = start_real_s + sim_t_s / speed - time.monotonic()
    if delay_s > 0:
        await asyncio.sleep(delay_s)


class SimulatedSource:
    """Yields the typed source events of a :class:`SimulatedStrap`.

    ``speed`` is simulated seconds per real second (``None``: no sleeping at all); the events
    are identical at every speed. Times are ``clock_offset_s`` plus simulated time.
    """

    device: DeviceInfo = SIM_DEVICE

    def __init__(
        self,
        strap: SimulatedStrap,
        *,
        speed: float | None = 1.0,
        clock_offset_s: float = 0.0,
    ) -> None:
        if speed is not None and not speed > 0:
            raise ValueError("speed must be positive (or None for as fast as possible)")
        self.strap = strap
        self.speed = speed
        self.clock_offset_s = clock_offset_s

    async def _wait_until(self, sim_t_s: float, start_real_s: float, n: int) -> None:
        await pace(self.speed, sim_t_s, start_real_s, n, _YIELD_EVERY)

    async def events(self) -> AsyncGenerator[SourceEvent, None]:
        """``Connected`` and ``BatteryRead`` first, then measurements and link changes, and a
        final ``Disconnected`` at the simulation's end time."""
        offset_s = self.clock_offset_s
        start_real_s = time.monotonic()
        yield Connected(offset_s, self.device)
        yield BatteryRead(offset_s, self.strap.config.battery_percent)
        for n, event in enumerate(self.strap.events(), start=1):
            await self._wait_until(event.t_s, start_real_s, n)
            t_s = offset_s + event.t_s
            wall_s = SIM_EPOCH_S + event.t_s
            if isinstance(event, SimPacket):
                try:
                    measurement = parse_measurement(event.data)
                except MalformedMeasurement as exc:
                    yield MalformedPacket(t_s, wall_s, event.data, str(exc), exc.salvaged)
                else:
                    yield MeasurementReceived(t_s, wall_s, event.data, measurement)
            elif isinstance(event, SimLinkDown):
                yield Disconnected(t_s, DisconnectReason.LINK_LOST, "simulated link loss")
            elif isinstance(event, SimLinkUp):
                yield Connected(t_s, self.device)
        end_s = self.strap.config.end_s
        if math.isfinite(end_s):
            # The session ends at its planned time, not at the last notification before it.
            await self._wait_until(end_s, start_real_s, 0)
            yield Disconnected(offset_s + end_s, DisconnectReason.USER, "end of the simulation")
