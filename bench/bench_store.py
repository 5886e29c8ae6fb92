"""Store benchmark: an 8-hour recording through SessionWriter, its file size and memory.

A child process records 8 simulated hours (about 30 000 beats and 28 800 packets, a marker a
minute, protocol segments) on a fake clock, so commits happen every 0.5 simulated seconds as in a
live session. It samples its resident memory (VmRSS from /proc/self/status) every simulated half
hour. Goal: peak RSS <= 150 MB and flat over time. Prints a table and writes
bench/results/store.json.

Usage: .venv/bin/python bench/bench_store.py [--hours H]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "store.json"
REPO = Path(__file__).resolve().parents[1]


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


class SimClock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def record(db: Path, hours: float) -> dict[str, object]:
    sys.path.insert(0, str(REPO))
    from biofeedback.sessions.store import SessionStore
    from biofeedback.sessions.store_writer import SessionWriter
    from devices.events import Beat

    store = SessionStore(db)
    clock = SimClock()
    writer = SessionWriter(store, clock=clock, background=False)
    wall0 = time.time()
    sid = writer.begin(device={"name": "bench", "address": "", "kind": "simulated"}, source="sim")
    duration_s = hours * 3600.0
    rr_ms = 960.0  # 62.5 bpm: 30 000 beats in 8 h
    next_beat_s, beat_index, samples = rr_ms / 1000.0, 0, []
    started = time.perf_counter()
    for second in range(int(duration_s)):
        clock.now_s = float(second)
        if second % 1800 == 0:
            samples.append({"t_h": second / 3600.0, "rss_mb": round(rss_mb(), 2)})
        if second % 600 == 0:
            writer.add_segment("block", "trigger", second, second + 600.0, category="control")
        if second % 60 == 0:
            writer.add_marker(second, "user", "tingle", {"i": second})
        due: list[Beat] = []
        while next_beat_s <= second + 1:
            due.append(Beat(next_beat_s, rr_ms, 983, 0, beat_index))
            beat_index += 1
            next_beat_s += rr_ms / 1000.0
        writer.add_packet(second + 0.5, wall0 + second, bytes([16, 62]) + bytes(2 * len(due)))
        writer.add_beats(due)
        clock.now_s = second + 0.5
        writer.maybe_commit()
    writer.finish(ended_wall_s=wall0 + duration_s)
    record_s = time.perf_counter() - started
    samples.append({"t_h": hours, "rss_mb": round(rss_mb(), 2)})
    t0 = time.perf_counter()
    bundle = store.load_bundle(sid)
    load_s = time.perf_counter() - t0
    store.close()
    return {
        "hours": hours,
        "beats": beat_index,
        "packets": len(bundle.packets["t_s"]),
        "record_wall_s": round(record_s, 2),
        "load_bundle_s": round(load_s, 3),
        "db_bytes": sum(p.stat().st_size for p in db.parent.glob(db.name + "*")),
        "peak_rss_recording_mb": max(s["rss_mb"] for s in samples),
        "peak_rss_after_load_mb": round(rss_mb("VmHWM"), 2),
        "rss_samples": samples,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--child", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(record(Path(args.child), args.hours)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, __file__, "--hours", str(args.hours), "--child", f"{tmp}/s.db"],
            check=True,
            capture_output=True,
            text=True,
        )
    result = json.loads(out.stdout)
    samples = result["rss_samples"]
    warm = [s["rss_mb"] for s in samples[1:]]
    result["rss_growth_after_first_half_hour_mb"] = round(max(warm) - min(warm), 2)
    print(f"store benchmark: {result['hours']:g} h recording through SessionWriter")
    print(f"{'beats':<34}{result['beats']:>12}")
    print(f"{'packets':<34}{result['packets']:>12}")
    print(f"{'store size (MB)':<34}{result['db_bytes'] / 1e6:>12.2f}")
    print(f"{'recording time, wall (s)':<34}{result['record_wall_s']:>12.2f}")
    print(f"{'load_bundle (s)':<34}{result['load_bundle_s']:>12.3f}")
    print(f"{'peak RSS while recording (MB)':<34}{result['peak_rss_recording_mb']:>12.1f}")
    print(
        f"{'RSS growth after 0.5 h (MB)':<34}{result['rss_growth_after_first_half_hour_mb']:>12.1f}"
    )
    print(f"{'peak RSS incl. load_bundle (MB)':<34}{result['peak_rss_after_load_mb']:>12.1f}")
    print(
        "RSS over time (h: MB): " + ", ".join(f"{s['t_h']:g}: {s['rss_mb']:.1f}" for s in samples)
    )
    print("goal: peak RSS <= 150 MB and flat")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
