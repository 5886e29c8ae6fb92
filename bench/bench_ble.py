"""Benchmark: notification-to-event latency through the real bleak stack (fake BlueZ, Linux).

The fake BlueZ stamps ``time.monotonic()`` just before it puts a notification (a D-Bus
PropertiesChanged of ``Value``) on the private bus; the source stamps its
:class:`~devices.events.MeasurementReceived` with ``time.monotonic()`` in bleak's callback. The
difference is what the D-Bus daemon, dbus-fast's parsing, bleak's dispatch and the event loop
add. Both ends share one event loop (as with ``--simulate=ble``), so this is an upper bound
for the client side of a real strap, without the radio. Also reported: scan-to-connected time.

Usage: ``.venv/bin/python bench/bench_ble.py [--duration 300]``; writes ``bench/results/ble.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import time
from contextlib import aclosing
from pathlib import Path

from devices.ble import BleStrapSource
from devices.ble_backoff import Backoff
from devices.events import Connected, MeasurementReceived
from devices.fake_bluez import running
from devices.simulator import SimConfig, SimPacket, SimulatedStrap

RESULTS = Path(__file__).resolve().parent / "results" / "ble.json"
RATES_PER_S = (1.0, 20.0, 200.0)
"""Notifications per real second: a real strap, a replay, a burst."""


def _quantile_ms(values_s: list[float], q: float) -> float:
    ordered = sorted(values_s)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _run(duration_s: float, speed: float) -> dict[str, float]:
    strap = SimulatedStrap(SimConfig(duration_s=duration_s, seed=5))
    packets = [e for e in strap.events() if isinstance(e, SimPacket)]
    async with running(packets, speed=speed) as fake:
        source = BleStrapSource(
            fake.address,
            stall_timeout_s=5.0,
            backoff=Backoff(0.01, 0.05),
            rng=random.Random(0),
        )
        received: list[MeasurementReceived] = []
        started_s = time.monotonic()
        connect_s = float("nan")
        async with aclosing(source.events()) as stream:
            async for event in stream:
                if isinstance(event, Connected):
                    connect_s = event.t_s - started_s
                elif isinstance(event, MeasurementReceived):
                    received.append(event)
                if fake.done and len(received) >= len(fake.sent):
                    break
        assert [m.raw for m in received] == [p.data for p in fake.sent]
        latencies_s = [m.t_s - p.sent_s for m, p in zip(received, fake.sent, strict=True)]
    return {
        "notifications_per_s": 1.0 * speed,
        "n": len(latencies_s),
        "p50_ms": _quantile_ms(latencies_s, 0.50),
        "p99_ms": _quantile_ms(latencies_s, 0.99),
        "max_ms": 1000 * max(latencies_s),
        "mean_ms": 1000 * statistics.fmean(latencies_s),
        "scan_to_connected_ms": 1000 * connect_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=300.0, help="simulated seconds per run")
    args = parser.parse_args()
    rows = []
    for rate in RATES_PER_S:
        # Keep the real run time bounded: the slow rate needs fewer simulated seconds.
        duration_s = min(args.duration, 30.0) if rate == 1.0 else args.duration
        rows.append(asyncio.run(_run(duration_s, rate)))
    print(f"{'notif/s':>8} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'connect ms':>11}")
    for r in rows:
        print(
            f"{r['notifications_per_s']:>8g} {r['n']:>5.0f} {r['p50_ms']:>8.3f} "
            f"{r['p99_ms']:>8.3f} {r['max_ms']:>8.3f} {r['scan_to_connected_ms']:>11.1f}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "ble notification-to-event latency (bleak + fake BlueZ)",
                "python": platform.python_version(),
                "machine": platform.machine(),
                "runs": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written: {RESULTS}")


if __name__ == "__main__":
    main()
