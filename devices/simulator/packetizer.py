"""The strap's radio side: turns detected RRs into Heart Rate Measurement notifications.

Behaves like the straps described in FACTS.md §4.1 and §4.3: about one notification per second
with the RRs that became ready since the last one (0, 1, 2...), at most the per-flag limit with
the overflow carried to the next notification (Nordic ``ble_hrs.c``), RRs delivered late but in
order, ``startup_packets`` notifications without RR after each (re)connection, contact bits, a
smoothed heart-rate byte, and malformed notifications that carry no good beat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from devices.heart_rate import max_rr_per_packet
from devices.simulator.artifacts import inside
from devices.simulator.config import SimConfig
from devices.simulator.physiology import STREAM_PACKETS, stream_rng

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

KJ_PER_BEAT: Final = 0.077
"""Energy expended per beat at rest: about 5 kJ/min at 65 bpm."""
RR_BUFFER: Final = 20
"""RRs a strap holds for sending; the Nordic SDK's default."""
_BLOCK: Final = 4096
_BYTE: Final = [bytes([i]) for i in range(256)]


@dataclass(frozen=True, slots=True)
class SimPacket:
    """A notification's payload and its arrival time (s since start, simulated clock)."""

    t_s: float
    data: bytes


@dataclass(frozen=True, slots=True)
class SimLinkDown:
    """The strap drops the link (a disconnect artifact)."""

    t_s: float


@dataclass(frozen=True, slots=True)
class SimLinkUp:
    """The link is back; start-up notifications follow."""

    t_s: float


SimEvent = SimPacket | SimLinkDown | SimLinkUp


def _malformed(kind: int, hr: int) -> bytes:
    """Five ways a notification arrives broken, none of which holds a complete RR."""
    if kind == 0:
        return b""
    if kind == 1:
        return b"\x16"
    if kind == 2:
        return bytes([0x1E, hr, 0x12])
    if kind == 3:
        return bytes([0x16, hr, 0x03])
    return bytes([0x06, hr, 0x00])


class Packetizer:
    """Schedules notifications and fills them; state carries over between :meth:`feed` calls."""

    def __init__(self, config: SimConfig, hr_start_bpm: float, phase_s: float) -> None:
        self._config = config
        self._limit = max_rr_per_packet(hr_uint16=config.hr_uint16, energy=config.energy_expended)
        self._phase_s = phase_s
        self._next_slot = 0
        self.packet_t_s: list[float] = []
        self.packet_malformed: list[bool] = []
        self._startup_left = config.startup_packets
        self._hr_bpm = round(hr_start_bpm)
        self._link_events: list[tuple[float, bool]] = []
        self._outages_seen = 0
        self._ready = np.empty(0)
        self._rr = np.empty(0, dtype=np.int64)
        self._index = np.empty(0, dtype=np.int64)
        self._hr = np.empty(0)
        self._beats = 0
        self._block = -1
        self._draws = np.empty((3, 0))

    def _slot_draws(self, slots: I64) -> F64:
        """Per-slot random numbers (malformed?, kind, when), drawn in fixed blocks of slots."""
        out = np.empty((3, len(slots)))
        for block in np.unique(slots // _BLOCK).tolist():
            if block != self._block:
                rng = stream_rng(self._config.seed, STREAM_PACKETS, block)
                self._draws = rng.random((3, _BLOCK))
                self._block = block
            here = slots // _BLOCK == block
            out[:, here] = self._draws[:, slots[here] % _BLOCK]
        return out

    def _bodies(self, ends: I64) -> tuple[bytes, int]:
        """Heart-rate (and energy) fields of each notification, concatenated, and their width."""
        cfg = self._config
        hr = np.full(len(ends), self._hr_bpm, dtype=np.int64)
        known = ends > 0
        hr[known] = np.rint(self._hr[ends[known] - 1])
        if len(hr):
            self._hr_bpm = int(hr[-1])
        columns = (
            [hr.astype("<u2").view(np.uint8).reshape(-1, 2)]
            if cfg.hr_uint16
            else [hr.astype(np.uint8).reshape(-1, 1)]
        )
        if cfg.energy_expended:
            beats = np.full(len(ends), self._beats, dtype=np.int64)
            beats[known] = self._index[ends[known] - 1] + 1
            if len(beats):
                self._beats = int(beats[-1])
            energy = np.minimum(0xFFFF, (KJ_PER_BEAT * beats).astype(np.int64))
            columns.append(energy.astype("<u2").view(np.uint8).reshape(-1, 2))
        body = np.hstack(columns)
        return body.tobytes(), body.shape[1]

    def feed(
        self,
        ready_s: F64,
        rr_raw: I64,
        det_index: I64,
        hr_bpm: F64,
        until_s: float,
        outages: list[tuple[float, float]],
        contact: list[tuple[float, float]],
    ) -> tuple[list[SimEvent], I64, I64]:
        """Emit every event before ``until_s`` given the newly ready RRs (sorted by ready time).

        Returns the events, and for each delivered RR its detection index and packet index.
        """
        cfg = self._config
        self._ready = np.concatenate([self._ready, ready_s])
        self._rr = np.concatenate([self._rr, rr_raw])
        self._index = np.concatenate([self._index, det_index])
        self._hr = np.concatenate([self._hr, hr_bpm])
        for start, end in outages[self._outages_seen :]:
            self._link_events += [(start, False), (end, True)]
        self._outages_seen = len(outages)
        period = cfg.notify_period_s
        n_slots = max(0, int(np.ceil((until_s - self._phase_s) / period)) - self._next_slot)
        slots = self._next_slot + np.arange(n_slots)
        times: F64 = self._phase_s + period * slots.astype(np.float64)
        slots, times = slots[times < until_s], times[times < until_s]
        self._next_slot += len(slots)
        live = (~inside(times, outages)).tolist()
        no_contact_mask = inside(times, contact) if cfg.contact_supported else np.zeros(0, bool)
        no_contact = no_contact_mask.tolist() if cfg.contact_supported else [False] * len(times)
        ends_arr = np.searchsorted(self._ready, times, side="right")
        ends = ends_arr.tolist()
        bodies, width = self._bodies(ends_arr)
        contact_bits = 0x06 if cfg.contact_supported else 0x00
        base = (0x01 if cfg.hr_uint16 else 0) | (0x08 if cfg.energy_expended else 0)
        u_bad, u_kind, u_when = self._slot_draws(slots)
        t_bad_arr = times + period * (0.1 + 0.4 * u_when)
        bad = (u_bad < cfg.artifacts.malformed) & (t_bad_arr < until_s)
        bad &= ~inside(t_bad_arr, outages)
        bad_l, kind_l, t_bad_l = bad.tolist(), (u_kind * 5).astype(int).tolist(), t_bad_arr.tolist()
        rr_bytes = self._rr.astype("<u2").tobytes()
        limit = self._limit
        events: list[SimEvent] = []
        starts: list[int] = []
        counts: list[int] = []
        carriers: list[int] = []
        packet_t, packet_bad = self.packet_t_s, self.packet_malformed
        pos = 0
        for i, t in enumerate(times.tolist()):
            if self._link_events and self._link_events[0][0] <= t:
                pos = self._link_changes(t, pos, events)
            if not live[i]:
                continue
            end = ends[i]
            n = 0
            if self._startup_left > 0 or no_contact[i]:
                if self._startup_left > 0:
                    self._startup_left -= 1
                if end > pos:
                    pos = end
            else:
                if end - pos > RR_BUFFER:
                    # A full RR buffer drops its oldest values (nRF Connect SDK, FACTS.md §4.1).
                    pos = end - RR_BUFFER
                if end > pos:
                    n = end - pos if end - pos < limit else limit
            flags = base | (0x04 if no_contact[i] else contact_bits) | (0x10 if n else 0)
            body = bodies[i * width : (i + 1) * width]
            events.append(SimPacket(t, _BYTE[flags] + body + rr_bytes[2 * pos : 2 * (pos + n)]))
            if n:
                starts.append(pos)
                counts.append(n)
                carriers.append(len(packet_t))
                pos += n
            packet_t.append(t)
            packet_bad.append(False)
            if bad_l[i]:
                events.append(SimPacket(t_bad_l[i], _malformed(kind_l[i], body[0])))
                packet_t.append(t_bad_l[i])
                packet_bad.append(True)
        pos = self._link_changes(np.nextafter(until_s, -np.inf), pos, events)
        total = sum(counts)
        offsets = np.repeat(np.array(starts) - np.cumsum([0, *counts[:-1]]), counts)
        delivered = self._index[offsets.astype(np.int64) + np.arange(total)]
        self._ready = self._ready[pos:]
        self._rr = self._rr[pos:]
        self._index = self._index[pos:]
        self._hr = self._hr[pos:]
        return events, delivered, np.repeat(np.array(carriers, dtype=np.int64), counts)

    def _link_changes(self, t_s: float, pos: int, events: list[SimEvent]) -> int:
        """Emit the link changes up to ``t_s``; RRs not delivered before one are lost."""
        while self._link_events and self._link_events[0][0] <= t_s:
            t_link, up = self._link_events.pop(0)
            events.append(SimLinkUp(t_link) if up else SimLinkDown(t_link))
            if up:
                self._startup_left = self._config.startup_packets
            pos = max(pos, int(np.searchsorted(self._ready, t_link, side="left")))
        return pos
