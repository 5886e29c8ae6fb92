"""Starting and stopping the fake BlueZ world inside the running event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from typing import Final

from dbus_fast import BusType
from dbus_fast.aio import MessageBus

from devices.fake_bluez.bus import private_system_bus
from devices.fake_bluez.pmd import PmdWaveforms
from devices.fake_bluez.strap import FakeBluez, FakeStrapConfig
from devices.simulator import SimEvent

DEFAULT_CONFIG: Final = FakeStrapConfig()


@contextlib.asynccontextmanager
async def running(
    script: Iterable[SimEvent],
    *,
    speed: float = 1.0,
    config: FakeStrapConfig = DEFAULT_CONFIG,
    pmd: PmdWaveforms | None = None,
) -> AsyncIterator[FakeBluez]:
    """Start a private bus and the fake service in this event loop; restore everything after.

    ``pmd`` adds the Polar PMD service streaming those waveforms (an H10's raw ECG and ACC).
    Raises :class:`FakeBluezUnavailable` (a ``SourceError``) off Linux or without dbus-daemon.
    """
    with private_system_bus():
        bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
        try:
            fake = FakeBluez(bus, script, speed=speed, config=config, pmd=pmd)
            await fake.start()
            try:
                yield fake
            finally:
                await fake.stop()
                await _forget_bleak_manager()
        finally:
            bus.disconnect()
            with contextlib.suppress(EOFError, OSError):
                await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]


class _DropBusLostWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("D-Bus connection to BlueZ was lost")


async def _forget_bleak_manager() -> None:
    """Close bleak's per-loop BlueZ manager, which would outlive the private bus.

    bleak keeps one manager per event loop, with a bus connection and a watcher task that warns
    "D-Bus connection to BlueZ was lost" when the bus goes. Here the loss is intended, so that
    one warning is filtered while the manager is closed. There is no public API for this, hence
    the private attributes.
    """
    from bleak.backends.bluezdbus import manager as bluez_manager

    manager = bluez_manager._global_instances.pop(asyncio.get_running_loop(), None)
    if manager is None or manager._bus is None:
        return
    quiet = _DropBusLostWarning()
    bluez_manager.logger.addFilter(quiet)
    try:
        manager._bus.disconnect()
        with contextlib.suppress(EOFError, OSError):
            await manager._bus.wait_for_disconnect()  # type: ignore[no-untyped-call]
        if manager._bus_watcher_task is not None:
            await asyncio.wait({manager._bus_watcher_task})
    finally:
        bluez_manager.logger.removeFilter(quiet)
