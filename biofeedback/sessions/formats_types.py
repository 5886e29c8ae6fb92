"""The types every file reader returns: what a format told (:class:`Parsed`), and the checked
recording (:class:`RRRecording`) that ``analyze`` and ``import`` use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Lines = list[int] | NDArray[np.int64]
"""The file line of each value (an array when every line holds one)."""


@dataclass(frozen=True, slots=True)
class RRRecording:
    """RR intervals from a file. ``t_s``: beat times in s when the file has them, else None.

    ``segment`` numbers the continuity segments (None: one unbroken series); ``meta`` holds what
    the format told (``unit``, ``offset_s``, ``started_local``, ``started_wall_s``, ``device``...).
    """

    rr_ms: FloatArray
    t_s: FloatArray | None
    source_format: str
    meta: dict[str, Any] = field(default_factory=dict)
    segment: IntArray | None = None


@dataclass(slots=True)
class Parsed:
    """What a reader found, before the checks common to every format.

    ``values``: the RR values in ``unit`` (None: detect from the median); ``lines``: the file
    line (or record) of each; ``t_s``: beat times (s) where the file gives or implies them;
    ``segment``: continuity segments where the file shows gaps.
    """

    values: FloatArray
    lines: Lines | None
    meta: dict[str, Any] = field(default_factory=dict)
    unit: str | None = None
    t_s: FloatArray | None = None
    segment: IntArray | None = None
