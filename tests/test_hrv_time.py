"""Time-domain HRV against numpy definitions, published values and peer libraries' golden values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from biofeedback.hrv import time_domain as td
from biofeedback.hrv.analysis import analyze_record

REL = 1e-9


@pytest.fixture(scope="module")
def short_rr(reference_dir: Path) -> np.ndarray:
    return np.load(reference_dir / "pyhrv" / "SampleNNISeriesShort.npy").astype(np.float64)


def test_matches_plain_numpy_definitions(short_rr: np.ndarray) -> None:
    rr = short_rr
    d = np.diff(rr)
    assert td.mean_rr_ms(rr) == pytest.approx(rr.mean(), rel=REL)
    assert td.mean_hr_bpm(rr) == pytest.approx(60_000 / np.mean(rr), rel=REL)
    assert td.sdnn_ms(rr) == pytest.approx(rr.std(ddof=1), rel=REL)
    assert td.rmssd_ms(rr) == pytest.approx(np.sqrt(np.mean(d**2)), rel=REL)
    assert td.ln_rmssd(rr) == pytest.approx(np.log(np.sqrt(np.mean(d**2))), rel=REL)
    assert td.sdsd_ms(rr) == pytest.approx(d.std(ddof=1), rel=REL)
    assert td.pnn50_pct(rr) == pytest.approx(100 * np.mean(np.abs(d) > 50), rel=REL)
    assert td.pnn20_pct(rr) == pytest.approx(100 * np.mean(np.abs(d) > 20), rel=REL)
    sd1 = d.std(ddof=1) / np.sqrt(2)
    assert td.sd1_ms(rr) == pytest.approx(sd1, rel=REL)
    assert td.sd2_ms(rr) == pytest.approx(np.sqrt(2 * rr.var(ddof=1) - sd1**2), rel=REL)
    assert td.sd1_sd2_ratio(rr) == pytest.approx(sd1 / td.sd2_ms(rr), rel=REL)


def test_published_reference_values(short_rr: np.ndarray) -> None:
    # ../shared/reference/MANIFEST.md, pyhrv/SampleNNISeriesShort.npy
    assert td.mean_rr_ms(short_rr) == pytest.approx(888.955, abs=5e-4)
    assert td.sdnn_ms(short_rr) == pytest.approx(95.690, abs=5e-4)
    assert td.rmssd_ms(short_rr) == pytest.approx(101.301, abs=5e-4)
    assert td.sd1_ms(short_rr) == pytest.approx(71.737, abs=5e-4)
    assert td.sd2_ms(short_rr) == pytest.approx(114.748, abs=5e-4)


# NeuroKit2 0.2.13:
#   peaks = nk.intervals_to_peaks(rr, sampling_rate=1000)
#   nk.hrv_time(peaks, sampling_rate=1000); nk.hrv_nonlinear(peaks, sampling_rate=1000)
NEUROKIT = {
    "HRV_MeanNN": 888.9554896142433,
    "HRV_SDNN": 95.69035398754956,
    "HRV_RMSSD": 101.30063401766522,
    "HRV_SDSD": 101.451714184361,
    "HRV_pNN50": 48.367952522255194,  # divides by the number of intervals (337), not of diffs
    "HRV_SD1": 71.7371950627611,
}
# hrv-analysis 1.0.5: get_time_domain_features(list(rr)), get_poincare_plot_features(list(rr))
HRV_ANALYSIS = {
    "mean_nni": 888.9554896142433,
    "sdnn": 95.69035398754956,
    "rmssd": 101.30063401766522,
    "sdsd": 101.30063187538947,  # population SD (ddof=0) of the differences
    "pnni_50": 48.51190476190476,
    "pnni_20": 79.16666666666667,
    "mean_hr": 68.21534718213636,
    "sd1": 71.73719506276112,
    "sd2": 114.7478214915318,
}


def test_neurokit2_golden_values(short_rr: np.ndarray) -> None:
    rr = short_rr
    assert td.mean_rr_ms(rr) == pytest.approx(NEUROKIT["HRV_MeanNN"], rel=REL)
    assert td.sdnn_ms(rr) == pytest.approx(NEUROKIT["HRV_SDNN"], rel=REL)
    assert td.rmssd_ms(rr) == pytest.approx(NEUROKIT["HRV_RMSSD"], rel=REL)
    assert td.sdsd_ms(rr) == pytest.approx(NEUROKIT["HRV_SDSD"], rel=REL)
    assert td.sd1_ms(rr) == pytest.approx(NEUROKIT["HRV_SD1"], rel=REL)
    n_over = td.pnn50_pct(rr) * (rr.size - 1) / 100
    assert 100 * n_over / rr.size == pytest.approx(NEUROKIT["HRV_pNN50"], rel=REL)


def test_hrv_analysis_golden_values(short_rr: np.ndarray) -> None:
    rr = short_rr
    assert td.mean_rr_ms(rr) == pytest.approx(HRV_ANALYSIS["mean_nni"], rel=REL)
    assert td.sdnn_ms(rr) == pytest.approx(HRV_ANALYSIS["sdnn"], rel=REL)
    assert td.rmssd_ms(rr) == pytest.approx(HRV_ANALYSIS["rmssd"], rel=REL)
    assert td.pnn50_pct(rr) == pytest.approx(HRV_ANALYSIS["pnni_50"], rel=REL)
    assert td.pnn20_pct(rr) == pytest.approx(HRV_ANALYSIS["pnni_20"], rel=REL)
    # hrv-analysis averages the instantaneous rates; mean_hr_bpm is 60000 / mean RR as Kubios.
    assert np.mean(60_000 / rr) == pytest.approx(HRV_ANALYSIS["mean_hr"], rel=REL)
    assert td.mean_hr_bpm(rr) == pytest.approx(60_000 / np.mean(rr), rel=REL)
    assert td.sd1_ms(rr) == pytest.approx(HRV_ANALYSIS["sd1"], rel=REL)
    assert td.sd2_ms(rr) == pytest.approx(HRV_ANALYSIS["sd2"], rel=REL)
    sdsd_pop = np.sqrt(td.sdsd_ms(rr) ** 2 * (rr.size - 2) / (rr.size - 1))
    assert sdsd_pop == pytest.approx(HRV_ANALYSIS["sdsd"], rel=1e-6)


def test_live_peers_agree_when_installed(short_rr: np.ndarray) -> None:
    nk = pytest.importorskip("neurokit2")
    peaks = nk.intervals_to_peaks(short_rr, sampling_rate=1000)
    result = nk.hrv_time(peaks, sampling_rate=1000)
    for key in ("HRV_MeanNN", "HRV_SDNN", "HRV_RMSSD", "HRV_SDSD", "HRV_pNN50"):
        assert float(result[key].iloc[0]) == pytest.approx(NEUROKIT[key], rel=REL)


def test_differences_never_cross_segments() -> None:
    rr = np.array([800.0, 810, 790, 1200, 1210, 1190])
    seg = np.array([0, 0, 0, 1, 1, 1])
    d = np.array([10.0, -20, 10, -20])
    assert td.successive_differences_ms(rr, seg).tolist() == d.tolist()
    assert td.rmssd_ms(rr, seg) == pytest.approx(np.sqrt(np.mean(d**2)), rel=REL)
    assert td.pnn50_pct(rr, seg) == 0.0
    assert td.rmssd_ms(rr) > 100.0  # the 410-ms jump would dominate without segments


def test_segment_shape_is_validated() -> None:
    with pytest.raises(ValueError, match="segment"):
        td.rmssd_ms([800.0, 810.0, 820.0], segment=[0, 0])


def test_stress_index_follows_baevsky_formula() -> None:
    rr = np.array([800.0, 810, 820, 830, 840, 900, 1000])
    # Modal 50-ms bin [800, 850): 5 of 7 beats; Mo = 0.825 s; MxDMn = 0.2 s.
    expected = (100 * 5 / 7) / (2 * 0.825 * 0.2)
    assert td.stress_index(rr) == pytest.approx(expected, rel=REL)
    assert td.sqrt_stress_index(rr) == pytest.approx(np.sqrt(expected), rel=REL)


def test_report_dict_has_units_in_keys(short_rr: np.ndarray) -> None:
    report = analyze_record(short_rr).to_dict()
    time = report["time"]
    assert isinstance(time, dict)
    assert set(time) >= {"mean_rr_ms", "sdnn_ms", "rmssd_ms", "ln_rmssd_ln_ms", "pnn50_pct"}
    assert report["settings"]["window_s"] == 60.0  # type: ignore[index]
    freq = report["frequency"]
    assert isinstance(freq, dict)
    assert freq["hf_ms2"] > freq["lf_ms2"] > 0  # strong RSA in this recording
