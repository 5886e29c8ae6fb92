"""The simulated Polar H10 in process: the strap's heart-rate events plus its PMD ECG and ACC.

:class:`SimulatedH10Source` is a :class:`~devices.source.WaveformSource`: its :meth:`events`
are what :class:`~devices.simulator.source.SimulatedSource` yields (connection, battery, 0x2A37
measurements, link changes), and its :meth:`waveforms`, paced alike, are the H10's PMD streams
as a client sees them: ECG frames of :data:`ECG_PER_FRAME` samples at 130 Hz and ACC frames of
:data:`ACC_PER_FRAME` samples (FACTS.md §4.4-4.5, the fake BlueZ's frame sizes), in time order,
each stamped with the sensor time of its last sample and placed on the session clock by
:class:`~devices.pmd_stream.PmdTimeline`, so they arrive as
:class:`~devices.pmd_stream.EcgSamples` and :class:`~devices.pmd_stream.AccSamples`.

The waveforms (:mod:`.ecg`, :mod:`.acc`) follow the ground truth of a twin of the strap (same
config and seed, so the same session); they are generated as far as its truth reaches (the
strap simulates in 600-s chunks) less one second, so every R-peak's neighbours are known, and
what was generated stays as it was when more is. A link outage of the heart-rate simulation is
an outage of the PMD streams too: no frames while the link is down, and a
:class:`~devices.pmd_stream.PmdGap`.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from numpy.typing import NDArray

from devices.events import DeviceInfo, SourceEvent
from devices.pmd import AccFrame, EcgFrame, MeasurementType
from devices.pmd_stream import PmdTimeline
from devices.simulator.acc import AccConfig, SimulatedAcc, simulate_acc
from devices.simulator.ecg import ECG_FS_HZ, EcgConfig, SimulatedEcg, simulate_ecg
from devices.simulator.packetizer import SimEvent, SimLinkDown, SimLinkUp
from devices.simulator.source import SimulatedSource, pace
from devices.simulator.strap import SimulatedStrap
from devices.simulator.truth import GroundTruth

if TYPE_CHECKING:
    from devices.source import WaveformEvent

ECG_PER_FRAME: Final = 73
ACC_PER_FRAME: Final = 36
SENSOR_T0_NS: Final = (1_735_689_600 - 946_684_800) * 1_000_000_000
"""2025-01-01T00:00:00Z on the sensor clock (ns since 2000-01-01), as the fake BlueZ's H10."""
_MARGIN_S: Final = 1.0
_YIELD_EVERY: Final = 64

H10_DEVICE: Final = DeviceInfo(
    name="Simulated Polar H10", address="SIM:00:00:00:00:10", kind="simulated"
)


@dataclass(frozen=True, slots=True)
class _Stream:
    measurement: MeasurementType
    fs_hz: int
    per_frame: int


class SimulatedH10Source:
    """A :class:`SimulatedSource` with the H10's ECG and ACC streams beside it."""

    device: DeviceInfo = H10_DEVICE

    def __init__(
        self,
        strap: SimulatedStrap,
        *,
        speed: float | None = 1.0,
        clock_offset_s: float = 0.0,
        ecg: EcgConfig | None = None,
        acc: AccConfig | None = None,
    ) -> None:
        if speed is not None and not speed > 0:
            raise ValueError("speed must be positive (or None for as fast as possible)")
        self.strap = strap
        self.speed = speed
        self.clock_offset_s = clock_offset_s
        seed = strap.config.seed
        self.ecg_config = ecg if ecg is not None else EcgConfig(seed=seed)
        self.acc_config = acc if acc is not None else AccConfig(seed=seed)
        self._ecg: SimulatedEcg | None = None
        self._acc: SimulatedAcc | None = None
        self._generated_s = 0.0
        self._twin: SimulatedStrap | None = None
        self._streams = (
            _Stream(MeasurementType.ECG, ECG_FS_HZ, ECG_PER_FRAME),
            _Stream(MeasurementType.ACC, self.acc_config.fs_hz, ACC_PER_FRAME),
        )

    @property
    def ecg(self) -> SimulatedEcg | None:
        """The ECG generated so far (ground truth: R-peak times, ventricular beats)."""
        return self._ecg

    @property
    def acc(self) -> SimulatedAcc | None:
        return self._acc

    @property
    def waveform_truth(self) -> GroundTruth:
        """The ground truth the waveforms were generated from (as far as they reach)."""
        return (self._twin or self.strap).truth

    def _frame_end_s(self, stream: _Stream, k: int) -> float:
        return ((k + 1) * stream.per_frame - 1) / stream.fs_hz

    def _covered_s(self, strap: SimulatedStrap) -> float:
        truth = strap.truth
        end_s = strap.config.end_s
        last = float(truth.t_s[-1]) - _MARGIN_S if len(truth.t_s) else 0.0
        return min(end_s, last) if math.isfinite(end_s) else last

    def _extend(self, strap: SimulatedStrap) -> float:
        """Waveforms as far as ``strap``'s truth reaches (less a margin); how far that is."""
        covered = self._covered_s(strap)
        if covered > self._generated_s + 1.0 or (self._ecg is None and covered > 0):
            truth = strap.truth
            ecg = simulate_ecg(truth, covered, self.ecg_config)
            acc = simulate_acc(truth, covered, self.acc_config, ecg.motion_s)
            if self._ecg is not None and self._acc is not None:
                # What was generated before stays as it was (it may have been sent already).
                ecg = replace(ecg, samples_uv=_splice(self._ecg.samples_uv, ecg.samples_uv))
                acc = replace(acc, samples_mg=_splice(self._acc.samples_mg, acc.samples_mg))
            self._ecg, self._acc = ecg, acc
            self._generated_s = covered
        return self._generated_s

    def _ready(self, strap: SimulatedStrap, due_s: float) -> bool:
        """Whether the waveforms reach ``due_s`` (generating more when the truth allows)."""
        return due_s <= self._generated_s or self._extend(strap) >= due_s

    def _frame(self, stream: _Stream, k: int) -> EcgFrame | AccFrame:
        first = k * stream.per_frame
        last = first + stream.per_frame - 1
        ts = SENSOR_T0_NS + round(last * 1e9 / stream.fs_hz)
        if stream.measurement is MeasurementType.ECG:
            assert self._ecg is not None
            chunk = self._ecg.samples_uv[first : last + 1]
            return EcgFrame(ts, tuple(int(v) for v in chunk))
        assert self._acc is not None
        xyz = self._acc.samples_mg[first : last + 1]
        return AccFrame(ts, tuple((int(a), int(b), int(c)) for a, b, c in xyz))

    async def events(self) -> AsyncGenerator[SourceEvent, None]:
        """The strap's heart-rate events, as :class:`SimulatedSource` yields them."""
        inner = SimulatedSource(self.strap, speed=self.speed, clock_offset_s=self.clock_offset_s)
        inner.device = self.device
        async with aclosing(inner.events()) as events:
            async for event in events:
                yield event

    async def waveforms(self) -> AsyncGenerator[WaveformEvent, None]:
        """The PMD streams' samples in time order, paced at ``speed`` like :meth:`events`.

        A twin of the strap (same config, same seed: the same truth) is advanced as far as the
        frames need, so this runs independently of how far :meth:`events` has been read."""
        twin = SimulatedStrap(self.strap.config)
        script = twin.events()
        self._twin = twin
        pending: SimEvent | None = next(script, None)
        timelines = {s.measurement: PmdTimeline(s.measurement, s.fs_hz) for s in self._streams}
        frame_k = dict.fromkeys((s.measurement for s in self._streams), 0)
        start_real_s = time.monotonic()
        link_up = True
        n = 0
        while True:
            stream = min(self._streams, key=lambda s: self._frame_end_s(s, frame_k[s.measurement]))
            k = frame_k[stream.measurement]
            due_s = self._frame_end_s(stream, k)
            # Link changes up to this frame; the truth far enough past it.
            while pending is not None and (pending.t_s <= due_s or self._extend(twin) < due_s):
                if isinstance(pending, SimLinkDown) and link_up:
                    link_up = False
                    for timeline in timelines.values():
                        yield timeline.restart(self.clock_offset_s + pending.t_s, "link lost")
                elif isinstance(pending, SimLinkUp):
                    link_up = True
                pending = next(script, None)
            if not self._ready(twin, due_s):
                return  # the end of the simulation
            frame_k[stream.measurement] = k + 1
            if not link_up:
                continue  # lost over the air
            n += 1
            await self._wait_until(due_s, start_real_s, n)
            arrival = self.clock_offset_s + due_s
            for out in timelines[stream.measurement].feed(self._frame(stream, k), arrival):
                yield out

    async def _wait_until(self, sim_t_s: float, start_real_s: float, n: int) -> None:
        await pace(self.speed, sim_t_s, start_real_s, n, _YIELD_EVERY)


def _splice(old: NDArray[Any], new: NDArray[Any]) -> NDArray[Any]:
    out: NDArray[Any] = np.concatenate([old, new[len(old) :]])
    return out
