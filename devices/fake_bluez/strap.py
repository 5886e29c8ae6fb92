"""The fake ``org.bluez`` service: one adapter, a simulated strap, a neighbour without 0x180D.

The strap plays a script of simulated events at ``speed`` times real time. Its clock starts at
the first subscription to 0x2A37 (a strap measures whether or not anyone listens, but starting
there makes "every beat arrives" testable). A packet is notified only while a client is
subscribed; otherwise it is lost, as over the air. A scripted link drop only means something
during a stream, so it waits until a client is subscribed and has received a packet: two drops
are then always two outages with data between them.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from dbus_fast.aio import MessageBus

from devices.fake_bluez.objects import (
    ADAPTER_PATH,
    Adapter,
    Characteristic,
    Device,
    Service,
    device_path,
)
from devices.fake_bluez.pmd import PmdPeripheral, PmdWaveforms
from devices.heart_rate import (
    BATTERY_LEVEL_UUID,
    BATTERY_SERVICE_UUID,
    BODY_SENSOR_LOCATION_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
)
from devices.pmd import PMD_CONTROL_POINT_UUID, PMD_DATA_UUID, PMD_SERVICE_UUID
from devices.simulator import SimEvent, SimLinkDown, SimLinkUp

BLUEZ_NAME: Final = "org.bluez"
ADVERTISING_INTERVAL_S: Final = 0.05
_NEIGHBOUR_UUIDS: Final = ["0000fee0-0000-1000-8000-00805f9b34fb"]


@dataclass(frozen=True, slots=True)
class FakeStrapConfig:
    """What the fake Bluetooth world contains."""

    address: str = "C0:FF:EE:00:00:01"
    name: str = "Polar H10 FAKE0001"
    battery_percent: int = 87
    sensor_location: int = 1
    rssi_dbm: int = -58
    neighbour: bool = True
    """A second device that advertises without the Heart Rate service (a scan must skip it)."""
    neighbour_address: str = "C0:FF:EE:00:00:02"
    powered: bool = True


@dataclass(frozen=True, slots=True)
class SentPacket:
    """A notification the fake put on the bus: when (``time.monotonic()``) and what."""

    sent_s: float
    t_s: float
    data: bytes


@dataclass
class _Counters:
    drops: int = 0
    sent: list[SentPacket] = field(default_factory=list)


class FakeBluez:
    """The service on a bus connection; fault injection and a record of what was sent."""

    def __init__(
        self,
        bus: MessageBus,
        script: Iterable[SimEvent],
        *,
        speed: float,
        config: FakeStrapConfig,
        pmd: PmdWaveforms | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.config = config
        self.address = config.address
        self.name = config.name
        self._bus = bus
        self._script = iter(script)
        self._speed = speed
        self._counters = _Counters()
        self._stalled = False
        self._streamed = False
        """Whether a packet went out since the latest subscription."""
        self._subscribed = asyncio.Event()
        self._discovering = asyncio.Event()
        self._done = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._origin_s: float | None = None
        self.adapter = Adapter(config.powered, self._on_discovering)
        uuids = [HEART_RATE_SERVICE_UUID, BATTERY_SERVICE_UUID]
        self.strap = Device(
            self.adapter,
            config.address,
            config.name,
            uuids + ([PMD_SERVICE_UUID] if pmd is not None else []),
            config.rssi_dbm,
        )
        self.pmd = None if pmd is None else PmdPeripheral(pmd, speed, self.sim_time_s)
        """The PMD service (an H10's raw ECG and ACC); ``None`` for a strap without it."""
        self.neighbour = Device(
            self.adapter, config.neighbour_address, "Kitchen Speaker", _NEIGHBOUR_UUIDS, -70
        )
        self._measurement = self._build_gatt()

    @property
    def sent(self) -> list[SentPacket]:
        """Every notification actually sent, in order."""
        return self._counters.sent

    @property
    def drops(self) -> int:
        """Scripted link drops played so far (each one while a client was subscribed)."""
        return self._counters.drops

    @property
    def done(self) -> bool:
        """Whether the whole script has been played."""
        return self._done.is_set()

    async def wait_done(self) -> None:
        await self._done.wait()

    def stall(self) -> None:
        """Keep the link up but stop notifying, as a hung ``bluetoothd`` does."""
        self._stalled = True

    def resume(self) -> None:
        self._stalled = False

    def fail_connect(self, error: tuple[str, str] | None) -> None:
        """Make ``Connect`` raise this D-Bus error ``(name, message)``; ``None`` to stop."""
        self.strap.connect_error = error

    def set_powered(self, powered: bool) -> None:
        self.adapter.set_powered(powered)

    def inject(self, data: bytes) -> bool:
        """Notify ``data`` now, outside the script (e.g. a malformed payload)."""
        return self._send(-1.0, data)

    async def start(self) -> None:
        self._bus.export(ADAPTER_PATH, self.adapter)
        self._bus.export(device_path(self.strap.address), self.strap)
        if self.config.neighbour:
            self._bus.export(device_path(self.neighbour.address), self.neighbour)
        await self._bus.request_name(BLUEZ_NAME)
        self._tasks = [
            asyncio.create_task(self._play()),
            asyncio.create_task(self._advertise()),
        ]

    async def stop(self) -> None:
        if not self._tasks:
            return
        if self.pmd is not None:
            self.pmd.stop_all()
        for task in self._tasks:
            task.cancel()
        await asyncio.wait(self._tasks)
        self._tasks = []

    def _build_gatt(self) -> Characteristic:
        dev = device_path(self.strap.address)
        hr_path, battery_path = f"{dev}/service000c", f"{dev}/service0013"
        measurement = Characteristic(
            self.strap,
            HEART_RATE_MEASUREMENT_UUID,
            hr_path,
            ["notify"],
            on_subscribed=self._on_subscribed,
        )
        location = Characteristic(
            self.strap,
            BODY_SENSOR_LOCATION_UUID,
            hr_path,
            ["read"],
            bytes([self.config.sensor_location]),
        )
        battery = Characteristic(
            self.strap,
            BATTERY_LEVEL_UUID,
            battery_path,
            ["read", "notify"],
            bytes([self.config.battery_percent]),
        )
        self._bus.export(hr_path, Service(HEART_RATE_SERVICE_UUID, dev))
        self._bus.export(battery_path, Service(BATTERY_SERVICE_UUID, dev))
        self._bus.export(f"{hr_path}/char000d", measurement)
        self._bus.export(f"{hr_path}/char0010", location)
        self._bus.export(f"{battery_path}/char0014", battery)
        self.strap.characteristics = [measurement, location, battery]
        if self.pmd is not None:
            self._build_pmd(dev)
        return measurement

    def _build_pmd(self, dev: str) -> None:
        assert self.pmd is not None
        pmd_path = f"{dev}/service0030"
        control = Characteristic(
            self.strap,
            PMD_CONTROL_POINT_UUID,
            pmd_path,
            ["read", "write", "indicate"],
            self.pmd.features,
            on_write=self._on_pmd_write,
        )
        data = Characteristic(
            self.strap,
            PMD_DATA_UUID,
            pmd_path,
            ["notify"],
            on_subscribed=self.pmd.on_data_subscribed,
        )
        self.pmd.control, self.pmd.data = control, data
        self._bus.export(pmd_path, Service(PMD_SERVICE_UUID, dev))
        self._bus.export(f"{pmd_path}/char0031", control)
        self._bus.export(f"{pmd_path}/char0034", data)
        self.strap.characteristics += [control, data]

    def _on_pmd_write(self, value: bytes) -> None:
        assert self.pmd is not None
        self._clock_origin()
        self.pmd.on_write(value)

    def _clock_origin(self) -> float:
        """Loop time of simulated time zero: the first HR subscription or PMD request."""
        if self._origin_s is None:
            self._origin_s = asyncio.get_running_loop().time()
        return self._origin_s

    def sim_time_s(self) -> float:
        """Simulated seconds since the clock origin (0 before it)."""
        if self._origin_s is None:
            return 0.0
        return (asyncio.get_running_loop().time() - self._origin_s) * self._speed

    def _on_subscribed(self, subscribed: bool) -> None:
        self._streamed = False
        if subscribed:
            self._subscribed.set()
        else:
            self._subscribed.clear()

    def _on_discovering(self, discovering: bool) -> None:
        if discovering:
            self._discovering.set()
            self._advertise_once(random.Random())
        else:
            self._discovering.clear()

    def _send(self, t_s: float, data: bytes) -> bool:
        if not self._measurement.notify(data):
            return False
        self._counters.sent.append(SentPacket(time.monotonic(), t_s, data))
        self._streamed = True
        return True

    async def _play(self) -> None:
        await self._subscribed.wait()
        loop = asyncio.get_running_loop()
        start_s = self._clock_origin()
        pending_drop = False
        for event in self._script:
            await asyncio.sleep(max(0.0, start_s + event.t_s / self._speed - loop.time()))
            if isinstance(event, SimLinkDown):
                if self._subscribed.is_set() and self._streamed:
                    self._drop()
                else:
                    held_s = loop.time()
                    await self._subscribed.wait()
                    start_s += loop.time() - held_s
                    pending_drop = True
            elif isinstance(event, SimLinkUp):
                if pending_drop:
                    self._drop()
                    pending_drop = False
                self.strap.link_up = True
            elif not self._stalled and self._send(event.t_s, event.data) and pending_drop:
                self._drop()
                pending_drop = False
        self._done.set()

    def _drop(self) -> None:
        self._counters.drops += 1
        self.strap.link_up = False
        self.strap.drop()

    def _advertise_once(self, rng: random.Random) -> None:
        devices = (self.strap, self.neighbour) if self.config.neighbour else (self.strap,)
        for device in devices:
            if device.link_up and not device.connected:
                device.advertise(device.rssi_dbm + rng.choice((-1, 1)))

    async def _advertise(self) -> None:
        rng = random.Random(0)
        while True:
            await self._discovering.wait()
            self._advertise_once(rng)
            await asyncio.sleep(ADVERTISING_INTERVAL_S)
