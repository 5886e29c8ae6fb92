"""RR intervals from ECG beats, with the artifact labels of :mod:`biofeedback.hrv.artifacts`.

With ECG present, the shape of each beat decides whether an interval is sinus, and the RR-only
rule (Lipponen & Tarvainen 2019, :func:`biofeedback.hrv.artifacts.detect_artifacts`) is the
fallback. Interval ``k`` runs from beat ``k`` to beat ``k + 1`` (one fewer than the beats), and
its label is:

- the RR-only label when either beat is :attr:`BeatClass.UNKNOWN` (no template yet);
- ``ECTOPIC`` when either beat is ventricular (an interval that ends or starts on a ventricular
  beat is not a sinus NN interval: the truth of the artifact bench);
- for two beats of normal shape (normal or supraventricular premature): the RR-only label.
  Timing is what the RR rule judges, with robust local statistics; the labeller's own
  prematurity call (``SUPRAVENTRICULAR``) flagged far more sinus intervals in irregular
  rhythms on MIT-BIH (bench/bench_ecg_labels.py), so it is reported but not used here.

``ecg`` may import ``hrv`` (DESIGN.md layers: ecg sits above hrv), so the labels are
:class:`biofeedback.hrv.artifacts.BeatLabel` values, not a copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from biofeedback.ecg.labels import BeatClass
from biofeedback.hrv.artifacts import BeatLabel, detect_artifacts

F64 = NDArray[np.float64]
LabelArray = NDArray[np.int8]


@dataclass(frozen=True, slots=True)
class EcgIntervals:
    """RR intervals (ms) between consecutive ECG beats and their artifact labels."""

    rr_ms: F64
    labels: LabelArray
    """:class:`BeatLabel` values, one per interval."""
    from_shape: NDArray[np.bool_]
    """Where both beats were judged by shape (False: no template yet, RR-only alone)."""


def ecg_intervals(
    t_s: F64, beat_class: NDArray[np.integer], rr_only: LabelArray | None = None
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
    start, end = cls[:-1], cls[1:]
    unknown = (start == BeatClass.UNKNOWN) | (end == BeatClass.UNKNOWN)
    ventricular = cls == BeatClass.VENTRICULAR
    ectopic = (ventricular[:-1] | ventricular[1:]) & ~unknown
    labels = np.where(ectopic, np.int8(BeatLabel.ECTOPIC), fallback).astype(np.int8)
    return EcgIntervals(rr, labels, ~unknown)
