"""The reconnect delay policy: exponential backoff with full jitter, bounded on both sides.

Pure: no clock, no sleeping, the randomness is injected. Full jitter spreads reconnect attempts
uniformly over ``[min_s, min(cap_s, min_s * 2**(attempt - 1))]``, which avoids lock-step retries
and keeps the expected wait short after a brief drop (Brooker, "Exponential Backoff And Jitter",
AWS Architecture Blog, 2015).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

BACKOFF_MIN_S: Final = 0.5
"""The shortest wait: a strap that just dropped needs a moment before it advertises again."""
BACKOFF_CAP_S: Final = 12.0
"""The longest wait, so that a strap coming back into range is picked up within seconds."""
_MAX_DOUBLINGS: Final = 60
"""Beyond this the ceiling is the cap anyway; it keeps ``2**n`` a finite float."""


def backoff_s(
    attempt: int,
    rng: random.Random,
    *,
    min_s: float = BACKOFF_MIN_S,
    cap_s: float = BACKOFF_CAP_S,
) -> float:
    """Seconds to wait before reconnect attempt ``attempt`` (1 for the first retry).

    The result is always within ``[min_s, cap_s]``; the upper end of the draw doubles with each
    attempt until it reaches the cap.

    >>> round(backoff_s(1, random.Random(0)), 6), round(backoff_s(20, random.Random(0)), 6)
    (0.5, 10.210851)
    """
    if attempt < 1:
        raise ValueError(f"attempt must be >= 1, got {attempt}")
    if not 0 < min_s <= cap_s:
        raise ValueError(f"need 0 < min_s <= cap_s, got min_s={min_s}, cap_s={cap_s}")
    ceiling_s = min(cap_s, min_s * 2.0 ** min(attempt - 1, _MAX_DOUBLINGS))
    return min(cap_s, max(min_s, rng.uniform(min_s, ceiling_s)))


@dataclass(frozen=True, slots=True)
class Backoff:
    """The bounds of :func:`backoff_s`, as one value a source can carry."""

    min_s: float = BACKOFF_MIN_S
    cap_s: float = BACKOFF_CAP_S

    def __post_init__(self) -> None:
        if not 0 < self.min_s <= self.cap_s:
            raise ValueError(f"need 0 < min_s <= cap_s, got {self.min_s}, {self.cap_s}")

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        """The wait before reconnect attempt ``attempt``; see :func:`backoff_s`."""
        return backoff_s(attempt, rng, min_s=self.min_s, cap_s=self.cap_s)
