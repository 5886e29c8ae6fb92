"""Every input interval with what the analysis made of it (``analyze --beats-out``).

One row per input RR interval, in input order, as Kubios users export it:

- ``t_s``: the beat that ends the interval, s on the recording's clock (the file's beat times
  when it has them, else the running sum of the intervals);
- ``rr_ms``: the interval as read;
- ``label``: ``normal``, ``ectopic``, ``missed``, ``extra``, ``long``, ``short`` or
  ``out_of_range`` (:class:`.BeatLabel`); intervals withheld as irregular rhythm are
  ``normal``: they are not artifacts;
- ``nn_ms``: the NN value the interval became after correction (its replacement if it was
  corrected); a missed beat becomes two NN intervals and ``nn_ms`` is their mean, an extra beat
  none (its time is in the next interval's value), and ``nn_ms`` is empty then, for withheld
  intervals and for out-of-range intervals at the start of a chain (nothing to interpolate from);
- ``nn_count``: how many NN intervals it became (0, 1 or 2), so ``sum(nn_ms * nn_count)`` is the
  NN series' total time;
- ``segment``: the continuity segment as read (a chain never spans two);
- ``withheld``: 1 where the rhythm is withheld as too irregular for HRV (:mod:`.rhythm`), else 0.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from biofeedback.hrv.analysis import prepare_nn
from biofeedback.hrv.artifacts_rule import BeatLabel
from biofeedback.hrv.rhythm import MESSAGE
from biofeedback.hrv.settings import HrvSettings

COLUMNS = ("t_s", "rr_ms", "label", "nn_ms", "nn_count", "segment", "withheld")
LABEL_NAMES = tuple(label.name.lower() for label in BeatLabel)


@dataclass(frozen=True, slots=True)
class BeatTable:
    """The columns of :data:`COLUMNS`; ``nn_ms`` is NaN where empty."""

    t_s: NDArray[np.float64]
    rr_ms: NDArray[np.float64]
    labels: NDArray[np.int8]
    nn_ms: NDArray[np.float64]
    nn_count: NDArray[np.int64]
    segment: NDArray[np.int64]
    withheld: NDArray[np.bool_]

    def rows(self) -> list[tuple[float, float, str, float | None, int, int, int]]:
        """One tuple per input interval (``None`` for an empty ``nn_ms``)."""
        return [
            (t, rr, LABEL_NAMES[lab], None if nn != nn else nn, c, s, int(w))
            for t, rr, lab, nn, c, s, w in zip(
                self.t_s.tolist(),
                self.rr_ms.tolist(),
                self.labels.tolist(),
                self.nn_ms.tolist(),
                self.nn_count.tolist(),
                self.segment.tolist(),
                self.withheld.tolist(),
                strict=True,
            )
        ]


def beat_table(
    rr_ms: ArrayLike,
    *,
    t_s: ArrayLike | None = None,
    segment: ArrayLike | None = None,
    settings: HrvSettings | None = None,
    shape: ArrayLike | None = None,
) -> BeatTable:
    """Labels, NN values and withheld marks per input interval, as :func:`.analyze_record`
    computes them with ``settings`` (and ``shape``, an ECG's per-interval beat shapes)."""
    settings = settings or HrvSettings()
    rr = np.asarray(rr_ms, dtype=np.float64)
    seg = np.zeros(rr.size, np.int64) if segment is None else np.asarray(segment, np.int64)
    try:
        series = prepare_nn(
            rr,
            t_s,
            seg,
            correction=settings.correction,
            withhold_irregular=settings.rhythm_check,
            shape=shape,
        )
    except ValueError as exc:
        if str(exc) != MESSAGE:
            raise
        series = prepare_nn(rr, t_s, seg, correction=settings.correction, shape=shape)
        series = replace(
            series,
            labels=np.zeros(rr.size, np.int8),
            nn_ms=np.zeros(0),
            origin=np.zeros(0, np.int64),
            withheld=np.ones(rr.size, dtype=bool),
        )
    assert series.origin is not None
    count = np.bincount(series.origin, minlength=rr.size).astype(np.int64)
    total = np.bincount(series.origin, weights=series.nn_ms, minlength=rr.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        nn = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    withheld = np.zeros(rr.size, bool) if series.withheld is None else series.withheld
    return BeatTable(series.t_raw_s, rr, series.labels, nn, count, seg, withheld)
