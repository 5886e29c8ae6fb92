"""Session time: one clock for beats, markers and segments.

A real strap stamps arrivals with ``time.monotonic()``; a simulated strap runs on simulated
seconds, ``speed`` times faster than real time, or as fast as possible (``speed=None``). In the
last case time moves only when the source says so (:meth:`SessionClock.advance`).
"""

from __future__ import annotations

import time


class SessionClock:
    """``now()`` in session seconds."""

    def __init__(self, speed: float | None = 1.0, origin_s: float | None = None) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be positive or None, got {speed!r}")
        self.speed = speed
        self._mono0 = time.monotonic()
        self.origin_s = self._mono0 if origin_s is None else origin_s
        self._latest_s = self.origin_s

    def now(self) -> float:
        if self.speed is None:
            return self._latest_s
        return self.origin_s + (time.monotonic() - self._mono0) * self.speed

    def advance(self, t_s: float) -> None:
        """The source reached ``t_s`` (drives an as-fast-as-possible clock)."""
        self._latest_s = max(self._latest_s, t_s)
