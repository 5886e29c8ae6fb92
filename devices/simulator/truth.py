"""Ground truth of a simulated session: every true beat, every detection, every packet."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from devices.heart_rate import RR_UNITS_PER_S

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """What really happened, for tests and for ``simulate --out``.

    Two tables. *True beats* (index ``i``): ``t_s`` is the beat time on the strap's 1/1024 s
    clock and ``rr_true_ms`` the interval ending there (before artifacts); ``artifact`` is the
    artifact drawn for that beat (:class:`~devices.simulator.artifacts.Artifact`);
    ``segment_index`` points into the config's segments (-1 past the timeline).
    *Detections* (index ``j``, prefix ``sent_``): the strap's beat detections after artifacts;
    ``rr_sent_ms`` is the RR it sends for the interval ending at ``sent_t_s`` (exactly
    ``sent_rr_raw * 1000 / 1024``); ``sent_packet_index`` is the index of the
    :class:`SimPacket` that carried it (counting every SimPacket in order), -1 if never
    delivered (start-up, contact loss, link down, past the end).
    """

    t_s: F64
    rr_true_ms: F64
    vagal_tone: F64
    """ln(RMSSD/ms) that the generator aimed for at this beat."""
    breathing_rate_hz: F64
    hr_bpm: F64
    """The mean heart rate the generator followed (without RSA, Mayer waves and noise)."""
    segment_index: NDArray[np.int16]
    artifact: NDArray[np.int8]
    sent_t_s: F64
    sent_rr_raw: I64
    rr_sent_ms: F64
    sent_artifact: NDArray[np.int8]
    sent_true_index: I64
    sent_packet_index: I64
    packet_t_s: F64
    packet_malformed: NDArray[np.bool_]
    tingle_t_s: F64
    tingle_hr_bpm: F64
    contact_loss_s: F64
    """Contact-loss episodes, shape (n, 2): start and end."""
    outages_s: F64
    """Link outages, shape (n, 2): SimLinkDown and SimLinkUp times."""

    @property
    def delivered(self) -> NDArray[np.bool_]:
        """Which detections reached the receiver."""
        mask: NDArray[np.bool_] = self.sent_packet_index >= 0
        return mask


class TruthBuilder:
    """Accumulates truth chunk by chunk; packet indices are filled in when RRs are delivered."""

    def __init__(self) -> None:
        self._true: list[tuple[NDArray[np.generic], ...]] = []
        self._det: list[tuple[NDArray[np.generic], ...]] = []
        self._packet_index = np.empty(0, dtype=np.int64)
        self._n_det = 0
        self._tingles: list[tuple[F64, F64]] = []
        self._cached: GroundTruth | None = None

    @property
    def n_detections(self) -> int:
        return self._n_det

    def add_beats(self, columns: tuple[NDArray[np.generic], ...]) -> None:
        """``(ticks, prev_tick, vagal, breathing, hr, segment, artifact)`` of new true beats."""
        self._true.append(columns)
        self._cached = None

    def add_tingles(self, t_s: F64, hr_bpm: F64) -> None:
        self._tingles.append((t_s, hr_bpm))

    def add_detections(self, columns: tuple[NDArray[np.generic], ...]) -> None:
        """``(ticks, prev_tick, label, true_index)`` of new detections."""
        n = len(columns[0])
        if self._n_det + n > len(self._packet_index):
            grown = np.full(max(2 * len(self._packet_index), self._n_det + n), -1, np.int64)
            grown[: self._n_det] = self._packet_index[: self._n_det]
            self._packet_index = grown
        self._det.append(columns)
        self._n_det += n
        self._cached = None

    def add_deliveries(self, det_index: I64, packet_index: I64) -> None:
        self._packet_index[det_index] = packet_index
        self._cached = None

    def build(
        self,
        end_s: float,
        contact: list[tuple[float, float]],
        outages: list[tuple[float, float]],
        packet_t_s: list[float],
        packet_malformed: list[bool],
    ) -> GroundTruth:
        """The truth so far, cut at ``end_s`` (packets are final when RRs are delivered)."""
        if self._cached is not None and len(self._cached.packet_t_s) == len(packet_t_s):
            return self._cached
        true = [np.concatenate(c) for c in zip(*self._true, strict=True)] if self._true else []
        det = [np.concatenate(c) for c in zip(*self._det, strict=True)] if self._det else []
        if not true:
            true = (
                [np.empty(0, np.int64)] * 2
                + [np.empty(0)] * 3
                + [np.empty(0, np.int16), np.empty(0, np.int8)]
            )
        if not det:
            det = [np.empty(0, np.int64)] * 2 + [np.empty(0, np.int8), np.empty(0, np.int64)]
        ticks, prev, vagal, breath, hr, seg, art = true
        keep = (prev >= 0) & (ticks < end_s * RR_UNITS_PER_S)
        d_ticks, d_prev, d_label, d_true = det
        d_keep = (d_prev >= 0) & (d_ticks < end_s * RR_UNITS_PER_S)
        d_raw = (d_ticks - d_prev)[d_keep]
        tingles = [np.concatenate(c) for c in zip(*self._tingles, strict=True)] or [np.empty(0)] * 2
        self._cached = GroundTruth(
            t_s=ticks[keep] / RR_UNITS_PER_S,
            rr_true_ms=(ticks - prev)[keep] * 1000.0 / RR_UNITS_PER_S,
            vagal_tone=vagal[keep],
            breathing_rate_hz=breath[keep],
            hr_bpm=hr[keep],
            segment_index=seg[keep],
            artifact=art[keep],
            sent_t_s=d_ticks[d_keep] / RR_UNITS_PER_S,
            sent_rr_raw=d_raw,
            rr_sent_ms=d_raw * 1000.0 / RR_UNITS_PER_S,
            sent_artifact=d_label[d_keep].astype(np.int8),
            sent_true_index=np.where(d_true[d_keep] >= 0, d_true[d_keep] - 1, -1),
            sent_packet_index=self._packet_index[: self._n_det][d_keep],
            packet_t_s=np.array(packet_t_s, dtype=np.float64),
            packet_malformed=np.array(packet_malformed, dtype=bool),
            tingle_t_s=tingles[0],
            tingle_hr_bpm=tingles[1],
            contact_loss_s=np.array([c for c in contact if c[0] < end_s]).reshape(-1, 2),
            outages_s=np.array([o for o in outages if o[0] < end_s]).reshape(-1, 2),
        )
        return self._cached
