"""BlueZ-shaped D-Bus objects: Adapter1, Device1, GattService1, GattCharacteristic1.

Only what bleak 3.1 reads or calls is modelled, with BlueZ's property names, error names and
object paths (``/org/bluez/hci0/dev_XX_XX_XX_XX_XX_XX/serviceNNNN/charNNNN``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Final

from dbus_fast.annotations import (
    DBusBool,
    DBusBytes,
    DBusDict,
    DBusInt16,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
)
from dbus_fast.constants import PropertyAccess
from dbus_fast.errors import DBusError
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property

DBusStrList = Annotated[list[str], DBusSignature("as")]
NoReply = Annotated[None, DBusSignature("")]
"""An empty D-Bus reply; a plain ``None`` annotation is not understood once it is a string."""

ADAPTER_PATH: Final = "/org/bluez/hci0"
ERROR_FAILED: Final = "org.bluez.Error.Failed"
ERROR_NOT_READY: Final = "org.bluez.Error.NotReady"
_READ: Final = PropertyAccess.READ


def device_path(address: str) -> str:
    """BlueZ's object path for a device.

    >>> device_path("C0:FF:EE:00:00:01")
    '/org/bluez/hci0/dev_C0_FF_EE_00_00_01'
    """
    return f"{ADAPTER_PATH}/dev_{address.upper().replace(':', '_')}"


class Adapter(ServiceInterface):
    """``org.bluez.Adapter1`` at ``/org/bluez/hci0``; discovery calls ``on_discovering``."""

    def __init__(self, powered: bool, on_discovering: Callable[[bool], None]) -> None:
        super().__init__("org.bluez.Adapter1")
        self.powered = powered
        self._sessions = 0
        self._on_discovering = on_discovering

    @dbus_property(access=_READ)
    def Address(self) -> DBusStr:
        return "00:1A:7D:DA:71:13"

    @dbus_property(access=_READ)
    def Alias(self) -> DBusStr:
        return "fake-hci0"

    @dbus_property(access=_READ)
    def Powered(self) -> DBusBool:
        return self.powered

    @dbus_property(access=_READ)
    def Discovering(self) -> DBusBool:
        return self._sessions > 0

    @dbus_property(access=_READ)
    def Roles(self) -> DBusStrList:
        return ["central", "peripheral"]

    @dbus_method()
    def SetDiscoveryFilter(self, properties: DBusDict) -> NoReply:
        if not self.powered:
            raise DBusError(ERROR_NOT_READY, "Resource Not Ready")

    @dbus_method()
    def StartDiscovery(self) -> NoReply:
        if not self.powered:
            raise DBusError(ERROR_NOT_READY, "Resource Not Ready")
        self._sessions += 1
        if self._sessions == 1:
            self.emit_properties_changed({"Discovering": True})
            self._on_discovering(True)

    @dbus_method()
    def StopDiscovery(self) -> NoReply:
        if self._sessions == 0:
            raise DBusError(ERROR_FAILED, "No discovery started")
        self._sessions -= 1
        if self._sessions == 0:
            self.emit_properties_changed({"Discovering": False})
            self._on_discovering(False)

    def set_powered(self, powered: bool) -> None:
        self.powered = powered
        self.emit_properties_changed({"Powered": powered})


class Characteristic(ServiceInterface):
    """``org.bluez.GattCharacteristic1``; a notification is a PropertiesChanged of ``Value``."""

    def __init__(
        self,
        device: Device,
        uuid: str,
        service_path: str,
        flags: list[str],
        value: bytes = b"",
        on_subscribed: Callable[[bool], None] | None = None,
        on_write: Callable[[bytes], None] | None = None,
    ) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self._on_write = on_write
        self.device = device
        self.uuid = uuid
        self.service_path = service_path
        self.flags = flags
        self.value = value
        self.notifying = False
        self._on_subscribed = on_subscribed

    @dbus_property(access=_READ)
    def UUID(self) -> DBusStr:
        return self.uuid

    @dbus_property(access=_READ)
    def Service(self) -> DBusObjectPath:
        return self.service_path

    @dbus_property(access=_READ)
    def Flags(self) -> DBusStrList:
        return self.flags

    @dbus_property(access=_READ)
    def Value(self) -> DBusBytes:
        return self.value

    @dbus_property(access=_READ)
    def Notifying(self) -> DBusBool:
        return self.notifying

    @dbus_method()
    def ReadValue(self, options: DBusDict) -> DBusBytes:
        self.device.require_connected()
        if "read" not in self.flags:
            raise DBusError("org.bluez.Error.NotPermitted", "Read not permitted")
        return self.value

    @dbus_method()
    def WriteValue(self, value: DBusBytes, options: DBusDict) -> NoReply:
        self.device.require_connected()
        if "write" not in self.flags or self._on_write is None:
            raise DBusError("org.bluez.Error.NotPermitted", "Write not permitted")
        self._on_write(bytes(value))

    @dbus_method()
    def StartNotify(self) -> NoReply:
        self.device.require_connected()
        if "notify" not in self.flags and "indicate" not in self.flags:
            raise DBusError("org.bluez.Error.NotSupported", "Operation is not supported")
        self.set_notifying(True)

    @dbus_method()
    def StopNotify(self) -> NoReply:
        if not self.notifying:
            raise DBusError(ERROR_FAILED, "No notify session started")
        self.set_notifying(False)

    def set_notifying(self, notifying: bool) -> None:
        if notifying == self.notifying:
            return
        self.notifying = notifying
        self.emit_properties_changed({"Notifying": notifying})
        if self._on_subscribed is not None:
            self._on_subscribed(notifying)

    def notify(self, data: bytes) -> bool:
        """Send ``data`` as a notification; ``False`` when nobody is subscribed."""
        if not (self.notifying and self.device.connected):
            return False
        self.value = data
        self.emit_properties_changed({"Value": data})
        return True


class Service(ServiceInterface):
    """``org.bluez.GattService1``."""

    def __init__(self, uuid: str, device_path: str) -> None:
        super().__init__("org.bluez.GattService1")
        self.uuid = uuid
        self.device_path = device_path

    @dbus_property(access=_READ)
    def UUID(self) -> DBusStr:
        return self.uuid

    @dbus_property(access=_READ)
    def Device(self) -> DBusObjectPath:
        return self.device_path

    @dbus_property(access=_READ)
    def Primary(self) -> DBusBool:
        return True


class Device(ServiceInterface):
    """``org.bluez.Device1``: connectable while its link is up and no fault is injected.

    (``ServiceInterface.name`` is the D-Bus interface name, hence ``alias`` for the device's.)
    """

    def __init__(
        self, adapter: Adapter, address: str, name: str, uuids: list[str], rssi_dbm: int
    ) -> None:
        super().__init__("org.bluez.Device1")
        self.adapter = adapter
        self.address = address
        self.alias = name
        self.uuids = uuids
        self.rssi_dbm = rssi_dbm
        self.connected = False
        self.link_up = True
        self.connect_error: tuple[str, str] | None = None
        self.characteristics: list[Characteristic] = []
        self.connects = 0

    @dbus_property(access=_READ)
    def Address(self) -> DBusStr:
        return self.address

    @dbus_property(access=_READ)
    def AddressType(self) -> DBusStr:
        return "random"

    @dbus_property(access=_READ)
    def Name(self) -> DBusStr:
        return self.alias

    @dbus_property(access=_READ)
    def Alias(self) -> DBusStr:
        return self.alias

    @dbus_property(access=_READ)
    def Adapter(self) -> DBusObjectPath:
        return ADAPTER_PATH

    @dbus_property(access=_READ)
    def UUIDs(self) -> DBusStrList:
        return self.uuids

    @dbus_property(access=_READ)
    def Paired(self) -> DBusBool:
        return False

    @dbus_property(access=_READ)
    def Trusted(self) -> DBusBool:
        return False

    @dbus_property(access=_READ)
    def Connected(self) -> DBusBool:
        return self.connected

    @dbus_property(access=_READ)
    def ServicesResolved(self) -> DBusBool:
        return self.connected

    @dbus_property(access=_READ)
    def RSSI(self) -> DBusInt16:
        return self.rssi_dbm

    @dbus_method()
    def Connect(self) -> NoReply:
        if not self.adapter.powered:
            raise DBusError(ERROR_NOT_READY, "Resource Not Ready")
        if self.connect_error is not None:
            raise DBusError(*self.connect_error)
        if not self.link_up:
            raise DBusError(ERROR_FAILED, "Connection timed out")
        if not self.connected:
            self.connects += 1
            self.connected = True
            self.emit_properties_changed({"Connected": True})
            self.emit_properties_changed({"ServicesResolved": True})

    @dbus_method()
    def Disconnect(self) -> NoReply:
        self.drop()

    def require_connected(self) -> None:
        if not self.connected:
            raise DBusError("org.bluez.Error.NotConnected", "Not Connected")

    def drop(self) -> None:
        """End the connection as a lost link does: subscriptions end, then ``Connected``."""
        if not self.connected:
            return
        for char in self.characteristics:
            char.set_notifying(False)
        self.connected = False
        self.emit_properties_changed({"ServicesResolved": False, "Connected": False})

    def advertise(self, rssi_dbm: int) -> None:
        """An advertisement as bleak sees one: an RSSI change while discovering."""
        self.rssi_dbm = rssi_dbm
        self.emit_properties_changed({"RSSI": rssi_dbm})
