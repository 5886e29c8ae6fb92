"""The verdict on one trigger: "responds", "no clear response" or "not enough data".

A trigger "responds" only when both hold: its Benjamini-Hochberg adjusted p-value across the
triggers of the comparison is below 5 % (the effect is unlikely to be noise, with four triggers
tested at once) and the effect is at least the smallest worthwhile change (SWC) in size, which
is never smaller than the measurement's typical error (0.11 ln ms for 60-s lnRMSSD, Esco &
Flatt 2014; 0.5 × the between-session SD of the baseline when that is larger: Plews, Laursen,
Stanley, Kilding & Buchheit 2013, Sports Med 43(9):773-781, doi:10.1007/s40279-013-0071-8).
Either side of zero counts: a trigger that lowers lnRMSSD by more than the SWC responds too, in
the "less relaxing" direction (see :func:`direction`): less relaxing *than its reference*, not
arousing in itself (against the mean of the other triggers, one with no effect of its own reads
lower when another trigger relaxes). "Not enough data": fewer than ``min_sessions``
sessions, or the trigger's position against its reference never varied (trigger and position
cannot be told apart).
"""

from __future__ import annotations

import math
from typing import Final, Literal

from biofeedback.analysis.effects import Effect

Verdict = Literal["responds", "no clear response", "not enough data"]
RESPONDS: Final = "responds"
NO_CLEAR: Final = "no clear response"
NOT_ENOUGH: Final = "not enough data"
ALPHA: Final = 0.05


def verdict(effect: Effect, p_adjusted: float, swc: float, min_sessions: int = 3) -> Verdict:
    """The verdict for an effect with its adjusted p-value.

    >>> from biofeedback.analysis.effects import Effect
    >>> e = Effect(5, 0.30, 0.10, 0.50, 0.07, 4, 0.01, 0.16, False, True)
    >>> verdict(e, 0.02, 0.11), verdict(e, 0.2, 0.11), verdict(e, 0.02, 0.40)
    ('responds', 'no clear response', 'no clear response')
    """
    if effect.n < min_sessions or not effect.order_varied:
        return NOT_ENOUGH
    if not all(math.isfinite(x) for x in (effect.estimate, p_adjusted, swc)):
        return NOT_ENOUGH
    if p_adjusted < ALPHA and abs(effect.estimate) >= swc:
        return RESPONDS
    return NO_CLEAR


def direction(mean: float, relax_sign: int) -> str:
    """``"more relaxing"`` when the effect (against the reference) moves the way relaxation
    does, else ``"less relaxing"``; relative to the reference, never an absolute claim.

    >>> direction(-3.0, -1), direction(0.2, -1)
    ('more relaxing', 'less relaxing')
    """
    if not math.isfinite(mean) or mean == 0.0:
        return "none"
    return "more relaxing" if mean * relax_sign > 0 else "less relaxing"
