"""Run a simulated strap to completion, as fast as possible, and keep everything it produced."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from biofeedback.live.sources import SourceOptions, simulator_config
from biofeedback.sessions.bundle import BEAT_COLUMNS, PACKET_COLUMNS, SessionBundle
from devices.events import Beat, DeviceInfo, MalformedPacket, MeasurementReceived
from devices.simulator import GroundTruth, SimConfig, SimulatedSource, SimulatedStrap
from devices.source import with_beats


@dataclass(slots=True)
class Recording:
    """Beats and raw packets of one run, in arrival order."""

    device: DeviceInfo
    config: SimConfig
    truth: GroundTruth
    beats: list[Beat] = field(default_factory=list)
    packets: list[MeasurementReceived | MalformedPacket] = field(default_factory=list)


async def record_simulation(opts: SourceOptions) -> Recording:
    config = simulator_config(opts)
    strap = SimulatedStrap(config)
    source = SimulatedSource(strap, speed=None)
    rec = Recording(source.device, config, strap.truth)
    async for event in with_beats(source):
        if isinstance(event, Beat):
            rec.beats.append(event)
        elif isinstance(event, MeasurementReceived | MalformedPacket):
            rec.packets.append(event)
    rec.truth = strap.truth
    return rec


def _column(values: np.ndarray[Any, Any]) -> list[Any]:
    return [v.tolist() for v in values] if values.ndim > 1 else values.tolist()


def truth_columns(truth: GroundTruth) -> dict[str, Any]:
    """The ground truth as JSON-ready columns, grouped by table."""
    beats = ("t_s", "rr_true_ms", "vagal_tone", "breathing_rate_hz", "hr_bpm", "segment_index")
    detections = ("sent_t_s", "sent_rr_raw", "rr_sent_ms", "sent_artifact", "sent_packet_index")
    return {
        "beats": {name: _column(getattr(truth, name)) for name in (*beats, "artifact")},
        "detections": {name: _column(getattr(truth, name)) for name in detections},
        "tingle_t_s": _column(truth.tingle_t_s),
        "contact_loss_s": _column(truth.contact_loss_s),
        "outages_s": _column(truth.outages_s),
    }


def recording_to_bundle(rec: Recording, opts: SourceOptions) -> SessionBundle:
    start = 0.0
    segments: list[dict[str, Any]] = []
    for seg in rec.config.segments:
        segments.append({"label": seg.label, "start_s": start, "end_s": start + seg.duration_s})
        start += seg.duration_s
    beats: dict[str, list[Any]] = {c: [] for c in BEAT_COLUMNS}
    for b in rec.beats:
        for name, value in zip(
            BEAT_COLUMNS, (b.t_s, b.rr_ms, b.rr_raw, b.segment, int(b.flags)), strict=True
        ):
            beats[name].append(value)
    packets: dict[str, list[Any]] = {c: [] for c in PACKET_COLUMNS}
    for p in rec.packets:
        for name, cell in zip(PACKET_COLUMNS, (p.t_s, p.wall_s, p.raw.hex()), strict=True):
            packets[name].append(cell)
    return SessionBundle(
        session={
            "source": "simulated",
            "profile": rec.config.profile.name,
            "seed": rec.config.seed,
            "started_wall_s": packets["wall_s"][0] if packets["wall_s"] else None,
            "segments_spec": opts.segments,
            "artifacts_spec": opts.artifacts,
            "latency_max_s": rec.config.latency_max_s,
            "notes": "",
        },
        device={"name": rec.device.name, "address": rec.device.address, "kind": rec.device.kind},
        segments=segments,
        packets=packets,
        beats=beats,
        truth=truth_columns(rec.truth),
    )
