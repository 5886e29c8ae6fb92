"""Self-report beside physiology: 0-10 ratings per block and their agreement with the response.

A rating is a marker ``{"kind": "rating", "t_s": ..., "label": <trigger or "">,
"value": {"relaxation": 0-10, "tingles": 0-10}}`` (either key may be absent). It belongs to the
trigger block that started last before it (ratings are asked for right after a block), if its
label is empty or names that block's trigger; a later rating of the same block replaces an
earlier one. Agreement is Spearman's rank correlation (ties get their mean rank) between the
ratings and the responses in the relaxing direction, pooled over rated blocks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

RATING_KEYS = ("relaxation", "tingles")


@dataclass(frozen=True, slots=True)
class Rating:
    """Self-reported relaxation and tingles for one block, 0-10 (``None``: not given)."""

    relaxation: float | None
    tingles: float | None


def _score(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    x = float(value)
    return x if math.isfinite(x) and 0.0 <= x <= 10.0 else None


def block_ratings(
    markers: Sequence[Mapping[str, Any]], segments: Sequence[Mapping[str, Any]], index: int
) -> Rating | None:
    """The rating of the trigger block ``segments[index]`` (segments sorted by start)."""
    block = segments[index]
    start_s = float(block["start_s"])
    later = [float(s["start_s"]) for s in segments[index + 1 :] if s.get("kind") == "trigger"]
    until_s = later[0] if later else math.inf
    found: Rating | None = None
    for m in markers:
        if m.get("kind") != "rating" or not start_s <= float(m.get("t_s", -1.0)) < until_s:
            continue
        if m.get("label") not in (None, "", block.get("label")):
            continue
        value = m.get("value")
        if not isinstance(value, Mapping):
            continue
        rating = Rating(_score(value.get("relaxation")), _score(value.get("tingles")))
        if rating.relaxation is not None or rating.tingles is not None:
            found = rating
    return found


def spearman_rho(x: ArrayLike, y: ArrayLike) -> float:
    """Spearman's rank correlation, ties given their mean rank (``scipy.stats.spearmanr``);
    NaN when either side is constant or n < 3.

    >>> round(spearman_rho([1, 2, 3, 4, 5], [2, 4, 6, 8, 20]), 12)
    1.0
    >>> round(spearman_rho([0, 5, 5, 10], [1.0, 3.0, 2.0, 4.0]), 4)
    0.9487
    """
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("x and y must be one-dimensional and of equal length")
    if a.size < 3 or np.all(a == a[0]) or np.all(b == b[0]):
        return math.nan  # scipy would warn (ConstantInputWarning) and give NaN
    from scipy.stats import spearmanr  # lazily: scipy.stats is slow to import

    return float(spearmanr(a, b).statistic)
