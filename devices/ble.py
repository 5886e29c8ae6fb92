"""A real heart-rate strap over Bluetooth LE (bleak), as a stream of typed source events.

The source finds the strap by address or name, subscribes to the Heart Rate Measurement (0x2A37),
and stamps every notification with the monotonic and wall clocks *at arrival* (in bleak's
callback, before any queueing). It survives the link: a disconnect, or a silent stall (bleak does
not notice a dead ``bluetoothd``, so no notification for ``stall_timeout_s`` counts as one), is
reported as :class:`~devices.events.Disconnected` and followed by reconnect attempts (after a
dropped link the first one at once) paced by a bounded, jittered backoff, forever, until the
consumer stops iterating. A cancellation is never retried: it ends the stream, stops
notifications and disconnects.

Iterate it with :func:`contextlib.aclosing` so that stopping early cleans up at once::

    async with aclosing(BleStrapSource("Polar H10").events()) as events:
        async for event in events:
            ...
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Final, TypeVar

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError

from devices.ble_backoff import Backoff
from devices.ble_errors import AdapterProblem, AdapterUnavailable, ConnectFailed, DeviceNotFound
from devices.ble_scan import ScannedDevice, find_strap, is_address, scan, translated_errors
from devices.errors import MalformedMeasurement, SourceError
from devices.events import (
    BatteryRead,
    Connected,
    DeviceInfo,
    Disconnected,
    DisconnectReason,
    MalformedPacket,
    MeasurementReceived,
    Reconnecting,
    SensorLocationRead,
    SignalStrength,
    SourceEvent,
)
from devices.heart_rate import (
    BATTERY_LEVEL_UUID,
    BATTERY_SERVICE_UUID,
    BODY_SENSOR_LOCATION_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    parse_battery_level,
    parse_body_sensor_location,
    parse_measurement,
)

__all__ = [
    "AdapterProblem",
    "AdapterUnavailable",
    "Backoff",
    "BleStrapSource",
    "ConnectFailed",
    "DeviceNotFound",
    "ScannedDevice",
    "scan",
]

logger = logging.getLogger(__name__)

_CLEANUP_TIMEOUT_S: Final = 3.0
"""Bound on stop-notify and disconnect at shutdown, so that Ctrl-C never hangs on a dead link."""

DEFAULT_BACKOFF: Final = Backoff()

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class _Arrival:
    t_s: float
    wall_s: float
    data: bytes


@dataclass(frozen=True, slots=True)
class _LinkLost:
    t_s: float


class BleStrapSource:
    """A strap found by address or by a case-blind substring of its advertised name.

    Only devices advertising the Heart Rate service (0x180D) are considered. The first connection
    is tried ``connect_attempts`` times (a :class:`ConnectFailed` after that); a missing device
    (:class:`DeviceNotFound`) or an unusable adapter (:class:`AdapterUnavailable`) is raised at
    once. Once connected, every later failure is retried without end.
    """

    def __init__(
        self,
        address_or_name: str,
        *,
        stall_timeout_s: float = 5.0,
        backoff: Backoff = DEFAULT_BACKOFF,
        connect_timeout_s: float = 20.0,
        connect_attempts: int = 3,
        adapter: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        extra_services: tuple[str, ...] = (),
        on_connected: Callable[[BleakClient], Awaitable[None]] | None = None,
    ) -> None:
        """``extra_services`` are discovered too; ``on_connected`` runs on every new connection
        once the heart-rate notifications are on (the PMD streams of a Polar H10 start there,
        :class:`~devices.ble_pmd.BleH10Source`); it must not raise for a strap without them."""
        if stall_timeout_s <= 0 or connect_timeout_s <= 0 or connect_attempts < 1:
            raise ValueError("stall_timeout_s, connect_timeout_s > 0 and connect_attempts >= 1")
        self.query = address_or_name
        self._stall_timeout_s = stall_timeout_s
        self._backoff = backoff
        self._connect_timeout_s = connect_timeout_s
        self._connect_attempts = connect_attempts
        self._adapter = adapter
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng if rng is not None else random.Random()
        self._sleep = sleep
        self._device: tuple[BLEDevice, int] | None = None
        self._info = DeviceInfo(
            address_or_name, address_or_name if is_address(address_or_name) else "", "ble"
        )
        self._malformed = 0
        self._extra_services = extra_services
        self._on_connected = on_connected

    @property
    def device(self) -> DeviceInfo:
        """The strap: the query until the first connection, then its advertised name and address."""
        return self._info

    @property
    def malformed_count(self) -> int:
        """Notifications that could not be decoded so far (each one was skipped)."""
        return self._malformed

    async def events(self) -> AsyncGenerator[SourceEvent, None]:
        """Connection events and one event per notification, until the consumer stops.

        When an established link drops, the first reconnect attempt is made at once (a strap
        that lost the link for a moment is usually back by then, and every second waited loses
        beats); only when it fails does the bounded, jittered backoff pace the next ones. After a
        stall (the stack went silent while the link looked up) the backoff comes first."""
        attempt = 0
        connected_once = False
        immediate = False
        while True:
            queue: asyncio.Queue[_Arrival | _LinkLost] = asyncio.Queue()
            try:
                client, prelude = await self._open(queue)
            except SourceError as exc:
                if immediate:
                    # The immediate attempt after a drop failed: from here, the backoff.
                    logger.debug("immediate reconnect failed: %s", exc)
                    immediate = False
                else:
                    attempt += 1
                if not connected_once and (
                    not isinstance(exc, ConnectFailed) or attempt >= self._connect_attempts
                ):
                    if isinstance(exc, ConnectFailed):
                        raise ConnectFailed(exc.address, attempt, exc.detail) from exc
                    raise
                logger.debug("connect attempt %d failed: %s", attempt, exc)
                delay_s = self._backoff.delay_s(attempt, self._rng)
                yield Reconnecting(self._clock(), attempt, delay_s)
                await self._sleep(delay_s)
                continue
            connected_once = True
            immediate = False
            lost = False
            try:
                for event in prelude:
                    yield event
                while True:
                    try:
                        async with asyncio.timeout(self._stall_timeout_s):
                            item = await queue.get()
                    except TimeoutError:
                        detail = f"no notification for {self._stall_timeout_s:g} s"
                        yield Disconnected(self._clock(), DisconnectReason.STALLED, detail)
                        break
                    if isinstance(item, _LinkLost):
                        yield Disconnected(item.t_s, DisconnectReason.LINK_LOST, "link lost")
                        lost = True
                        break
                    yield self._decode(item)
            finally:
                await self._close(client)
            attempt = 1
            if lost:
                # Reconnect now; the backoff's attempt 1 follows only if this one fails.
                immediate = True
                continue
            delay_s = self._backoff.delay_s(attempt, self._rng)
            yield Reconnecting(self._clock(), attempt, delay_s)
            await self._sleep(delay_s)

    def _decode(self, item: _Arrival) -> MeasurementReceived | MalformedPacket:
        try:
            measurement = parse_measurement(item.data)
        except MalformedMeasurement as exc:
            self._malformed += 1
            if self._malformed == 1:
                logger.info("skipping malformed notifications from %s: %s", self.query, exc)
            return MalformedPacket(item.t_s, item.wall_s, item.data, str(exc), exc.salvaged)
        return MeasurementReceived(item.t_s, item.wall_s, item.data, measurement)

    async def _locate(self) -> tuple[BLEDevice, int]:
        if self._device is None:
            self._device = await find_strap(
                self.query, self._connect_timeout_s, adapter=self._adapter
            )
        return self._device

    async def _open(
        self, queue: asyncio.Queue[_Arrival | _LinkLost]
    ) -> tuple[BleakClient, list[SourceEvent]]:
        """Connect, read the optional characteristics and subscribe; the events to emit first."""
        device, rssi_dbm = await self._locate()

        def on_disconnect(_client: BleakClient) -> None:
            queue.put_nowait(_LinkLost(self._clock()))

        def on_notify(_char: BleakGATTCharacteristic, data: bytearray) -> None:
            queue.put_nowait(_Arrival(self._clock(), self._wall_clock(), bytes(data)))

        client = BleakClient(
            device,
            on_disconnect,
            services=[HEART_RATE_SERVICE_UUID, BATTERY_SERVICE_UUID, *self._extra_services],
            timeout=self._connect_timeout_s,
            bluez={} if self._adapter is None else {"adapter": self._adapter},
        )
        try:
            with translated_errors(device.address):
                await client.connect()
                self._info = DeviceInfo(device.name or self.query, device.address, kind="ble")
                prelude: list[SourceEvent] = [
                    Connected(self._clock(), self._info),
                    SignalStrength(self._clock(), rssi_dbm),
                ]
                battery = await _read_optional(client, BATTERY_LEVEL_UUID, parse_battery_level)
                if battery is not None:
                    prelude.append(BatteryRead(self._clock(), battery))
                location = await _read_optional(
                    client, BODY_SENSOR_LOCATION_UUID, parse_body_sensor_location
                )
                if location is not None:
                    prelude.append(SensorLocationRead(self._clock(), location))
                await client.start_notify(HEART_RATE_MEASUREMENT_UUID, on_notify)
                if self._on_connected is not None:
                    await self._on_connected(client)
        except DeviceNotFound:
            # BlueZ forgot the device (it drops unconnected ones after a while): scan again.
            self._device = None
            await self._close(client)
            raise
        except BaseException:
            await self._close(client)
            raise
        return client, prelude

    async def _close(self, client: BleakClient) -> None:
        """Stop notifications and disconnect, bounded in time; errors here change nothing."""
        with contextlib.suppress(BleakError, TimeoutError, EOFError, OSError, AssertionError):
            async with asyncio.timeout(_CLEANUP_TIMEOUT_S):
                if client.is_connected:
                    await client.stop_notify(HEART_RATE_MEASUREMENT_UUID)
        with contextlib.suppress(BleakError, TimeoutError, EOFError, OSError, AssertionError):
            async with asyncio.timeout(_CLEANUP_TIMEOUT_S):
                await client.disconnect()


async def _read_optional(client: BleakClient, uuid: str, parse: Callable[[bytes], _T]) -> _T | None:
    """Read and decode a characteristic when the strap has it; ``None`` when absent or bad."""
    char = client.services.get_characteristic(uuid)
    if char is None or "read" not in char.properties:
        return None
    try:
        return parse(bytes(await client.read_gatt_char(char)))
    except (BleakError, MalformedMeasurement) as exc:
        logger.debug("could not read %s: %s", uuid, exc)
        return None
