"""Shared by the dashboard tests: a scripted fake pipeline, a seeded simulated session and a
fake trigger comparison.

The HRV numbers come from the real :class:`HrvProcessor` run here, in the test, as the live
pipeline would; the dashboard itself never computes them.
"""

from __future__ import annotations

import asyncio
import functools
import math
import threading
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from biofeedback.analysis.view import CompareView, ForestPoint
from biofeedback.hrv.processor import HrvProcessor
from biofeedback.live.messages import (
    MarkerRecorded,
    PipelineEvent,
    RecordingChanged,
    SegmentEnded,
    SegmentKind,
    SegmentStarted,
    SnapshotComputed,
)
from biofeedback.live.summary import SessionTally
from devices.events import (
    BatteryRead,
    Beat,
    Connected,
    DeviceInfo,
    MeasurementReceived,
    SignalStrength,
)
from devices.heart_rate import HeartRateMeasurement, SensorContact


class FakePipeline:
    """Yields scripted events, records control calls and answers them as the pipeline would."""

    def __init__(self, script: Iterable[PipelineEvent] = ()) -> None:
        self.queue: asyncio.Queue[PipelineEvent] = asyncio.Queue()
        self.calls: list[str] = []
        self.ratings: list[tuple[str, int, int]] = []
        self.recording = False
        self.t_s = 0.0
        self.push(*script)

    def push(self, *events: PipelineEvent) -> None:
        for event in events:
            self.t_s = max(self.t_s, getattr(event, "t_s", self.t_s))
            if isinstance(event, RecordingChanged):
                self.recording = event.recording
            self.queue.put_nowait(event)

    async def events(self) -> AsyncIterator[PipelineEvent]:
        while True:
            yield await self.queue.get()

    async def start_recording(self) -> None:
        self.calls.append("start_recording")
        self.push(RecordingChanged(self.t_s, True, 7))

    async def stop_recording(self) -> None:
        self.calls.append("stop_recording")
        self.push(RecordingChanged(self.t_s, False, 7))

    async def next_segment(self) -> None:
        self.calls.append("next_segment")

    async def previous_segment(self) -> None:
        self.calls.append("previous_segment")

    async def toggle_pause(self) -> None:
        self.calls.append("toggle_pause")
        self.push(MarkerRecorded(self.t_s, "playback", "paused"))

    async def mark_trigger_start(self) -> None:
        self.calls.append("mark_trigger_start")
        self.push(MarkerRecorded(self.t_s, "playback", "started", "manual"))

    async def mark_trigger_stop(self) -> None:
        self.calls.append("mark_trigger_stop")
        self.push(MarkerRecorded(self.t_s + 1.0, "playback", "ended:stopped", "manual"))

    async def mark_tingle(self) -> None:
        self.calls.append("mark_tingle")
        self.push(MarkerRecorded(self.t_s, "tingle", "key"))

    async def record_rating(self, label: str, relaxation: int, tingles: int) -> None:
        self.calls.append("record_rating")
        self.ratings.append((label, relaxation, tingles))
        ratings = {"relaxation": relaxation, "tingles": tingles}
        self.push(MarkerRecorded(self.t_s, "rating", label, ratings))


@dataclass(frozen=True)
class Block:
    label: str
    kind: SegmentKind
    duration_s: float
    media: str | None
    mean_rr_ms: float
    rsa_ms: float
    breath_hz: float


PROTOCOL = (
    Block("settling", SegmentKind.SETTLING, 60.0, None, 820.0, 25.0, 0.25),
    Block("baseline", SegmentKind.BASELINE, 150.0, None, 830.0, 28.0, 0.25),
    Block("whispering", SegmentKind.TRIGGER, 180.0, "whispering.mp4", 900.0, 55.0, 0.12),
    Block("washout", SegmentKind.WASHOUT, 60.0, None, 850.0, 35.0, 0.22),
    Block("tapping", SegmentKind.TRIGGER, 240.0, "tapping.mp4", 930.0, 60.0, 0.2),
)


def seeded_session(
    until_s: float = 600.0, seed: int = 7, irregular_from_s: float | None = None
) -> list[PipelineEvent]:
    """A deterministic recorded session up to ``until_s`` (the last block still running).

    From ``irregular_from_s`` on the intervals are irregularly irregular (independent, uniform
    within ±35 % of the block's mean: AF-like), so the processor withholds HRV after its
    confirmation delay. Computed once per worker for each argument set: the events are frozen,
    the list is the caller's own.
    """
    return list(_seeded_session(until_s, seed, irregular_from_s))


@functools.cache
def _seeded_session(
    until_s: float, seed: int, irregular_from_s: float | None = None
) -> tuple[PipelineEvent, ...]:
    rng = np.random.default_rng(seed)
    processor = HrvProcessor()
    events: list[PipelineEvent] = [
        Connected(0.0, DeviceInfo("Simulated H10", "SIM:00:00:00:00:07", "simulated")),
        BatteryRead(0.0, 80),
        SignalStrength(0.0, -61),
        RecordingChanged(0.0, True, 7),
    ]
    t_s, index, start_s = 0.0, 0, 0.0
    for number, block in enumerate(PROTOCOL):
        if start_s >= until_s:
            break
        events.append(
            SegmentStarted(start_s, number, block.label, block.kind, block.duration_s, block.media)
        )
        processor.begin_segment(block.kind.value, block.label, start_s)
        end_s = start_s + block.duration_s
        while t_s < min(end_s, until_s):
            rr_ms = (
                block.mean_rr_ms
                + block.rsa_ms * math.sin(2 * math.pi * block.breath_hz * t_s)
                + rng.normal(0.0, 12.0)
            )
            if irregular_from_s is not None and t_s >= irregular_from_s:
                rr_ms = block.mean_rr_ms * rng.uniform(0.65, 1.35)
            raw = round(rr_ms * 1.024)
            rr_ms = raw / 1.024
            t_s += rr_ms / 1000.0
            measurement = HeartRateMeasurement(
                round(60000 / rr_ms), SensorContact.DETECTED, None, (raw,)
            )
            beat = Beat(t_s, rr_ms, raw, 0, index)
            index += 1
            events += [MeasurementReceived(t_s, 1.8e9 + t_s, b"", measurement), beat]
            snapshot = processor.push(beat)
            if snapshot is not None:
                events.append(SnapshotComputed(snapshot))
            if block.kind is SegmentKind.TRIGGER and index % 97 == 0:
                events.append(MarkerRecorded(t_s, "tingle", "key"))
        if t_s >= end_s:
            events.append(SegmentEnded(end_s, number, block.label, True, block.duration_s))
            processor.end_segment(end_s)
        start_s = end_s
    return tuple(events)


COMPARE_COLUMNS = (
    "trigger",
    "n",
    "mean change",
    "95 % interval",
    "P(best)",
    "verdict",
    "vs washout",
)
COMPARE_ROWS = (
    ("whispering", "5", "+0.31", "[+0.12, +0.50]", "71%", "responds (more relaxing)", "+0.22"),
    ("tapping", "5", "+0.12", "[-0.05, +0.28]", "25%", "no clear response", "+0.05"),
    ("crinkling", "2", "-0.04", "-", "-", "not enough data", "-"),
)
FOREST = (
    ForestPoint("whispering", 0.31, 0.12, 0.50, "responds"),
    ForestPoint("tapping", 0.12, -0.05, 0.28, "no clear response"),
    ForestPoint("crinkling", -0.04, math.nan, math.nan, "not enough data"),
)
ORDER_WARNING = "the order of the triggers was never varied: order and trigger are confounded"


def fake_view(metric_key: str) -> CompareView:
    """A comparison as ``compare_view`` would give it, titled with the metric asked for."""
    return CompareView(
        title=f"{metric_key} vs baseline, 5 of 5 sessions; SWC ±0.060",
        unit="ln ms",
        columns=COMPARE_COLUMNS,
        rows=COMPARE_ROWS,
        forest=FOREST,
        swc=0.06,
        warnings=(ORDER_WARNING,),
    )


class FakeCompare:
    """Answers each metric with :func:`fake_view`; a cleared ``gate`` holds the answer back."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, metric_key: str) -> CompareView:
        self.requests.append(metric_key)
        self.gate.wait(10.0)
        return fake_view(metric_key)


def seeded_summary(session_id: int = 7) -> dict[str, Any]:
    """The summary the pipeline hands over when the seeded protocol has run to its end."""
    tally = SessionTally()
    for event in seeded_session(FULL_PROTOCOL_S + 1.0):
        tally.add(event)
        if isinstance(event, SnapshotComputed):
            tally.add_snapshot(event.snapshot)
    summary = tally.summary()
    summary["session_id"] = session_id
    summary["status"] = "complete"
    return summary


FULL_PROTOCOL_S = sum(block.duration_s for block in PROTOCOL)
