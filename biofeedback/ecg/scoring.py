"""Beat-by-beat scoring of detections against reference annotations (ANSI/AAMI EC57).

A detection within 150 ms of a reference beat is a true positive; each reference beat and each
detection is matched at most once (nearest first). Sensitivity = TP / (TP + FN), positive
predictivity = TP / (TP + FP); pooled ("gross") figures sum the counts over records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

AAMI_WINDOW_S: Final = 0.150


@dataclass(frozen=True, slots=True)
class BeatMatch:
    """Counts and the timing errors (detection minus reference, s) of the matched pairs."""

    tp: int
    fn: int
    fp: int
    error_s: F64
    matched_reference: NDArray[np.bool_]
    matched_detection: NDArray[np.bool_]

    @property
    def sensitivity(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def positive_predictivity(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")


def match_beats(reference_s: F64, detected_s: F64, window_s: float = AAMI_WINDOW_S) -> BeatMatch:
    """Match detections to reference beats within ``window_s``.

    >>> m = match_beats(np.array([1.0, 2.0, 3.0]), np.array([1.01, 2.5, 2.98]))
    >>> m.tp, m.fn, m.fp
    (2, 1, 1)
    """
    ref = np.asarray(reference_s, dtype=np.float64)
    det = np.asarray(detected_s, dtype=np.float64)
    used_ref = np.zeros(len(ref), dtype=bool)
    used_det = np.zeros(len(det), dtype=bool)
    errors = np.full(len(ref), np.nan)
    if len(ref) and len(det):
        j = (
            np.clip(np.searchsorted(det, ref), 1, len(det) - 1)
            if len(det) > 1
            else np.zeros(len(ref), np.intp)
        )
        pairs: list[tuple[float, int, int]] = []
        for k in (-1, 0, 1):
            jj = np.clip(j + k, 0, len(det) - 1)
            d = np.abs(det[jj] - ref)
            ok = d <= window_s
            pairs += list(
                zip(d[ok].tolist(), np.flatnonzero(ok).tolist(), jj[ok].tolist(), strict=True)
            )
        for _dist, r, q in sorted(pairs):
            if not used_ref[r] and not used_det[q]:
                used_ref[r] = used_det[q] = True
                errors[r] = det[q] - ref[r]
    tp = int(used_ref.sum())
    return BeatMatch(tp, len(ref) - tp, len(det) - tp, errors[used_ref], used_ref, used_det)
