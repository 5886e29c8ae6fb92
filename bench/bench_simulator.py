"""Benchmark: generate 24 h of simulated beats and notification packets.

Measures the whole path (physiology, artifacts, latency, packetizer, ground truth) by consuming
``SimulatedStrap.events()`` to the end; the goal is at most 1 s of wall time on a 2-core machine.
Reported: median wall and CPU time over repeats (CPU time is the steadier number when the
machine is shared), beats, packets and peak RSS. Configurations: clean defaults, and a realistic
mix of artifacts with 4 s latency and energy expended.

Usage: ``.venv/bin/python bench/bench_simulator.py [--repeats 5] [--hours 24]``; writes
``bench/results/simulator.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from devices.simulator import (  # noqa: E402
    ArtifactRates,
    SimConfig,
    SimPacket,
    SimulatedStrap,
    load_profile,
)

BASE = SimConfig(seed=1, profile=load_profile("responder"))
CASES = {
    "defaults": BASE,
    "artifacts+latency+energy": replace(
        BASE,
        artifacts=ArtifactRates(
            ectopic=0.01,
            missed=0.005,
            extra=0.005,
            contact_loss_per_h=2.0,
            disconnects_per_h=1.0,
            malformed=0.01,
        ),
        latency_max_s=4.0,
        energy_expended=True,
    ),
}


def run_case(name: str, hours: float, repeats: int) -> dict[str, object]:
    config = replace(CASES[name], duration_s=hours * 3600)
    walls, cpus = [], []
    packets = 0
    beats = 0
    for _ in range(repeats):
        strap = SimulatedStrap(config)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        packets = sum(1 for e in strap.events() if isinstance(e, SimPacket))
        walls.append(time.perf_counter() - wall0)
        cpus.append(time.process_time() - cpu0)
        beats = len(strap.truth.t_s)
    return {
        "case": name,
        "hours": hours,
        "beats": beats,
        "packets": packets,
        "wall_s_median": statistics.median(walls),
        "wall_s_min": min(walls),
        "cpu_s_median": statistics.median(cpus),
        "repeats": repeats,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--hours", type=float, default=24.0)
    args = parser.parse_args()
    rows = [run_case(name, args.hours, args.repeats) for name in CASES]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'case':<26} {'hours':>5} {'beats':>8} {'packets':>8} {'wall s':>7} {'cpu s':>6}")
    for r in rows:
        print(
            f"{r['case']:<26} {r['hours']:>5.0f} {r['beats']:>8} {r['packets']:>8} "
            f"{r['wall_s_median']:>7.3f} {r['cpu_s_median']:>6.3f}"
        )
    load = os.getloadavg()[0]
    print(f"peak RSS {peak_mb:.0f} MB; load {load:.1f} on {os.cpu_count()} CPUs; goal: 24 h <= 1 s")
    out = HERE / "results" / "simulator.json"
    out.parent.mkdir(exist_ok=True)
    result = {
        "benchmark": "simulator",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "peak_rss_mb": round(peak_mb, 1),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "results": rows,
    }
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
