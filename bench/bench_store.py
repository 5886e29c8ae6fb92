"""Store benchmark: an 8-hour recording through SessionWriter, its file size and memory; and a
day of raw ECG and ACC through the same writer, in bytes.

A child process records 8 simulated hours (about 30 000 beats and 28 800 packets, a marker a
minute, protocol segments) on a fake clock, so commits happen every 0.5 simulated seconds as in a
live session. It samples its resident memory (VmRSS from /proc/self/status) every simulated half
hour. Goal: peak RSS <= 150 MB and flat over time.

Waveforms: one simulated hour of the H10's ECG (devices/simulator/ecg.py, 130 Hz, µV, with two
electrode-motion episodes an hour) and chest ACC (devices/simulator/acc.py at 25, 50, 100 and
200 Hz, mg) is generated, and a day (24 h: the hour 24 times over, session times running on) is
recorded through ``SessionWriter.add_waveform`` in the H10's frames (73 ECG / 36 ACC samples),
on a fake clock committing every 0.5 simulated seconds as live, each stream into its own store.
Reported per day: the encoded chunk bytes, the store file after a checkpoint, the JSON bundle
(base64), and the writer's CPU time. Goal: a day of 130-Hz ECG well under 100 MB.

Prints a table and writes bench/results/store.json.

Usage: .venv/bin/python bench/bench_store.py [--hours H] [--wave-hours H]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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


def record_waves(db: Path, stream: str, fs_hz: int, hours: float) -> dict[str, object]:
    """``hours`` of ``stream`` through SessionWriter (see the module notes); bytes and time."""
    sys.path.insert(0, str(REPO))
    import numpy as np

    from biofeedback.sessions.export import export_bundle
    from biofeedback.sessions.store import SessionStore
    from biofeedback.sessions.store_writer import SessionWriter
    from devices.simulator import SimConfig, SimulatedStrap
    from devices.simulator.acc import AccConfig, simulate_acc
    from devices.simulator.ecg import EcgConfig, simulate_ecg
    from devices.simulator.h10 import ACC_PER_FRAME, ECG_PER_FRAME

    hour_s = 3600.0
    strap = SimulatedStrap(SimConfig(duration_s=hour_s + 5, seed=3))
    list(strap.events())
    ecg = simulate_ecg(strap.truth, hour_s, EcgConfig(seed=3, motion_per_h=2.0))
    if stream == "ecg":
        hour: Any = ecg.samples_uv
        per = ECG_PER_FRAME
    else:
        acc = simulate_acc(strap.truth, hour_s, AccConfig(fs_hz=fs_hz, seed=3), ecg.motion_s)
        hour, per = acc.samples_mg, ACC_PER_FRAME
    store = SessionStore(db)
    clock = SimClock()
    writer = SessionWriter(store, clock=clock, background=False)
    sid = writer.begin(device={"name": "bench", "address": "", "kind": "simulated"}, source="sim")
    n_hour = len(hour)
    total = int(hours * n_hour)
    offsets = np.arange(per) / fs_hz
    cpu0 = time.process_time()
    for start in range(0, total, per):
        k = min(per, total - start)
        i = start % n_hour
        frame = (
            hour[i : i + k]
            if i + k <= n_hour
            else np.concatenate([hour[i:], hour[: k - (n_hour - i)]])
        )
        t0 = start / fs_hz
        clock.now_s = t0
        writer.add_waveform(stream, t0 + offsets[:k], frame)
        writer.maybe_commit()
    writer.finish()
    cpu_s = time.process_time() - cpu0
    blob, chunks = store.conn.execute(
        "SELECT SUM(LENGTH(data)), COUNT(*) FROM waveforms WHERE session_id = ?", (sid,)
    ).fetchone()
    t0 = time.perf_counter()
    bundle = store.load_bundle(sid)
    load_s = time.perf_counter() - t0
    json_bytes = len(export_bundle(bundle, "json"))
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    db_bytes = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    scale = 24.0 / hours
    return {
        "stream": stream,
        "fs_hz": fs_hz,
        "hours": hours,
        "samples": total,
        "chunks": chunks,
        "encoded_mb_per_day": round(blob * scale / 1e6, 2),
        "store_mb_per_day": round(db_bytes * scale / 1e6, 2),
        "bundle_json_mb_per_day": round(json_bytes * scale / 1e6, 2),
        "bytes_per_value": round(blob / (total * (1 if stream == "ecg" else 3)), 3),
        "raw_int32_mb_per_day": round(4 * total * (1 if stream == "ecg" else 3) * scale / 1e6, 1),
        "writer_cpu_s_per_day": round(cpu_s * scale, 1),
        "writer_cpu_share_of_a_core_pct": round(100 * cpu_s / (hours * 3600.0), 3),
        "load_bundle_s": round(load_s, 3),
    }


WAVE_CASES = (("ecg", 130), ("acc", 25), ("acc", 50), ("acc", 100), ("acc", 200))


def run_waves(hours: float) -> list[dict[str, object]]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for stream, fs in WAVE_CASES:
            db = f"{tmp}/{stream}{fs}.db"
            command = [sys.executable, __file__, "--wave-hours", str(hours)]
            command += ["--wave-child", db, stream, str(fs)]
            out = subprocess.run(command, check=True, capture_output=True, text=True)
            results.append(json.loads(out.stdout))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--wave-hours", type=float, default=24.0)
    parser.add_argument("--child", metavar="DB", help=argparse.SUPPRESS)
    parser.add_argument("--wave-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(record(Path(args.child), args.hours)))
        return 0
    if args.wave_child:
        db, stream, fs = args.wave_child
        print(json.dumps(record_waves(Path(db), stream, int(fs), args.wave_hours)))
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
    result["waveforms"] = run_waves(args.wave_hours)
    print(f"\nraw waveforms, {args.wave_hours:g} h through SessionWriter, scaled to a day:")
    print(
        f"{'stream':<10}{'encoded MB':>11}{'store MB':>10}{'bundle MB':>10}{'B/value':>9}"
        f"{'int32 MB':>10}{'CPU s':>8}{'core %':>8}"
    )
    for w in result["waveforms"]:
        print(
            f"{w['stream'] + ' ' + str(w['fs_hz']) + ' Hz':<10}{w['encoded_mb_per_day']:>11.2f}"
            f"{w['store_mb_per_day']:>10.2f}{w['bundle_json_mb_per_day']:>10.2f}"
            f"{w['bytes_per_value']:>9.3f}{w['raw_int32_mb_per_day']:>10.1f}"
            f"{w['writer_cpu_s_per_day']:>8.1f}{w['writer_cpu_share_of_a_core_pct']:>8.3f}"
        )
    print("goal: a day of 130-Hz ECG well under 100 MB")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
