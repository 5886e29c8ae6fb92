"""Beat shapes in the artifact stage: with an ECG, the RR-only rule becomes a fallback.

The RR-only rule (Lipponen & Tarvainen 2019, :mod:`.artifacts_rule`) judges an interval by its
timing alone, so it cannot tell an ectopic beat that comes on time from a sinus one, nor a
sinus beat in an irregular stretch from an ectopic one (on MIT-BIH DS1 it finds 20.9 % of the
intervals next to a V or F beat, at 97.79 % specificity; with the shapes merged here 90.1 % at
95.57 %, 97.83 % counting supraventricular ectopics as ectopic: ``bench/bench_ecg_labels.py``,
README "HRV methods"). With an ECG each beat also
has a shape label (:mod:`biofeedback.ecg.labels`: a running normal-beat template, correlation,
QRS width and area, prematurity; Hamilton 2002 OSEA, after de Chazal et al. 2004,
doi:10.1109/TBME.2004.827359). Kubios takes the same step: from an ECG it detects and
classifies the beats itself and corrects the RR series from those beats (Tarvainen et al.
2014, Kubios HRV, Comput Methods Programs Biomed 113:210-220,
doi:10.1016/j.cmpb.2013.07.024). The evidence enters here as one :class:`IntervalShape` per RR
interval (the caller decides it from the two beats that bound the interval), and
:func:`apply_shape` merges it with the RR-only labels:

- ``ECTOPIC`` (a bounding beat labelled ectopic by shape): the interval is ``ECTOPIC`` and is
  corrected as one (interpolated), whatever its timing, unless the RR rule called it ``MISSED``,
  ``EXTRA`` or ``OUT_OF_RANGE``: those are about the beat *detection* and the physiological range,
  which timing judges (an interpolated ventricular beat with no compensatory pause is two short
  intervals, rightly merged as "extra");
- ``NORMAL`` (both beats of normal shape): the RR rule may not call it ``ECTOPIC``; its missed,
  extra, long, short and out-of-range labels stand (a dropped or doubled R-peak, a pause);
- ``UNKNOWN`` (no ECG there, or the labeller has no template yet): the RR-only label.

Pure: arrays of labels in, labels out; this module knows nothing of ECG or of time.
"""

from __future__ import annotations

import enum
from typing import Final, Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike

from biofeedback.hrv.artifacts_rule import BeatLabel, LabelArray

ArtifactSource = Literal["rr", "ecg_shape"]
ARTIFACT_SOURCES: Final[tuple[str, ...]] = ("rr", "ecg_shape")
"""``rr``: labels from RR timing alone; ``ecg_shape``: beat shapes from an ECG first, the RR rule
as the fallback (:func:`apply_shape`)."""


class IntervalShape(enum.IntEnum):
    """What the shapes of an interval's two beats say about it."""

    UNKNOWN = 0
    """No shape evidence (no ECG, or not judged): the RR-only label."""
    NORMAL = 1
    """Both beats of normal shape."""
    ECTOPIC = 2
    """A bounding beat ectopic by shape."""


_KEPT_FOR_ECTOPIC: Final = (BeatLabel.MISSED, BeatLabel.EXTRA, BeatLabel.OUT_OF_RANGE)


def as_shapes(shape: ArrayLike, size: int) -> np.ndarray:
    """``shape`` as an int8 array of :class:`IntervalShape` values, one per interval."""
    out = np.asarray(shape, dtype=np.int8)
    if out.shape != (size,):
        raise ValueError(f"shape must have one value per interval ({size}), got {out.shape}")
    if out.size and (out.min() < IntervalShape.UNKNOWN or out.max() > IntervalShape.ECTOPIC):
        raise ValueError("shape values must be IntervalShape (0 unknown, 1 normal, 2 ectopic)")
    return out


def apply_shape(labels: ArrayLike, shape: ArrayLike) -> LabelArray:
    """RR-only ``labels`` merged with per-interval ``shape`` evidence (the module's rule).

    >>> E, N, U = IntervalShape.ECTOPIC, IntervalShape.NORMAL, IntervalShape.UNKNOWN
    >>> rr_only = [0, 1, 0, 4, 1, 2]  # normal, ectopic, normal, long, ectopic, missed
    >>> apply_shape(rr_only, [N, N, E, E, U, E]).tolist()
    [0, 0, 1, 1, 1, 2]
    """
    lab = np.asarray(labels, dtype=np.int8)
    shp = as_shapes(shape, lab.size)
    ectopic = (shp == IntervalShape.ECTOPIC) & ~np.isin(lab, _KEPT_FOR_ECTOPIC)
    normal = (shp == IntervalShape.NORMAL) & (lab == BeatLabel.ECTOPIC)
    out = np.where(ectopic, np.int8(BeatLabel.ECTOPIC), lab)
    return np.where(normal, np.int8(BeatLabel.NORMAL), out).astype(np.int8)


def apply_shape_one(label: BeatLabel, shape: IntervalShape) -> BeatLabel:
    """:func:`apply_shape` for one interval (the online detector's form)."""
    if shape == IntervalShape.ECTOPIC and label not in _KEPT_FOR_ECTOPIC:
        return BeatLabel.ECTOPIC
    if shape == IntervalShape.NORMAL and label == BeatLabel.ECTOPIC:
        return BeatLabel.NORMAL
    return label


class ShapeSource(Protocol):
    """Where the live processor asks for an interval's shape (an ECG stage's beats matched to
    the strap's: :class:`biofeedback.ecg.matching.StrapShapes`)."""

    def interval_shape(self, t_end_s: float, rr_ms: float, segment: int) -> IntervalShape:
        """The shape evidence for the interval of ``rr_ms`` ending at ``t_end_s``."""
        ...
