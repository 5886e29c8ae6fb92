"""Replay a recorded session as a live source: the same typed events, on the recording's clock.

A session bundle with raw packets is replayed notification by notification (the bytes are parsed
again, so a replay exercises the same path as a strap). A recording without packets (RR text,
HRM, an import) is replayed beat by beat, one packet per beat at the beat's time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path

from biofeedback.sessions.bundle import SessionBundle
from devices.errors import MalformedMeasurement
from devices.events import (
    Connected,
    DeviceInfo,
    Disconnected,
    DisconnectReason,
    MalformedPacket,
    MeasurementReceived,
    SourceEvent,
)
from devices.heart_rate import (
    HeartRateMeasurement,
    SensorContact,
    encode_measurement,
    parse_measurement,
)


def _packets(bundle: SessionBundle) -> Iterator[tuple[float, float, bytes]]:
    packets = bundle.packets
    if packets["hex"]:
        yield from zip(
            packets["t_s"],
            packets["wall_s"],
            (bytes.fromhex(h) for h in packets["hex"]),
            strict=True,
        )
        return
    start_wall = bundle.session.get("started_wall_s") or 0.0
    beats = bundle.beats
    for t_s, rr_ms, raw in zip(beats["t_s"], beats["rr_ms"], beats["rr_raw"], strict=True):
        rr_raw = int(raw) if raw is not None else round(float(rr_ms) * 1024 / 1000)
        hr = max(1, min(255, round(60000 / rr_ms))) if rr_ms > 0 else 0
        m = HeartRateMeasurement(hr, SensorContact.NOT_SUPPORTED, None, (min(rr_raw, 0xFFFF),))
        yield float(t_s), float(start_wall) + float(t_s), encode_measurement(m)


class ReplaySource:
    """Yields a recording's events at ``speed`` times real time (``None``: at once).

    Times are seconds since the recording's first packet (the session clock starts at 0).
    """

    def __init__(self, bundle: SessionBundle, *, speed: float | None = 1.0, name: str = "") -> None:
        self.bundle = bundle
        self.speed = speed
        self._device = DeviceInfo(
            name=f"replay of {name or bundle.device.get('name', 'a recording')}",
            address=str(bundle.device.get("address", "replay")),
            kind="replay",
        )

    @property
    def device(self) -> DeviceInfo:
        return self._device

    async def events(self) -> AsyncGenerator[SourceEvent, None]:
        start_real = time.monotonic()
        first: float | None = None
        last_t = 0.0
        for n, (t_abs_s, wall_s, raw) in enumerate(_packets(self.bundle)):
            if first is None:
                first = t_abs_s
                yield Connected(0.0, self._device)
            t_s = t_abs_s - first
            if self.speed is not None:
                delay = t_s / self.speed - (time.monotonic() - start_real)
                if delay > 0:
                    await asyncio.sleep(delay)
            elif n % 256 == 0:
                await asyncio.sleep(0)
            last_t = t_s
            try:
                yield MeasurementReceived(t_s, wall_s, raw, parse_measurement(raw))
            except MalformedMeasurement as exc:
                yield MalformedPacket(t_s, wall_s, raw, str(exc), exc.salvaged)
        if first is not None:
            yield Disconnected(last_t, DisconnectReason.USER, "end of the recording")


def open_replay(path: Path, *, speed: float | None) -> ReplaySource:
    from biofeedback.sessions.formats import read_as_bundle

    bundle = read_as_bundle(path)
    return ReplaySource(bundle, speed=speed, name=path.name)
