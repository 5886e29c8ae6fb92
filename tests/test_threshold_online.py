"""Kubios threshold levels and ``none`` live (:mod:`biofeedback.hrv.artifacts_threshold_online`):
live labels against batch labels on real records, and the live processor applying them."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from biofeedback.cli.options import LIVE_CORRECTIONS as CLI_LIVE
from biofeedback.hrv.artifacts import correct_artifacts
from biofeedback.hrv.artifacts_rule import BeatLabel
from biofeedback.hrv.artifacts_threshold import THRESHOLD_LEVELS_S
from biofeedback.hrv.artifacts_threshold_online import LOOKAHEAD_BEATS, OnlineThresholdDetector
from biofeedback.hrv.processor import HrvProcessor
from biofeedback.hrv.settings import LIVE_CORRECTIONS, HrvSettings
from devices.events import Beat

DATA = Path(__file__).parent / "data"


def _ltdb(n: int = 10_000) -> np.ndarray:
    """LTDB 14046 (PhysioNet, ODC-By; tests/data/NOTICE.md): frequent ventricular ectopy."""
    with (DATA / "physionet" / "ltdb_14046_labelled.csv").open() as f:
        next(f)
        return np.array([float(line.split(",")[1]) for line in itertools.islice(f, n)])


def _polar() -> np.ndarray:
    """A real Polar H10 recording with bigeminy (tests/data/NOTICE.md)."""
    path = DATA / "detectpvc_polarh10" / "polar_h10_rr_extracted.csv"
    return np.loadtxt(path, delimiter=",", skiprows=1)[:, 1]


def _live(rr: np.ndarray, level: str) -> tuple[np.ndarray, np.ndarray]:
    det = OnlineThresholdDetector(level)  # type: ignore[arg-type]
    beats = [b for v in rr.tolist() for b in det.push(v)] + det.flush()
    assert [b.index for b in beats] == list(range(rr.size))
    labels = np.array([b.label for b in beats], np.int8)
    nn = np.array([b.nn_ms[0] if b.nn_ms else np.nan for b in beats])
    return labels, nn


AGREEMENT = {
    # level: (LTDB 14046 first 10 000 intervals, Polar H10 bigeminy 798), % of labels equal;
    # measured: 99.71 / 94.49, 99.61 / 97.24, 99.90 / 99.37, 99.82 / 100, 100 / 100
    "very-low": (99.7, 94.4),
    "low": (99.6, 97.2),
    "medium": (99.9, 99.3),
    "strong": (99.8, 100.0),
    "very-strong": (100.0, 100.0),
}
"""Live vs batch label agreement floors (measured a little above each; module notes: the live
threshold scales with the mean RR so far, batch with the chain's)."""


@pytest.mark.parametrize("level", list(THRESHOLD_LEVELS_S))
def test_live_labels_agree_with_batch_on_real_records(level: str) -> None:
    for rr, floor in zip((_ltdb(), _polar()), AGREEMENT[level], strict=True):
        batch = correct_artifacts(rr, correction=level)  # type: ignore[arg-type]
        live, nn = _live(rr, level)
        assert 100 * np.mean(live == batch.labels) >= floor
        assert np.all(np.isfinite(nn))
        normal = live == BeatLabel.NORMAL
        assert np.array_equal(nn[normal], rr[normal])


def test_an_isolated_outlier_is_labelled_five_beats_later() -> None:
    det = OnlineThresholdDetector("medium")
    rr = [800.0, 810, 790, 805, 1300, 800, 795, 810, 800, 790, 805]
    out = [(i, b) for i, v in enumerate(rr) for b in det.push(v)]
    got = {b.index: (i, b) for i, b in out}
    pushed_at, beat = got[4]
    assert pushed_at == 4 + LOOKAHEAD_BEATS
    assert beat.label == BeatLabel.LONG
    assert 790 < beat.nn_ms[0] < 810


def test_none_passes_every_in_range_interval_at_once() -> None:
    det = OnlineThresholdDetector("none")
    assert det.push(800.0)[0].nn_ms == (800.0,)
    assert det.push(1300.0)[0].label == BeatLabel.NORMAL
    assert det.push(3000.0) == []  # out of range: waits for its linear fill
    filled = det.push(900.0)
    assert [b.label for b in filled] == [BeatLabel.OUT_OF_RANGE, BeatLabel.NORMAL]
    assert filled[0].nn_ms == (1100.0,)


def test_every_level_is_live_and_the_processor_applies_it() -> None:
    assert tuple(CLI_LIVE) == tuple(LIVE_CORRECTIONS)
    rr = _polar()[:300]
    for level in ("none", "medium"):
        proc = HrvProcessor(HrvSettings(correction=level))  # type: ignore[arg-type]
        t_s, snap = 0.0, None
        for i, v in enumerate(rr.tolist()):
            t_s += v / 1000.0
            snap = proc.push(Beat(t_s, v, round(v * 1.024), 0, i)) or snap
        assert snap is not None
        assert snap.settings.correction == level
        share = snap.ln_rmssd.artifact_share
        assert share == 0.0 if level == "none" else share > 0.3  # bigeminy: half the beats
