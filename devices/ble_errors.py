"""Typed errors of the Bluetooth LE source; ``str(exc)`` is one line: what happened, what to do."""

from __future__ import annotations

import enum

from devices.errors import SourceError


class AdapterProblem(enum.Enum):
    """Why no Bluetooth adapter can be used, each with the advice shown to the user."""

    NO_ADAPTER = "no Bluetooth adapter found: plug one in or enable it in the system settings"
    NO_CENTRAL_ROLE = "the Bluetooth adapter cannot act as a BLE central: use a Bluetooth 4.0+ one"
    POWERED_OFF = "Bluetooth is off: turn it on (e.g. `bluetoothctl power on`) and try again"
    PERMISSION_DENIED = (
        "permission to use Bluetooth was denied: allow it for this terminal in the system "
        "settings (macOS: Privacy & Security > Bluetooth) and try again"
    )
    NO_BLUEZ = (
        "the Bluetooth service is not reachable: start it (`systemctl start bluetooth`) "
        "and check that the D-Bus system bus is available"
    )
    UNKNOWN = "Bluetooth is not available: check the adapter and the system settings"


class AdapterUnavailable(SourceError):
    """The adapter is missing, powered off, or the system denies access."""

    def __init__(self, reason: AdapterProblem, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(reason.value)


class DeviceNotFound(SourceError):
    """No device advertising the Heart Rate service matched ``query``.

    ``timeout_s`` is how long the scan looked; ``None`` when BlueZ no longer knows the device.
    """

    def __init__(self, query: str, timeout_s: float | None) -> None:
        self.query = query
        self.timeout_s = timeout_s
        within = "" if timeout_s is None else f" in {timeout_s:g} s"
        super().__init__(
            f"no heart-rate strap matching {query!r} found{within}: wear the strap "
            "(it sleeps when dry), close other apps connected to it, and run `biofeedback scan`"
        )


class ConnectFailed(SourceError):
    """The strap was found but the connection failed ``attempts`` times in a row."""

    def __init__(self, address: str, attempts: int, detail: str) -> None:
        self.address = address
        self.attempts = attempts
        self.detail = detail
        super().__init__(
            f"could not connect to {address} after {attempts} attempt(s) ({detail}): "
            "move closer, disconnect it from other apps or phones, and try again"
        )
