"""Order effects: does the response depend on where in the session a block came?

Blocks later in a session follow more rest (and more ASMR), so a trigger always shown last may
look better than it is. The response by position is reported raw and as a residual (response
minus its trigger's mean), which removes the trigger effect when the order was varied. When the
order never varied, trigger and position are confounded and the comparison says so.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PositionRow:
    """Mean response (metric units) of all blocks shown at ``position`` (1-based)."""

    position: int
    n: int
    mean: float
    residual: float
    """Mean of (response − that trigger's mean response): the position effect."""


def by_position(
    blocks: Sequence[tuple[str, int, float]], trigger_means: Mapping[str, float]
) -> tuple[PositionRow, ...]:
    """Rows per position from ``(label, position, response)`` of every usable block.

    >>> by_position([("a", 1, 1.0), ("a", 2, 3.0)], {"a": 2.0})[1]
    PositionRow(position=2, n=1, mean=3.0, residual=1.0)
    """
    groups: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for label, position, value in blocks:
        if math.isfinite(value):
            groups[position].append((value, value - trigger_means.get(label, math.nan)))
    rows = []
    for position in sorted(groups):
        values = groups[position]
        mean = sum(v for v, _ in values) / len(values)
        residual = sum(r for _, r in values) / len(values)
        rows.append(PositionRow(position, len(values), mean, residual))
    return tuple(rows)


def order_warning(positions: Mapping[str, Sequence[int]]) -> str | None:
    """A warning when no trigger seen in two or more sessions ever changed its position.

    >>> order_warning({"a": [1, 1], "b": [2, 2]})[:30]
    'block order never varied: trig'
    >>> order_warning({"a": [1, 2], "b": [2, 1]}) is None
    True
    """
    repeated = {k: set(v) for k, v in positions.items() if len(v) >= 2}
    if not repeated or any(len(v) > 1 for v in repeated.values()):
        return None
    return (
        "block order never varied: trigger and position effects cannot be told apart "
        '(use a protocol with order = "randomised" or "counterbalanced")'
    )
