"""The beat-shape hook of the artifact stage (hrv/artifacts_shape.py): with ECG shapes known,
intervals next to an ectopic-shaped beat are corrected as ectopic, normal-shaped ones are not
called ectopic by timing, and the RR-only rule decides where the shape is unknown."""

from __future__ import annotations

import numpy as np
import pytest

from biofeedback.hrv.artifacts import (
    BeatLabel,
    IntervalShape,
    OnlineArtifactDetector,
    correct_artifacts,
    detect_artifacts,
)
from biofeedback.hrv.artifacts_shape import apply_shape

N, E, U = IntervalShape.NORMAL, IntervalShape.ECTOPIC, IntervalShape.UNKNOWN


def sinus(n: int = 120, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 800.0 + 25.0 * np.sin(np.arange(n) / 3.0) + rng.normal(0.0, 4.0, n)


def with_premature(rr: np.ndarray, at: int, by_ms: float = 240.0) -> np.ndarray:
    out = rr.copy()
    out[at] -= by_ms
    out[at + 1] += by_ms
    return out


def test_the_rule_per_label() -> None:
    b = BeatLabel
    labels = [b.NORMAL, b.LONG, b.MISSED, b.EXTRA, b.OUT_OF_RANGE, b.ECTOPIC, b.ECTOPIC, b.SHORT]
    shapes = [E, E, E, E, E, N, U, N]
    got = apply_shape(labels, shapes).tolist()
    assert got == [1, 1, 2, 3, 6, 0, 1, 5]
    with pytest.raises(ValueError, match="one value per interval"):
        apply_shape(labels, shapes[:-1])


def test_a_premature_beat_on_time_is_found_only_by_its_shape() -> None:
    rr = sinus()
    rr_ectopic_on_time = rr.copy()  # a ventricular beat with no timing change: RR-only blind
    shape = np.full(rr.size, N, np.int8)
    shape[50:52] = E
    assert not detect_artifacts(rr_ectopic_on_time)[50:52].any()
    res = correct_artifacts(rr_ectopic_on_time, shape=shape)
    assert res.labels[50:52].tolist() == [BeatLabel.ECTOPIC, BeatLabel.ECTOPIC]
    assert res.n_corrected == 2
    # Corrected by interpolation between the neighbours, like any ectopic interval.
    assert res.nn_ms[50] == pytest.approx(rr[49] + (rr[52] - rr[49]) / 3)


def test_normal_shapes_veto_the_timing_rule_s_ectopic_label_but_not_a_missed_beat() -> None:
    rr = with_premature(sinus(), 60)
    rr[90] *= 2.0  # a missed R-peak: timing decides
    assert BeatLabel.ECTOPIC in detect_artifacts(rr)[60:62].tolist()
    shape = np.full(rr.size, N, np.int8)
    for kwargs in ({}, {"robust": True}, {"iterative": False}):
        res = correct_artifacts(rr, shape=shape, **kwargs)  # type: ignore[arg-type]
        assert BeatLabel.ECTOPIC not in res.labels.tolist()
        assert res.labels[90] == BeatLabel.MISSED
    # Unknown shape: the RR-only labels, exactly.
    unknown = np.full(rr.size, U, np.int8)
    np.testing.assert_array_equal(
        correct_artifacts(rr, shape=unknown).labels, correct_artifacts(rr).labels
    )
    np.testing.assert_array_equal(detect_artifacts(rr, shape=unknown), detect_artifacts(rr))


def test_no_correction_ignores_shapes() -> None:
    rr = sinus(40)
    shape = np.full(rr.size, E, np.int8)
    assert correct_artifacts(rr, correction="none", shape=shape).n_corrected == 0
    assert correct_artifacts(rr, correction="medium", shape=shape).n_corrected == rr.size


@pytest.mark.parametrize("robust", [False, True])
def test_online_detector_takes_shapes_now_or_when_the_label_is_decided(robust: bool) -> None:
    rr = with_premature(sinus(), 60)
    shape = np.full(rr.size, N, np.int8)
    shape[30:32] = E  # on time, shape only
    det = OnlineArtifactDetector(robust=robust)
    asked: list[int] = []

    def later(i: int) -> IntervalShape:
        asked.append(i)
        return IntervalShape(int(shape[i]))

    beats = []
    for i, value in enumerate(rr.tolist()):
        got = det.push(value, (lambda i=i: later(i)) if i % 2 else IntervalShape(int(shape[i])))
        beats += got
    beats += det.flush()
    labels = [b.label for b in beats]
    assert labels[30:32] == [BeatLabel.ECTOPIC, BeatLabel.ECTOPIC]
    assert BeatLabel.ECTOPIC not in labels[32:]  # the premature beat at 60 is normal-shaped
    assert all(b.by_shape for b in beats)
    assert asked == list(range(1, rr.size, 2))  # each asked once, in order
    assert beats[30].nn_ms != (rr[30],)  # replaced
    plain = [b for v in rr.tolist() for b in OnlineArtifactDetector(robust=robust).push(v)]
    assert not any(b.by_shape for b in plain)


def test_the_batch_and_online_forms_of_the_rule_agree_on_every_pair() -> None:
    from biofeedback.hrv.artifacts_shape import apply_shape_one

    pairs = [(label, shape) for label in BeatLabel for shape in IntervalShape]
    batch = apply_shape([p[0] for p in pairs], [p[1] for p in pairs]).tolist()
    assert batch == [apply_shape_one(label, shape) for label, shape in pairs]
