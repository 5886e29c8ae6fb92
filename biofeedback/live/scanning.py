"""Scanning for straps, shaped for the CLI and the dashboard's device picker."""

from __future__ import annotations


async def scan_straps(timeout_s: float = 5.0) -> list[tuple[str, str, int]]:
    """``(name, address, rssi_dbm)`` of every strap advertising the Heart Rate service."""
    from devices.ble_scan import scan

    return [(d.name or "(unnamed)", d.address, d.rssi_dbm) for d in await scan(timeout_s)]
