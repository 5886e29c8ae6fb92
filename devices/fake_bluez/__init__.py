"""A fake BlueZ (``org.bluez`` over D-Bus) serving a simulated strap, for ``--simulate=ble``.

It lets the real bleak stack run end to end without a radio: a private ``dbus-daemon`` stands in
for the system bus and this package exports the adapter, the strap and its GATT tree on it. Linux
only (bleak's Linux backend is the D-Bus one)::

    async with running(SimulatedStrap(config).events(), speed=10.0) as fake:
        source = BleStrapSource(fake.address)

or, as a ready :class:`~devices.source.HeartRateSource`, ``SimulatedBleSource(config, speed=10)``.
"""

from __future__ import annotations

from devices.fake_bluez.bus import FakeBluezUnavailable
from devices.fake_bluez.pmd import PmdWaveforms
from devices.fake_bluez.runner import running
from devices.fake_bluez.source import SimulatedBleSource, scan_simulated
from devices.fake_bluez.strap import FakeBluez, FakeStrapConfig, SentPacket

__all__ = [
    "FakeBluez",
    "FakeBluezUnavailable",
    "FakeStrapConfig",
    "PmdWaveforms",
    "SentPacket",
    "SimulatedBleSource",
    "running",
    "scan_simulated",
]
