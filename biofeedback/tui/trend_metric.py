"""The parasympathetic estimate the trend chart plots, read from the processor's snapshot.

The UI never computes HRV: every number is copied from a :class:`Snapshot`.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from biofeedback.hrv.estimates import Value
    from biofeedback.hrv.processor import Snapshot


class TrendMetric(enum.Enum):
    """The parasympathetic estimate the trend chart plots; a key cycles through them."""

    RELAXATION = ("relaxation_score", "relaxation vs baseline", "SD")
    LN_RMSSD = ("ln_rmssd", "lnRMSSD", "ln(ms)")
    PNS_INDEX = ("pns_index", "PNS index", "SD")

    def __init__(self, field: str, title: str, unit: str) -> None:
        self.field = field
        self.title = title
        self.unit = unit

    def of(self, snapshot: Snapshot) -> Value:
        """This metric's value in ``snapshot``."""
        value: Value = getattr(snapshot, self.field)
        return value

    def following(self) -> TrendMetric:
        """The next metric in the cycle.

        >>> TrendMetric.PNS_INDEX.following() is TrendMetric.RELAXATION
        True
        """
        members = list(TrendMetric)
        return members[(members.index(self) + 1) % len(members)]
