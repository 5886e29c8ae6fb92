"""Settings of the trigger comparison: onset exclusion, data-quality limits, the model, verdicts.

Every number that changes a result lives in :class:`CompareSettings`; ``to_dict()`` travels with
each comparison and report (DESIGN.md: settings travel with every export).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Final

ONSET_MIN_S: Final = 0.0
ONSET_MAX_S: Final = 120.0


@dataclass(frozen=True, slots=True)
class CompareSettings:
    """How blocks are measured and how sessions are pooled (units in the names)."""

    onset_s: float = 45.0
    """Seconds at the start of a trigger block left out: the response is still building up."""
    min_clean_s: float = 60.0
    """A trigger block or baseline needs this much clean NN time after the onset exclusion."""
    min_washout_s: float = 30.0
    """A washout reference needs this much clean NN time (washouts are short by design)."""
    max_corrected_share: float = 0.05
    """A window with more corrected beats than this is excluded (Lipponen & Tarvainen 2019)."""
    level: float = 0.95
    min_sessions: int = 3
    """Fewer sessions with a usable block than this: "not enough data"."""
    position_adjust_min_sessions: int = 10
    """From this many sessions the per-session contrasts are regressed on the position
    difference (a trend over the session leaves the estimate); below it they are averaged."""
    swc_factor: float = 0.5
    """Smallest worthwhile change: the larger of the metric's typical error and this × the SD
    of the baseline value across sessions (Plews et al. 2013)."""
    typical_error: tuple[tuple[str, float], ...] = (
        ("lnrmssd", 0.11),
        ("hf", 0.22),
        ("hr", 1.0),
        ("pns", 0.1),
        ("resp", 0.5),
    )
    """The measurement's typical error (metric units): no effect smaller than this is called
    "responds". lnRMSSD: the 60-s typical error, 0.11 ln ms (Esco & Flatt 2014, PMC4126289);
    HF: twice that, as HF power scales with RMSSD²; HR 1 bpm, PNS 0.1 SD and respiration 0.5
    breaths/min are assumptions of this program, about the resolution of those measures over
    2-3 minutes."""
    min_rho_n: int = 5
    """Spearman's rho between ratings and responses needs at least this many rated blocks."""

    def __post_init__(self) -> None:
        if not ONSET_MIN_S <= self.onset_s <= ONSET_MAX_S:
            raise ValueError(f"onset_s must be in [0, 120] s, got {self.onset_s}")
        if self.min_clean_s < 30.0 or self.min_washout_s < 10.0:
            raise ValueError("min_clean_s must be >= 30 s and min_washout_s >= 10 s")
        if not 0.0 <= self.max_corrected_share <= 1.0:
            raise ValueError(
                f"max_corrected_share must be in [0, 1], got {self.max_corrected_share}"
            )
        if self.position_adjust_min_sessions < 3:
            raise ValueError("position_adjust_min_sessions must be >= 3")
        if self.level != 0.95:
            raise ValueError("level: only 95 % intervals are implemented")
        if self.min_sessions < 2 or self.min_rho_n < 3:
            raise ValueError("min_sessions must be >= 2 and min_rho_n >= 3")
        if self.swc_factor < 0:
            raise ValueError(f"swc_factor must be >= 0, got {self.swc_factor}")

    def typical_error_of(self, key: str) -> float:
        """The typical error of metric ``key`` (0 if none)."""
        return dict(self.typical_error).get(key, 0.0)

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["typical_error"] = dict(self.typical_error)
        return out
