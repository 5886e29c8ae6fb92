"""The simulated strap: physiology, detector artifacts, latency and the radio, chunk by chunk."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Final

import numpy as np
from numpy.typing import NDArray

from devices.heart_rate import RR_UNITS_PER_S
from devices.simulator.artifacts import Artifact, BeatArtifacts, Episodes, inside
from devices.simulator.config import SimConfig
from devices.simulator.packetizer import Packetizer, SimEvent
from devices.simulator.physiology import CHUNK_S, STREAM_SESSION, Physiology, stream_rng
from devices.simulator.recursion import one_pole
from devices.simulator.truth import GroundTruth, TruthBuilder

F64 = NDArray[np.float64]

HR_SMOOTHING: Final = 0.25
"""Weight of the newest beat in the heart-rate byte's exponential average (about 4 beats)."""
_LATENCY_TIME_S: Final = 120.0
_LATENCY_SPREAD: Final = 1.5
_STREAM_LATENCY: Final = 5


class SimulatedStrap:
    """A chest strap simulated from a :class:`SimConfig`; iterate :meth:`events`.

    Every call of :meth:`events` restarts the session from the seed and yields the same events;
    :attr:`truth` describes what has been generated so far.
    """

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self._start()

    def _start(self) -> None:
        cfg = self.config
        self._physiology = Physiology(cfg)
        self._artifacts = BeatArtifacts(cfg.artifacts, cfg.seed)
        self._episodes = Episodes(cfg.artifacts, cfg.seed)
        rng = stream_rng(cfg.seed, STREAM_SESSION, 1)
        phase_s = cfg.notify_period_s * rng.uniform(0.3, 0.9)
        self._latency_state = rng.normal(0.0, _LATENCY_SPREAD)
        self._packetizer = Packetizer(cfg, self._physiology.hr_rest_bpm, phase_s)
        self._builder = TruthBuilder()
        self._prev_tick = -1
        self._prev_lost = False
        self._hr_ema = self._physiology.hr_rest_bpm
        self._prev_ready = -math.inf
        self._n_true = 0

    @property
    def truth(self) -> GroundTruth:
        """Ground truth of everything generated so far, up to the session's end."""
        return self._builder.build(
            self.config.end_s,
            self._episodes.contact,
            self._episodes.outages,
            self._packetizer.packet_t_s,
            self._packetizer.packet_malformed,
        )

    def events(self) -> Iterator[SimEvent]:
        """Packets and link changes in time order, lazily, until the session's end."""
        self._start()
        end_s = self.config.end_s
        k = 0
        while True:
            until_s = self._chunk(k)
            events, det_index, packet_index = self._packetizer.feed(
                *self._pending,
                min(until_s, end_s),
                self._episodes.outages,
                self._episodes.contact,
            )
            self._builder.add_deliveries(det_index, packet_index)
            yield from events
            if until_s >= end_s:
                return
            k += 1

    def _chunk(self, k: int) -> float:
        """Generate chunk ``k`` up to the packetizer's input; returns the time it is final to."""
        beats = self._physiology.chunk(k)
        ticks = beats.ticks
        detections, drawn = self._artifacts.apply(ticks, self._n_true, k)
        self._episodes.draw(k)
        prev = np.concatenate([[self._prev_tick], ticks[:-1]])
        self._builder.add_beats(
            (
                ticks,
                prev,
                beats.vagal_tone,
                beats.breathing_rate_hz,
                beats.hr_bpm,
                beats.segment_index,
                drawn,
            )
        )
        self._builder.add_tingles(beats.tingle_t_s, beats.tingle_hr_bpm)
        self._n_true += len(ticks)
        if len(ticks):
            self._prev_tick = int(ticks[-1])
        t_det = detections.ticks / RR_UNITS_PER_S
        lost = inside(t_det, self._episodes.contact)
        lost_or_after = lost | np.concatenate([[self._prev_lost], lost[:-1]])
        if len(lost):
            self._prev_lost = bool(lost[-1])
        label = np.where(lost_or_after, np.int8(Artifact.CONTACT_LOSS), detections.label)
        first_det = self._builder.n_detections
        self._builder.add_detections(
            (detections.ticks, detections.prev_tick, label, detections.true_index)
        )
        send = ~lost_or_after & (detections.prev_tick >= 0)
        rr_raw = (detections.ticks - detections.prev_tick)[send]
        inst_bpm = 60.0 * RR_UNITS_PER_S / rr_raw
        a = HR_SMOOTHING
        hr_bpm = one_pole(a, 1.0 - a, inst_bpm, self._hr_ema)
        if len(hr_bpm):
            self._hr_ema = float(hr_bpm[-1])
        t_send = t_det[send]
        ready = np.maximum.accumulate(
            np.concatenate([[self._prev_ready], t_send + self._latency_s(k, t_send)])
        )[1:]
        if len(ready):
            self._prev_ready = float(ready[-1])
        self._pending = (ready, rr_raw, first_det + np.flatnonzero(send), hr_bpm)
        return float(ticks[-1] / RR_UNITS_PER_S) if len(ticks) else (k + 1) * CHUNK_S

    def _latency_s(self, k: int, t_s: F64) -> F64:
        """A slowly varying delivery delay in [0, latency_max_s] (FACTS.md §4.3: RRs 3-4 s old)."""
        rng = stream_rng(self.config.seed, _STREAM_LATENCY, k)
        n = int(CHUNK_S)
        a = math.exp(-1.0 / _LATENCY_TIME_S)
        eps = rng.standard_normal(n)
        x = one_pole(_LATENCY_SPREAD * math.sqrt(1 - a * a), a, eps, self._latency_state)
        self._latency_state = float(x[-1])
        grid = k * CHUNK_S + np.arange(1, n + 1)
        delay: F64 = self.config.latency_max_s / (1.0 + np.exp(-np.interp(t_s, grid, x)))
        return delay
