"""Beat types, after the beat typing of Hamilton's OSEA (Computers in Cardiology 2002,
29:101-104), reduced: each beat joins the type of the most similar recent beat or starts a new
one, and the *dominant* type is the one with most of the latest beats. Batch
(:func:`beat_types`, :func:`dominant_types`) and one beat at a time (:class:`Dominance`) give the
same types. :mod:`.labels` takes the dominant type's template for its second labelling pass.
"""

from __future__ import annotations

from collections import deque
from typing import Final

import numpy as np
from numpy.typing import NDArray

from biofeedback.ecg.beat_windows import nearest_match

F64 = NDArray[np.float64]

CHAIN_R: Final = 0.93
"""Beat types (OSEA's beat typing, reduced): a beat joins the type of the most similar of the
:data:`HISTORY_BEATS` beats before it when their correlation exceeds this, else it starts a
new type. Chosen on DS1."""
DOMINANT_BEATS: Final = 512
"""The dominant type is the one with most beats among this many latest beats."""


def beat_types(lag_r: F64) -> NDArray[np.intp]:
    """Each beat's type, as the index of its first beat: a beat whose best correlation with one
    of the :data:`HISTORY_BEATS` before it exceeds :data:`CHAIN_R` has that beat's type."""
    best, which = nearest_match(lag_r, None)
    root = np.where(best > CHAIN_R, which, np.arange(len(lag_r)))
    while True:  # pointer jumping: parents come earlier, so this ends in log2(chain) steps
        nxt = root[root]
        if np.array_equal(nxt, root):
            return root
        root = nxt


def dominant_types(root: NDArray[np.intp]) -> NDArray[np.intp]:
    """The dominant type after each beat: the type with most of the last
    :data:`DOMINANT_BEATS` beats, as tracked beat by beat (a type takes over when one of its
    beats brings it above the current one); :class:`Dominance` is the same, one beat at a time."""
    # The loop of Dominance.push, inlined (a day is ~100 000 beats); the types are beat
    # indices here, so their counts are a list.
    recent = root.tolist()
    counts = [0] * len(recent)
    out = [0] * len(recent)
    dominant = recent[0] if recent else 0
    for i, t in enumerate(recent):
        c = counts[t] + 1
        counts[t] = c
        if i >= DOMINANT_BEATS:
            counts[recent[i - DOMINANT_BEATS]] -= 1
        if c > counts[dominant]:
            dominant = t
        out[i] = dominant
    return np.asarray(out, dtype=np.intp)


class Dominance:
    """:func:`dominant_types`, one beat at a time."""

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.recent: deque[int] = deque()
        self.dominant = -1

    def push(self, root: int) -> int:
        counts = self.counts
        c = counts.get(root, 0) + 1
        counts[root] = c
        self.recent.append(root)
        if len(self.recent) > DOMINANT_BEATS:
            old = self.recent.popleft()
            left = counts[old] - 1
            if left:
                counts[old] = left
            else:
                del counts[old]
        if c > counts.get(self.dominant, 0):
            self.dominant = root
        return self.dominant
