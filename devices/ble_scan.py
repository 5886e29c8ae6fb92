"""Finding heart-rate straps: a scan filtered on the Heart Rate service, and bleak errors mapped
to the typed errors of :mod:`devices.ble_errors`."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
)

from devices.ble_errors import AdapterProblem, AdapterUnavailable, ConnectFailed, DeviceNotFound
from devices.heart_rate import HEART_RATE_SERVICE_UUID

_ADDRESS_RE: Final = re.compile(
    r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$"
    r"|^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
)
"""A MAC address (Linux, Windows) or the UUID macOS gives a peripheral."""

_REASONS: Final = {
    BleakBluetoothNotAvailableReason.NO_BLUETOOTH: AdapterProblem.NO_ADAPTER,
    BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE: AdapterProblem.NO_CENTRAL_ROLE,
    BleakBluetoothNotAvailableReason.POWERED_OFF: AdapterProblem.POWERED_OFF,
    BleakBluetoothNotAvailableReason.DENIED_BY_USER: AdapterProblem.PERMISSION_DENIED,
    BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM: AdapterProblem.PERMISSION_DENIED,
    BleakBluetoothNotAvailableReason.DENIED_BY_UNKNOWN: AdapterProblem.PERMISSION_DENIED,
}
_NO_BLUEZ_ERRORS: Final = frozenset(
    {"org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner"}
)


@dataclass(frozen=True, slots=True)
class ScannedDevice:
    """A device seen advertising the Heart Rate service."""

    name: str | None
    address: str
    rssi_dbm: int


def is_address(text: str) -> bool:
    """Whether ``text`` names a device by address rather than by name.

    >>> is_address("C0:FF:EE:00:00:01"), is_address("Polar H10")
    (True, False)
    """
    return bool(_ADDRESS_RE.match(text))


def matches(query: str, device: BLEDevice, adv: AdvertisementData) -> bool:
    """An address matches exactly (any case); anything else is a case-blind name substring."""
    if is_address(query):
        return device.address.lower() == query.lower()
    name = adv.local_name or device.name or ""
    return query.lower() in name.lower()


@contextlib.contextmanager
def translated_errors(address: str) -> Iterator[None]:
    """Re-raise bleak's and the OS's errors as typed :class:`~devices.errors.SourceError`."""
    try:
        yield
    except BleakBluetoothNotAvailableError as exc:
        problem = _REASONS.get(exc.reason, AdapterProblem.UNKNOWN)
        raise AdapterUnavailable(problem, str(exc.args[0])) from exc
    except BleakDeviceNotFoundError as exc:
        raise DeviceNotFound(address, None) from exc
    except BleakDBusError as exc:
        if exc.dbus_error in _NO_BLUEZ_ERRORS:
            raise AdapterUnavailable(AdapterProblem.NO_BLUEZ, exc.dbus_error) from exc
        detail = f"{exc.dbus_error}: {exc.dbus_error_details or ''}".rstrip(": ")
        raise ConnectFailed(address, 1, detail) from exc
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        raise AdapterUnavailable(AdapterProblem.NO_BLUEZ, str(exc)) from exc
    except (BleakError, TimeoutError, EOFError, OSError) as exc:
        raise ConnectFailed(address, 1, str(exc) or type(exc).__name__) from exc


async def scan(timeout_s: float = 5.0, *, adapter: str | None = None) -> list[ScannedDevice]:
    """Devices advertising the Heart Rate service (0x180D) seen within ``timeout_s``.

    Sorted by signal strength, strongest first. Raises
    :class:`~devices.ble_errors.AdapterUnavailable` when Bluetooth cannot be used.
    """
    with translated_errors("scan"):
        found = await BleakScanner.discover(
            timeout_s,
            return_adv=True,
            service_uuids=[HEART_RATE_SERVICE_UUID],
            bluez={} if adapter is None else {"adapter": adapter},
        )
    devices = [
        ScannedDevice(adv.local_name or device.name, device.address, adv.rssi)
        for device, adv in found.values()
        if HEART_RATE_SERVICE_UUID in (u.lower() for u in adv.service_uuids)
    ]
    return sorted(devices, key=lambda d: (-d.rssi_dbm, d.address))


async def find_strap(
    query: str, timeout_s: float, *, adapter: str | None = None
) -> tuple[BLEDevice, int]:
    """The first device advertising the Heart Rate service that matches ``query``, with its RSSI.

    Raises :class:`~devices.ble_errors.DeviceNotFound` after ``timeout_s``.
    """
    found: asyncio.Future[tuple[BLEDevice, int]] = asyncio.get_running_loop().create_future()

    def on_advertisement(device: BLEDevice, adv: AdvertisementData) -> None:
        if not found.done() and matches(query, device, adv):
            found.set_result((device, adv.rssi))

    with translated_errors(query):
        async with BleakScanner(
            on_advertisement,
            service_uuids=[HEART_RATE_SERVICE_UUID],
            bluez={} if adapter is None else {"adapter": adapter},
        ):
            try:
                async with asyncio.timeout(timeout_s):
                    return await found
            except TimeoutError:
                raise DeviceNotFound(query, timeout_s) from None
