"""Irregular rhythm from RR alone: withheld from HRV, never counted as artifacts."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from biofeedback.hrv.analysis import analyze_record, prepare_nn
from biofeedback.hrv.rhythm import COSEN_MIN, MESSAGE, cosen, segment_features, withheld_mask
from biofeedback.hrv.settings import HrvSettings
from tests.labelled_support import rr_and_af


def _af_like(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(450.0, 1050.0, n)


def _sinus(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 850.0 + 40.0 * np.sin(np.arange(n) / 2.0) + 8.0 * rng.standard_normal(n)


def test_an_irregular_stretch_is_withheld_and_sinus_is_not() -> None:
    rr = np.r_[_sinus(600, 1), _af_like(600, 2), _sinus(600, 3)]
    mask = withheld_mask(rr)
    assert not mask[:500].any()
    assert mask[700:1100].all()
    assert not mask[1300:].any()


def test_bigeminy_is_regularly_irregular_not_withheld() -> None:
    sinus = _sinus(800, 4)
    rr = sinus.copy()
    rr[1::2] *= 0.6  # premature
    rr[2::2] *= 1.4  # compensatory pause
    assert segment_features(rr).tpr.min() > 0.9
    assert not withheld_mask(rr).any()


def test_real_polar_h10_bigeminy_is_not_withheld(reference_dir: Path) -> None:
    with (reference_dir / "detectpvc_polarh10" / "polar_h10_rr_extracted.csv").open() as fh:
        rr = np.array([float(r["rr"]) for r in csv.DictReader(fh)])
    assert withheld_mask(rr).mean() == 0.0
    feats = segment_features(rr)
    dash = np.isfinite(feats.cosen)  # COSEn is computed where Dash et al.'s three tests flag
    assert dash.mean() > 0.3  # they alone are fooled by bigeminy with varying coupling
    assert (feats.cosen[dash] < COSEN_MIN).all()  # its short-long pattern is predictable


@pytest.mark.parametrize("cv", [0.05, 0.115, 0.2])
def test_cosen_of_independent_intervals_is_log_of_their_spread(cv: float) -> None:
    # Lake & Moorman (2011): COSEn = SampEn + ln(2r) - ln(mean); for independent Gaussian RR
    # SampEn -> -ln(2r / (2 sqrt(pi) sd)), so COSEn -> ln(2 sqrt(pi) CV): -0.9 is CV 11.5 %.
    rr = 800.0 * (1.0 + cv * np.random.default_rng(3).standard_normal(2000))
    assert cosen(rr) == pytest.approx(np.log(2 * np.sqrt(np.pi) * cv), abs=0.06)


def test_cosen_of_a_repeating_pattern_is_low_and_of_no_match_is_infinite() -> None:
    rr = np.tile([1000.0, 820.0, 1250.0], 40)  # every match continues: SampEn 0
    assert cosen(rr) == pytest.approx(np.log(2 * 30.0 / rr.mean()))
    assert cosen(np.arange(500.0, 500.0 + 100 * 40, 40)) == np.inf


@pytest.mark.parametrize(
    "name", ["pyhrv/SampleNNISeriesLong.npy", "physionet/rr_healthy_000_ms.txt"]
)
def test_clean_records_are_not_withheld(reference_dir: Path, name: str) -> None:
    path = reference_dir / name
    rr = np.load(path).astype(float) if path.suffix == ".npy" else np.loadtxt(path)
    assert not withheld_mask(rr[:8_000]).any()


def test_chains_are_judged_separately() -> None:
    rr = np.r_[_sinus(300, 5), _af_like(300, 6)]
    seg = np.r_[np.zeros(300, int), np.ones(300, int)]
    mask = withheld_mask(rr, seg)
    assert not mask[:300].any()
    assert mask[300:].all()
    assert not withheld_mask(_af_like(100, 7)).any()  # shorter than one segment: not judged


def test_withheld_intervals_are_not_artifacts_and_leave_the_nn_series() -> None:
    rr = np.r_[_sinus(600, 8), _af_like(600, 9), _sinus(600, 10)]
    series = prepare_nn(rr, withhold_irregular=True)
    assert series.withheld is not None
    assert series.n_withheld > 400
    assert not series.labels[series.withheld].any()
    assert series.nn_ms.size < rr.size - 400
    report = analyze_record(rr).to_dict()
    rhythm = report["rhythm"]
    assert isinstance(rhythm, dict)
    assert rhythm["message"] == MESSAGE
    assert report["corrected_share"] < 0.05  # judged over the intervals not withheld
    assert report["time"]["rmssd_ms"] < 30  # type: ignore[index]  # sinus alone: 18 ms
    off = analyze_record(rr, settings=HrvSettings(rhythm_check=False)).to_dict()
    assert off["time"]["rmssd_ms"] > 100  # type: ignore[index]


def test_a_wholly_irregular_record_reports_the_reason_instead_of_hrv() -> None:
    doc = analyze_record(_af_like(800, 11)).to_dict()
    assert doc["valid"] is False
    assert doc["reason"] == MESSAGE
    assert doc["time"]["rmssd_ms"] is None  # type: ignore[index]
    assert doc["reasons"]["time.rmssd_ms"] == MESSAGE  # type: ignore[index]
    assert doc["estimates"]["ln_rmssd_ln_ms"]["reason"] == MESSAGE  # type: ignore[index]
    assert doc["n_corrected"] == 0


def _mitdb(shared: Path, record: str) -> tuple[np.ndarray, np.ndarray]:
    """RR and an AF/flutter flag per interval from the rhythm annotations of a record."""
    return rr_and_af(shared / "physionet" / "labelled" / f"mitdb_{record}.csv")


@pytest.mark.parametrize(
    ("record", "min_af", "max_other"), [("201", 0.95, 1.0), ("203", 0.95, 1.0), ("101", 0.0, 0.0)]
)
def test_mitdb_af_is_withheld(
    reference_dir: Path, record: str, min_af: float, max_other: float
) -> None:
    rr, af = _mitdb(reference_dir, record)
    mask = withheld_mask(rr)
    # Measured: 201 and 203 100 % of AF intervals withheld; 101 (sinus) none.
    if af.any():
        assert mask[af].mean() >= min_af
    assert mask[~af].mean() <= max_other
