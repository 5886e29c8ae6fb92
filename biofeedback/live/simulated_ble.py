"""``--simulate=ble``: the simulated strap served by a private fake BlueZ, read through bleak."""

from devices.fake_bluez import SimulatedBleSource

__all__ = ["SimulatedBleSource"]
