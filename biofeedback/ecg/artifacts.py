"""RR intervals from ECG beats, with the artifact labels of :mod:`biofeedback.hrv.artifacts`.

With ECG present, the shape of each beat decides whether an interval is ectopic, and the
RR-only rule (Lipponen & Tarvainen 2019) is the fallback: the rule itself is the HRV stage's
hook, :func:`biofeedback.hrv.artifacts_shape.apply_shape`, fed one
:class:`~biofeedback.hrv.artifacts_shape.IntervalShape` per interval by :func:`interval_shapes`.
Interval ``k`` runs from beat ``k`` to beat ``k + 1`` (one fewer than the beats), and its shape
evidence is:

- ``ECTOPIC`` when either beat is ventricular, or supraventricular premature by the
  labeller (an interval that ends or starts on an ectopic beat is not a sinus NN interval);
- else ``UNKNOWN`` when either beat is :attr:`BeatClass.UNKNOWN` (no template yet): the
  RR-only label stands;
- else ``NORMAL`` (two normal-shaped beats): timing may still call the interval missed, extra,
  long or short, not ectopic.

``supraventricular=False`` leaves the labeller's prematurity call out (the ``S`` beats count as
normal-shaped); measured both ways in ``bench/bench_ecg_labels.py``.

``ecg`` may import ``hrv`` (DESIGN.md layers: ecg sits above hrv), so the labels are
:class:`biofeedback.hrv.artifacts.BeatLabel` values, not a copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from biofeedback.ecg.labels import BeatClass
from biofeedback.hrv.artifacts import detect_artifacts
from biofeedback.hrv.artifacts_shape import IntervalShape, apply_shape

F64 = NDArray[np.float64]
LabelArray = NDArray[np.int8]


@dataclass(frozen=True, slots=True)
class EcgIntervals:
    """RR intervals (ms) between consecutive ECG beats and their artifact labels."""

    rr_ms: F64
    labels: LabelArray
    """:class:`BeatLabel` values, one per interval."""
    from_shape: NDArray[np.bool_]
    """Where the shapes decided (False: no template yet, RR-only alone)."""


def beat_is_ectopic(
    beat_class: NDArray[np.integer], *, supraventricular: bool = True
) -> NDArray[np.bool_]:
    """Beats ectopic by shape: ventricular, and supraventricular premature unless told not."""
    cls = np.asarray(beat_class)
    ectopic: NDArray[np.bool_] = cls == BeatClass.VENTRICULAR
    if supraventricular:
        ectopic = ectopic | (cls == BeatClass.SUPRAVENTRICULAR)
    return ectopic


def interval_shapes(
    beat_class: NDArray[np.integer], *, supraventricular: bool = True
) -> NDArray[np.int8]:
    """One :class:`IntervalShape` per interval between consecutive beats (see the module).

    >>> interval_shapes(np.array([0, 0, 2, 0, 3, 0])).tolist()
    [1, 2, 2, 0, 0]
    """
    cls = np.asarray(beat_class)
    ectopic = beat_is_ectopic(cls, supraventricular=supraventricular)
    unknown = cls == BeatClass.UNKNOWN
    any_ectopic = ectopic[:-1] | ectopic[1:]
    any_unknown = unknown[:-1] | unknown[1:]
    out = np.where(any_unknown, IntervalShape.UNKNOWN, IntervalShape.NORMAL)
    return np.where(any_ectopic, IntervalShape.ECTOPIC, out).astype(np.int8)


def ecg_intervals(
    t_s: F64,
    beat_class: NDArray[np.integer],
    rr_only: LabelArray | None = None,
    *,
    supraventricular: bool = True,
) -> EcgIntervals:
    """Intervals between the beats at ``t_s`` labelled from their classes (see the module).

    ``rr_only`` are the RR-only labels of the same intervals; computed with
    :func:`detect_artifacts` when not given.

    >>> t = np.arange(6) * 0.8
    >>> t[3] -= 0.3
    >>> cls = np.array([0, 0, 0, 2, 0, 0])
    >>> ecg_intervals(t, cls).labels.tolist()
    [0, 0, 1, 1, 0]
    """
    t = np.asarray(t_s, dtype=np.float64)
    cls = np.asarray(beat_class)
    if t.shape != cls.shape:
        raise ValueError("t_s and beat_class must have the same length")
    rr = np.diff(t) * 1000.0
    if rr.size == 0:
        return EcgIntervals(rr, np.empty(0, np.int8), np.empty(0, bool))
    fallback = (
        np.asarray(detect_artifacts(rr), dtype=np.int8)
        if rr_only is None
        else np.asarray(rr_only, dtype=np.int8)
    )
    if fallback.shape != rr.shape:
        raise ValueError("rr_only must have one label per interval")
    shapes = interval_shapes(cls, supraventricular=supraventricular)
    return EcgIntervals(rr, apply_shape(fallback, shapes), shapes != IntervalShape.UNKNOWN)
