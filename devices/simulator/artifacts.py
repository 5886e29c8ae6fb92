"""Beat-detection artifacts (ectopic, missed, extra) and episodes (contact loss, disconnects).

Beat artifacts act on the strap's detection times, so they compose: an ectopic beat is detected
early (a short RR, then the compensatory long one), a missed beat is not detected (two RRs merge),
an extra detection splits an RR in two. Each true beat draws at most one artifact, and never
right after a beat that drew one, so every artifact is a clean textbook case (Lipponen &
Tarvainen 2019, doi:10.1080/03091902.2019.1640306).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from devices.simulator.config import ArtifactRates
from devices.simulator.physiology import (
    CHUNK_S,
    STREAM_BEAT_ARTIFACTS,
    STREAM_EPISODES,
    stream_rng,
)

I64 = NDArray[np.int64]
I8 = NDArray[np.int8]
F64 = NDArray[np.float64]

CONTACT_LOSS_S: Final = (3.0, 10.0)
DISCONNECT_S: Final = (2.0, 8.0)


class Artifact(enum.IntEnum):
    """Why an RR is not a true beat-to-beat interval; stored per detection and per true beat.

    On a detection the label marks the RR that *ends* at it: ECTOPIC is the premature (short) RR
    and the next RR is the compensatory long one; MISSED is the merged RR; EXTRA is the first
    part of a split RR (the next RR is the rest). CONTACT_LOSS detections are never sent.
    """

    NONE = 0
    ECTOPIC = 1
    MISSED = 2
    EXTRA = 3
    CONTACT_LOSS = 4


@dataclass(frozen=True, slots=True)
class Detections:
    """What the strap's beat detector saw in one chunk (ticks of 1/1024 s)."""

    ticks: I64
    label: I8
    true_index: I64
    """Global index of the true beat detected, -1 for an extra detection."""
    prev_tick: I64
    """The detection before each one (its RR starts there)."""


class BeatArtifacts:
    """Applies per-beat artifacts chunk after chunk, carrying the state across chunks."""

    def __init__(self, rates: ArtifactRates, seed: int) -> None:
        self._rates = rates
        self._seed = seed
        self._prev_tick = -1
        self._prev_detection = -1
        self._prev_drawn = False
        self._prev_missed = False

    def apply(self, ticks: I64, first_index: int, k: int) -> tuple[Detections, I8]:
        """Detections for the true beats ``ticks`` of chunk ``k``, and each true beat's label."""
        rng = stream_rng(self._seed, STREAM_BEAT_ARTIFACTS, k)
        n = len(ticks)
        u = rng.random(n)
        frac = rng.random(n)
        r = self._rates
        kind = np.zeros(n, dtype=np.int8)
        kind[u < r.ectopic] = Artifact.ECTOPIC
        kind[(u >= r.ectopic) & (u < r.ectopic + r.missed)] = Artifact.MISSED
        kind[(u >= r.ectopic + r.missed) & (u < r.ectopic + r.missed + r.extra)] = Artifact.EXTRA
        drawn = kind != 0
        kind[np.concatenate([[self._prev_drawn], drawn[:-1]])] = Artifact.NONE
        if n and self._prev_tick < 0:
            kind[0] = Artifact.NONE
        prev = np.concatenate([[self._prev_tick], ticks[:-1]])
        rr = ticks - prev
        ectopic = kind == Artifact.ECTOPIC
        shifted = ticks.copy()
        shifted[ectopic] -= np.rint(rr[ectopic] * (0.2 + 0.15 * frac[ectopic])).astype(np.int64)
        label = np.where(ectopic, Artifact.ECTOPIC, Artifact.NONE).astype(np.int8)
        label[np.concatenate([[self._prev_missed], kind[:-1] == Artifact.MISSED])] = Artifact.MISSED
        extra = kind == Artifact.EXTRA
        extra_ticks = prev[extra] + np.rint(rr[extra] * (0.3 + 0.4 * frac[extra])).astype(np.int64)
        keep = kind != Artifact.MISSED
        all_ticks = np.concatenate([shifted[keep], extra_ticks])
        order = np.argsort(all_ticks, kind="stable")
        det_ticks = all_ticks[order]
        det_label = np.concatenate(
            [label[keep], np.full(len(extra_ticks), Artifact.EXTRA, np.int8)]
        )[order]
        det_index = np.concatenate(
            [first_index + np.flatnonzero(keep), np.full(len(extra_ticks), -1, np.int64)]
        )[order]
        det_prev = np.concatenate([[self._prev_detection], det_ticks[:-1]])
        if n:
            self._prev_drawn = bool(drawn[-1])
            self._prev_missed = bool(kind[-1] == Artifact.MISSED)
            self._prev_tick = int(ticks[-1])
        if len(det_ticks):
            self._prev_detection = int(det_ticks[-1])
        return Detections(det_ticks, det_label, det_index, det_prev), kind


class Episodes:
    """Contact-loss episodes and link outages, drawn per chunk as Poisson events.

    Intervals are ``(start_s, end_s)``; an episode that would start inside the previous one is
    dropped, so the lists only grow. An episode drawn in chunk ``k`` starts inside it, so
    everything before chunk ``k`` is final once chunk ``k`` is drawn.
    """

    def __init__(self, rates: ArtifactRates, seed: int) -> None:
        self._rates = rates
        self._seed = seed
        self.contact: list[tuple[float, float]] = []
        self.outages: list[tuple[float, float]] = []

    def draw(self, k: int) -> None:
        """Add the episodes that start in chunk ``k``."""
        rng = stream_rng(self._seed, STREAM_EPISODES, k)
        t0 = k * CHUNK_S
        for per_h, (lo, hi), intervals in (
            (self._rates.contact_loss_per_h, CONTACT_LOSS_S, self.contact),
            (self._rates.disconnects_per_h, DISCONNECT_S, self.outages),
        ):
            n = int(rng.poisson(per_h * CHUNK_S / 3600.0))
            starts = np.sort(rng.uniform(t0, t0 + CHUNK_S, n))
            for start, length in zip(starts, rng.uniform(lo, hi, n), strict=True):
                start_s, end_s = float(start), float(start + length)
                if not intervals or start_s > intervals[-1][1]:
                    intervals.append((start_s, end_s))


def inside(t_s: F64, intervals: list[tuple[float, float]]) -> NDArray[np.bool_]:
    """Whether each time lies in one of the sorted, disjoint ``[start, end)`` intervals."""
    if not intervals:
        return np.zeros(len(t_s), dtype=bool)
    bounds = np.asarray(intervals)
    i = np.searchsorted(bounds[:, 0], t_s, side="right") - 1
    mask: NDArray[np.bool_] = (i >= 0) & (t_s < bounds[np.maximum(i, 0), 1])
    return mask
