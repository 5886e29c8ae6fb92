"""The live processor's running windows: running sums over a time span, and a ring of beats.

``TimeWindow`` keeps sums of NN, NN², 1/NN and of within-chain successive differences over the
beats of the last ``span_s`` seconds, added on arrival and subtracted on eviction (O(1) per beat),
rebuilt exactly every ``RESUM_EVERY`` beats so rounding cannot drift. ``BeatRing`` holds beat
times and NN values in preallocated arrays so the periodic computations read views, not copies.
"""

from __future__ import annotations

from collections import deque
from typing import Final

import numpy as np

RESUM_EVERY: Final = 2000


class TimeWindow:
    """Running sums over the NN beats of the last ``span_s`` seconds."""

    def __init__(self, span_s: float) -> None:
        self.span_s = span_s
        # (t_s, nn_ms, diff_ms or NaN when no within-chain predecessor)
        self.beats: deque[tuple[float, float, float]] = deque()
        self.flags: deque[tuple[float, bool]] = deque()
        self.centre = 0.0
        self.since_resum = 0
        self._zero()

    def _zero(self) -> None:
        self.n = self.s1 = self.s2 = 0.0
        self.m = self.d1 = self.d2 = self.n50 = 0.0
        self.n_raw = self.n_flagged = 0

    def clear(self) -> None:
        self.beats.clear()
        self.flags.clear()
        self._zero()

    def _diff(self, d: float, sign: float) -> None:
        if d == d:
            self.m += sign
            self.d1 += sign * d
            self.d2 += sign * d * d
            self.n50 += sign * (abs(d) > 50.0)

    def _beat(self, nn: float, sign: float) -> None:
        x = nn - self.centre
        self.n += sign
        self.s1 += sign * x
        self.s2 += sign * x * x

    @property
    def hr(self) -> float:
        """``n`` x the window's mean HR, 60000 / mean NN as Kubios (so ``hr / n`` is the HR)."""
        return 60_000.0 * self.n / (self.centre + self.s1 / self.n) if self.n else 0.0

    def add_raw(self, t_s: float, flagged: bool) -> None:
        self.flags.append((t_s, flagged))
        self.n_raw += 1
        self.n_flagged += flagged

    def add(self, t_s: float, nn: float, diff: float) -> None:
        if not self.beats:
            self.centre = nn
        self.beats.append((t_s, nn, diff))
        self._beat(nn, 1.0)
        if len(self.beats) > 1:
            self._diff(diff, 1.0)
        self.since_resum += 1
        if self.since_resum >= RESUM_EVERY:
            self._resum()

    def evict(self, now_s: float) -> None:
        limit = now_s - self.span_s
        while self.beats and self.beats[0][0] <= limit:
            _, nn, _ = self.beats.popleft()
            self._beat(nn, -1.0)
            if self.beats:
                self._diff(self.beats[0][2], -1.0)
        while self.flags and self.flags[0][0] <= limit:
            self.n_raw -= 1
            self.n_flagged -= self.flags.popleft()[1]

    def _resum(self) -> None:
        beats = list(self.beats)
        n_raw, n_flagged = self.n_raw, self.n_flagged
        self._zero()
        self.n_raw, self.n_flagged = n_raw, n_flagged
        self.since_resum = 0
        if beats:
            self.centre = beats[0][1]
        for k, (_, nn, diff) in enumerate(beats):
            self._beat(nn, 1.0)
            if k:
                self._diff(diff, 1.0)

    @property
    def share(self) -> float:
        return self.n_flagged / self.n_raw if self.n_raw else 0.0


class BeatRing:
    """Beat times and NN values of the current chain in preallocated arrays (views, no copies)."""

    def __init__(self, capacity: int = 4096) -> None:
        self.t_s = np.empty(capacity)
        self.nn_ms = np.empty(capacity)
        self.start = self.stop = 0

    def __len__(self) -> int:
        return self.stop - self.start

    def clear(self) -> None:
        self.start = self.stop = 0

    def append(self, t_s: float, nn_ms: float) -> None:
        if self.stop == self.t_s.size:
            live = len(self)
            if live * 2 > self.t_s.size:
                self.t_s = np.resize(self.t_s, 2 * self.t_s.size)
                self.nn_ms = np.resize(self.nn_ms, 2 * self.nn_ms.size)
            self.t_s[:live] = self.t_s[self.start : self.stop]
            self.nn_ms[:live] = self.nn_ms[self.start : self.stop]
            self.start, self.stop = 0, live
        self.t_s[self.stop] = t_s
        self.nn_ms[self.stop] = nn_ms
        self.stop += 1

    def drop_before(self, t_s: float) -> None:
        while self.start < self.stop and self.t_s[self.start] < t_s:
            self.start += 1
