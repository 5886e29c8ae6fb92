"""The verdict on one trigger: "responds", "no clear response" or "not enough data".

A trigger "responds" only when both hold: the 95 % interval of its mean response excludes zero
(the change is unlikely to be noise) and the mean is at least the smallest worthwhile change
(SWC) in size (the change is big enough to matter). The SWC is 0.5 × the between-session SD of
the baseline value, the convention of Hopkins' and Plews et al.'s HRV monitoring work (Plews,
Laursen, Stanley, Kilding & Buchheit 2013, Sports Med 43(9):773-781,
doi:10.1007/s40279-013-0071-8). Either side of zero counts: a trigger that lowers lnRMSSD by
more than the SWC responds too, in the arousing direction (see :func:`direction`).
"""

from __future__ import annotations

import math
from typing import Final, Literal

Verdict = Literal["responds", "no clear response", "not enough data"]
RESPONDS: Final = "responds"
NO_CLEAR: Final = "no clear response"
NOT_ENOUGH: Final = "not enough data"


def verdict(
    mean: float, low: float, high: float, swc: float, n: int, min_sessions: int = 3
) -> Verdict:
    """The verdict for a mean response with its interval [low, high] from ``n`` sessions.

    >>> verdict(0.30, 0.10, 0.50, 0.06, 5)
    'responds'
    >>> verdict(0.04, 0.01, 0.07, 0.06, 5)
    'no clear response'
    >>> verdict(0.30, 0.10, 0.50, 0.06, 2)
    'not enough data'
    """
    if n < min_sessions or not all(math.isfinite(x) for x in (mean, low, high, swc)):
        return NOT_ENOUGH
    excludes_zero = low > 0.0 or high < 0.0
    if excludes_zero and abs(mean) >= swc:
        return RESPONDS
    return NO_CLEAR


def direction(mean: float, relax_sign: int) -> str:
    """``"relaxing"`` when the mean moves the way relaxation does, else ``"arousing"``.

    >>> direction(-3.0, -1)
    'relaxing'
    """
    if not math.isfinite(mean) or mean == 0.0:
        return "none"
    return "relaxing" if mean * relax_sign > 0 else "arousing"
