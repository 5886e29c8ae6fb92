"""``biofeedback scan``: nearby heart-rate straps (service 0x180D)."""

from __future__ import annotations

import argparse
import asyncio
import json

from biofeedback.text import terminal_safe


def run(args: argparse.Namespace) -> int:
    if args.simulate == "ble":
        from devices.fake_bluez import scan_simulated

        found = asyncio.run(scan_simulated(args.timeout))
    else:
        from devices.ble_scan import scan

        found = asyncio.run(scan(args.timeout))
    if args.json:
        print(
            json.dumps(
                [{"name": d.name, "address": d.address, "rssi_dbm": d.rssi_dbm} for d in found]
            )
        )
        return 0
    if not found:
        print(f"no heart-rate strap found in {args.timeout:g} s (is it worn and awake?)")
        return 0
    print(f"{'name':<24} {'address':<20} {'RSSI':>6}")
    for d in sorted(found, key=lambda d: -d.rssi_dbm):
        # Names come from radio advertisements, anyone's to choose: no terminal escapes.
        print(terminal_safe(f"{d.name or '(unnamed)':<24} {d.address:<20} {d.rssi_dbm:>4} dBm"))
    return 0
