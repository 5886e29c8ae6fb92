"""Benchmark: the live ECG/ACC stage on the simulated Polar H10 (issue 18, items 3-4, live).

1. **Online R-peak latency**, split in two:
   - *the detector's own latency, samples fed one at a time* (``ONE_BY_ONE_S`` simulated seconds
     straight into :class:`~biofeedback.ecg.rpeaks.OnlineRPeakDetector` at the live lookahead):
     the newest sample's index at the report minus the true R-peak's sample, in samples (no
     frames, no compute time: what the algorithm needs to see after the peak);
   - *in the H10's frames*, 10 simulated minutes through :class:`~biofeedback.ecg.online.EcgStage`
     (73 ECG samples = 0.56 s per notification, 36 ACC samples), as the pipeline feeds it. Per
     beat:
   - *from the R-peak sample*: the newest sample's time when the beat was reported minus the
     R-peak's time, plus the compute time of that frame. It contains the strap's own frame
     buffering (a sample waits up to 0.56 s in the H10 before it is sent), which no detector
     can avoid;
   - *after its frame arrived*: the same, less the wait inside the strap (the R-peak's frame's
     last sample minus the R-peak): what the detector adds once the sample is here (its
     lookahead, rounded up to whole frames: the samples after the peak come in the next frame);
   - *frame wait*: the R-peak's frame's last sample minus the R-peak, the strap's buffering.
   Both for the live stage's lookahead (150 ms, the shortest allowed) and 250 ms, with sensitivity
   and positive predictivity against the simulated beats (AAMI 150-ms window) and the timing
   error.
2. **CPU share** of live ECG + ACC processing: process time spent in the stage's calls over the
   simulated duration (the waveform simulation is not counted), in % of one core.
3. **ECG sample to screen**, in real time for ``SCREEN_S`` seconds, into the real dashboard
   (Textual ``run_test``, headless) through the real :class:`~biofeedback.live.pipeline.
   LivePipeline`: (a) on the fake stack, from the fake H10 encoding a frame to notify it over
   D-Bus, through bleak and :class:`~devices.ble_pmd.BleH10Source`, to the first paint of the
   ECG strip that includes its last sample; (b) from the in-process simulated H10 (``biofeedback
   demo``'s strap) yielding a frame to the same paint.

Prints a table and writes bench/results/ecg_live.json. Never asserts a time.
"""

from __future__ import annotations

import asyncio
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from biofeedback.ecg.online import LOOKAHEAD_S, EcgStage, LiveBeat
from biofeedback.ecg.rpeaks import OnlineRPeakDetector
from biofeedback.ecg.scoring import match_beats
from devices.pmd_stream import AccSamples, EcgSamples
from devices.simulator import ArtifactRates, SimConfig, SimulatedStrap
from devices.simulator.ecg import EcgConfig, simulate_ecg
from devices.simulator.h10 import SimulatedH10Source

RESULTS = Path(__file__).resolve().parent / "results" / "ecg_live.json"
DURATION_S = 600.0
SCREEN_S = 30.0
"""Wall seconds of the sample-to-screen run."""
SCREEN_SPEED = 1.0
ECG_FS = 130.0
ONE_BY_ONE_S = 60.0
"""Simulated seconds fed sample by sample (about 2 ms of compute per sample)."""


def _q_ms(values: np.ndarray, q: float) -> float:
    return float(np.quantile(values, q) * 1000.0) if len(values) else float("nan")


async def _frames(duration_s: float, seed: int) -> tuple[list[object], SimulatedH10Source]:
    config = SimConfig(duration_s=duration_s, seed=seed, artifacts=ArtifactRates(ectopic=0.01))
    source = SimulatedH10Source(SimulatedStrap(config), speed=None)
    return [e async for e in source.waveforms()], source


def latency(events: list[object], source: SimulatedH10Source, lookahead_s: float) -> dict[str, Any]:
    stage = EcgStage(lookahead_s=lookahead_s)
    beats: list[LiveBeat] = []
    compute: list[float] = []
    frame_end: list[float] = []
    cpu_s = 0.0
    for e in events:
        if isinstance(e, EcgSamples):
            c0, w0 = time.process_time(), time.perf_counter()
            found = stage.ecg(e.t_s, e.samples_uv, e.segment)
            cpu_s += time.process_time() - c0
            took = time.perf_counter() - w0
            beats += found
            compute += [took] * len(found)
        elif isinstance(e, AccSamples):
            c0 = time.process_time()
            stage.acc(e.t_s, e.samples_mg, e.segment)
            cpu_s += time.process_time() - c0
    ecg = [e for e in events if isinstance(e, EcgSamples)]
    ends = np.array([float(e.t_s[-1]) for e in ecg])
    t = np.array([b.t_s for b in beats])
    frame_end = ends[np.searchsorted(ends, t)].tolist()
    settled = t > 3.0  # the detector's first decisions need 2 s of signal
    from_sample = np.array([b.latency_s for b in beats]) + np.array(compute)
    frame_wait = np.array(frame_end) - t
    after_frame = from_sample - frame_wait
    assert source.ecg is not None
    last = float(ends[-1]) - 1.0
    truth = source.ecg.r_peak_t_s[source.ecg.r_peak_t_s < last]
    match = match_beats(truth, t[t < last])
    return {
        "lookahead_s": lookahead_s,
        "beats": len(beats),
        "sensitivity_pct": 100 * match.sensitivity,
        "positive_predictivity_pct": 100 * match.positive_predictivity,
        "median_abs_timing_error_ms": float(np.median(np.abs(match.error_s)) * 1000),
        "from_r_peak_sample_ms": {
            "median": _q_ms(from_sample[settled], 0.5),
            "p95": _q_ms(from_sample[settled], 0.95),
            "max": _q_ms(from_sample[settled], 1.0),
        },
        "after_its_frame_arrived_ms": {
            "median": _q_ms(after_frame[settled], 0.5),
            "p95": _q_ms(after_frame[settled], 0.95),
            "max": _q_ms(after_frame[settled], 1.0),
        },
        "frame_wait_ms": {
            "median": _q_ms(frame_wait[settled], 0.5),
            "p95": _q_ms(frame_wait[settled], 0.95),
            "max": _q_ms(frame_wait[settled], 1.0),
        },
        "compute_per_frame_ms": {
            "median": _q_ms(np.array(compute), 0.5),
            "p95": _q_ms(np.array(compute), 0.95),
        },
        "cpu_s": cpu_s,
        "cpu_pct_of_a_core": 100 * cpu_s / DURATION_S,
    }


def one_by_one(lookahead_s: float, seed: int = 5) -> dict[str, Any]:
    """The detector's algorithmic latency: samples fed one at a time, counted in samples."""
    config = SimConfig(duration_s=ONE_BY_ONE_S, seed=seed, artifacts=ArtifactRates(ectopic=0.04))
    strap = SimulatedStrap(config)
    list(strap.events())
    ecg = simulate_ecg(strap.truth, ONE_BY_ONE_S, EcgConfig(seed=seed))
    detector = OnlineRPeakDetector(ECG_FS, lookahead_s=lookahead_s)
    x = ecg.samples_uv
    position: list[float] = []
    newest: list[int] = []
    for i in range(len(x)):
        for p in detector.feed(x[i : i + 1]).position:
            position.append(float(p))
            newest.append(i)
    pos = np.array(position)
    truth = ecg.r_peak_t_s * ECG_FS
    nearest = truth[np.argmin(np.abs(truth[None, :] - pos[:, None]), axis=1)]
    settled = pos > 2 * ECG_FS  # nothing is detected before 2 s of signal (warm-up)
    lag = np.array(newest)[settled] - np.floor(nearest[settled])
    is_v = ecg.ventricular[np.argmin(np.abs(truth[None, :] - pos[:, None]), axis=1)][settled]
    ms = lag / ECG_FS
    return {
        "lookahead_s": lookahead_s,
        "seconds": ONE_BY_ONE_S,
        "beats": int(settled.sum()),
        "ventricular_beats": int(is_v.sum()),
        "samples_median": float(np.median(lag)),
        "samples_max": float(lag.max()),
        "ms": {"median": _q_ms(ms, 0.5), "p95": _q_ms(ms, 0.95), "max": _q_ms(ms, 1.0)},
        "beats_over_300_ms": int((ms > 0.3).sum()),
    }


async def sample_to_screen(fake_bluez: bool) -> dict[str, Any]:
    """ECG frame sent -> first paint of the ECG strip that shows its last sample.

    In process: "sent" is when the simulated H10 source yields the frame's samples. On the fake
    BlueZ: when the fake H10 encodes the frame to notify it over D-Bus (then bleak, the PMD
    client, the sensor clock, the pipeline and the dashboard)."""
    import devices.fake_bluez.pmd as fake_pmd
    from biofeedback.live.clock import SessionClock
    from biofeedback.live.pipeline import LivePipeline
    from biofeedback.live.recorder import SessionMeta
    from biofeedback.tui.app import make_app
    from biofeedback.tui.widgets import BrailleChart
    from devices.fake_bluez import SimulatedBleSource

    config = SimConfig(duration_s=SCREEN_S * SCREEN_SPEED + 10.0, seed=2)
    source: SimulatedH10Source | SimulatedBleSource
    if fake_bluez:
        source = SimulatedBleSource(config, speed=SCREEN_SPEED, h10=True)
    else:
        source = SimulatedH10Source(SimulatedStrap(config), speed=SCREEN_SPEED)
    sent_at: list[float] = []
    received_t: list[float] = []
    waveforms = source.waveforms

    async def timed() -> Any:
        async for event in waveforms():
            if isinstance(event, EcgSamples):
                received_t.append(float(event.t_s[-1]))
                if not fake_bluez:
                    sent_at.append(time.perf_counter())
            yield event

    name = "encode_ecg_frame"  # the fake's own binding of the codec's function
    encode = getattr(fake_pmd, name)

    def encode_timed(frame: Any) -> bytes:
        sent_at.append(time.perf_counter())
        out: bytes = encode(frame)
        return out

    source.waveforms = timed  # type: ignore[method-assign]
    setattr(fake_pmd, name, encode_timed)
    painted: list[tuple[float, float]] = []
    render = BrailleChart.render

    def paint(self: BrailleChart) -> Any:
        out = render(self)
        if self.id == "ecg" and self.data is not None and self.data.xs.size:
            painted.append((float(np.nanmax(self.data.xs)), time.perf_counter()))
        return out

    BrailleChart.render = paint  # type: ignore[method-assign]
    meta = SessionMeta(source="simulated", device={"name": "sim"})
    clock = SessionClock(speed=SCREEN_SPEED, origin_s=0.0)
    pipeline = LivePipeline(source, clock=clock, meta=meta, record=False)
    app = make_app(pipeline, title="bench")
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await asyncio.sleep(SCREEN_S)
            cpu = time.process_time() - cpu0
            wall = time.perf_counter() - wall0
            await pilot.press("q")
    finally:
        BrailleChart.render = render  # type: ignore[method-assign]
        setattr(fake_pmd, name, encode)
    shown_t = np.array([p[0] for p in painted])
    shown_at = np.array([p[1] for p in painted])
    lat = []
    # The k-th frame received is the k-th sent (in order, none lost on the fake's bus).
    for t_last, at in list(zip(received_t, sent_at, strict=False))[2:]:
        i = np.flatnonzero((shown_t >= t_last - 1e-9) & (shown_at >= at))
        if len(i):
            lat.append(shown_at[i[0]] - at)
    lat_a = np.array(lat)
    stack = (
        "fake BlueZ (D-Bus) -> bleak -> BleH10Source -> LivePipeline -> dashboard"
        if fake_bluez
        else "in-process simulated H10 -> LivePipeline -> dashboard"
    )
    return {
        "stack": stack + " (Textual run_test, headless)",
        "frames": len(received_t),
        "frames_painted": len(lat),
        "speed": SCREEN_SPEED,
        "median_ms": _q_ms(lat_a, 0.5),
        "p95_ms": _q_ms(lat_a, 0.95),
        "max_ms": _q_ms(lat_a, 1.0),
        "process_cpu_pct_of_a_core": 100 * cpu / wall,
    }


def main() -> None:
    events, source = asyncio.run(_frames(DURATION_S, seed=7))
    runs = [latency(events, source, LOOKAHEAD_S), latency(events, source, 0.25)]
    alone = one_by_one(LOOKAHEAD_S)
    screens = [asyncio.run(sample_to_screen(fake)) for fake in (True, False)]
    print(
        f"detector's own latency, samples fed one at a time ({alone['seconds']:.0f} s simulated, "
        f"{alone['beats']} beats, {alone['ventricular_beats']} ventricular; lookahead "
        f"{alone['lookahead_s'] * 1000:.0f} ms): median {alone['ms']['median']:.0f} ms "
        f"({alone['samples_median']:.0f} samples), p95 {alone['ms']['p95']:.0f}, max "
        f"{alone['ms']['max']:.0f} ms ({alone['samples_max']:.0f} samples); "
        f"{alone['beats_over_300_ms']} beats over 300 ms"
    )
    print(f"online R-peaks on {DURATION_S / 60:.0f} min of the simulated H10 (73-sample frames)")
    head = (
        "lookahead  Se %    +P %   |err| ms  from R sample med/p95  = frame wait med/p95"
        "  + detector after its frame med/p95"
    )
    print(head)
    for r in runs:
        fs, af = r["from_r_peak_sample_ms"], r["after_its_frame_arrived_ms"]
        fw = r["frame_wait_ms"]
        print(
            f"{r['lookahead_s'] * 1000:6.0f} ms {r['sensitivity_pct']:6.2f} "
            f"{r['positive_predictivity_pct']:7.2f} {r['median_abs_timing_error_ms']:8.2f}"
            f"   {fs['median']:6.0f} / {fs['p95']:4.0f} ms         "
            f"{fw['median']:5.0f} / {fw['p95']:4.0f} ms       "
            f"{af['median']:5.0f} / {af['p95']:4.0f} ms"
        )
    r = runs[0]
    print(
        f"compute per frame: median {r['compute_per_frame_ms']['median']:.2f} ms, "
        f"p95 {r['compute_per_frame_ms']['p95']:.2f} ms"
    )
    print(f"CPU of live ECG + ACC processing: {r['cpu_pct_of_a_core']:.2f} % of a core")
    for screen in screens:
        print(
            f"ECG sample to screen, {screen['stack']}, {SCREEN_SPEED:g}x: median "
            f"{screen['median_ms']:.0f} ms, p95 {screen['p95_ms']:.0f} ms, max "
            f"{screen['max_ms']:.0f} ms over {screen['frames_painted']} frames; whole process "
            f"{screen['process_cpu_pct_of_a_core']:.1f} % of a core"
        )
    RESULTS.write_text(
        json.dumps(
            {
                "duration_s": DURATION_S,
                "ecg_frame_samples": 73,
                "latency": runs,
                "detector_latency_one_sample_at_a_time": alone,
                "cpu_pct_of_a_core": r["cpu_pct_of_a_core"],
                "sample_to_screen": screens,
                "python": sys.version.split()[0],
                "machine": platform.machine(),
                "note": "2 shared cores; timings vary with load",
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
