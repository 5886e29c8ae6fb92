"""Kubios parity: the Kubios HRV Standard 3.1 sample report (PGomes92/kubios, BSD-3-Clause).

Values copied from ``SampleReport.txt`` (Kubios HRV Standard 3.1.0.1, 13-Sep-2018; "Artifact
correction: none", "Detrending method: none", 423 beats, 5 min). The RR intervals are its
``SampleExport.txt`` (ms), in ``tests/data/formats/`` when that copy is there
(tests/data/NOTICE.md), else read from ``../shared/reference/formats/``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from biofeedback.cli.cmd_analyze import analyze_settings
from biofeedback.cli.main import build_parser
from biofeedback.cli.options import CORRECTION_CHOICES
from biofeedback.hrv.analysis import analyze_record
from biofeedback.hrv.correction_levels import CORRECTION_LEVELS
from biofeedback.hrv.settings import HrvSettings

HERE = Path(__file__).resolve().parent
SUB = Path("formats") / "PGomes92__kubios" / "SampleExport.txt"
CANDIDATES = (HERE / "data" / SUB, HERE.parents[1] / "shared" / "reference" / SUB)

KUBIOS = {  # Kubios HRV Standard 3.1.0.1, SampleReport.txt, "Time-Domain" / "Nonlinear Results"
    "mean_rr_ms": 707.5437,
    "sdnn_ms": 92.7945,
    "mean_hr_bpm": 84.8004,
    "rmssd_ms": 56.8586,
    "pnn20_pct": 45.2607,  # "Threshold for NNxx/pNNxx: 20 ms"
    "sd1_ms": 40.253428,
    "sd2_ms": 124.983623,
}
KUBIOS_SAMPEN = 0.7436


def _rr() -> np.ndarray:
    for path in CANDIDATES:
        if path.exists():
            lines = path.read_text(encoding="latin-1").splitlines()
            return np.array([float(x) for x in lines if x.strip() and not x.startswith("#")])
    pytest.skip(f"needs {SUB} (tests/data or ../shared/reference; not in this checkout)")


def _kubios_settings() -> HrvSettings:
    return HrvSettings(correction="none", detrend="none", time_detrend="none")


def test_sample_report_time_domain_as_kubios_prints_it() -> None:
    rr = _rr()
    assert rr.size == 423
    time = analyze_record(rr, settings=_kubios_settings()).to_dict()["time"]
    assert isinstance(time, dict)
    # RMSSD 56.86, SDNN 92.79, SD1 40.25: the figures the report gives, and within 0.5 %.
    assert round(time["rmssd_ms"], 2) == 56.86
    assert round(time["sdnn_ms"], 2) == 92.79
    assert round(time["sd1_ms"], 2) == 40.25
    assert round(time["mean_hr_bpm"], 4) == KUBIOS["mean_hr_bpm"]  # 60000 / mean RR
    for key, value in KUBIOS.items():
        assert time[key] == pytest.approx(value, rel=0.005), key


def test_sample_report_sample_entropy_within_two_percent() -> None:
    doc = analyze_record(_rr(), settings=_kubios_settings()).to_dict()
    nonlinear = doc["nonlinear"]
    assert isinstance(nonlinear, dict)
    assert nonlinear["sampen"] == pytest.approx(KUBIOS_SAMPEN, rel=0.02)


def test_default_correction_changes_the_sample_and_none_does_not() -> None:
    rr = _rr()
    corrected = analyze_record(rr).to_dict()
    raw = analyze_record(rr, settings=_kubios_settings()).to_dict()
    assert raw["n_corrected"] == 0
    assert raw["settings"]["correction"] == "none"  # type: ignore[index]
    assert isinstance(corrected["n_corrected"], int)
    assert corrected["n_corrected"] > 0
    assert corrected["settings"]["correction"] == "automatic"  # type: ignore[index]


def test_detrending_before_time_domain_lowers_sdnn_keeps_mean_rr() -> None:
    rr = _rr()
    flat = analyze_record(rr, settings=_kubios_settings()).time
    settings = HrvSettings(correction="none", time_detrend="smoothness_priors")
    detrended = analyze_record(rr, settings=settings).time
    assert detrended.mean_rr_ms == pytest.approx(flat.mean_rr_ms, rel=1e-9)
    assert detrended.sdnn_ms < 0.9 * flat.sdnn_ms
    assert detrended.rmssd_ms == pytest.approx(flat.rmssd_ms, rel=0.35)


def test_cli_choices_are_the_correction_levels() -> None:
    assert tuple(CORRECTION_CHOICES) == CORRECTION_LEVELS


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], ("automatic", "published", "smoothness_priors", "none", 500.0)),
        (
            ["--correction", "none", "--detrend", "none"],
            ("none", "published", "none", "none", 500.0),
        ),
        (["--artifact-method", "robust"], ("robust", "robust", "smoothness_priors", "none", 500.0)),
        (
            ["--correction", "medium", "--detrend", "smoothness-priors:256"],
            ("medium", "published", "smoothness_priors", "smoothness_priors", 256.0),
        ),
    ],
)
def test_analyze_arguments_reach_the_settings(
    argv: list[str], expected: tuple[object, ...]
) -> None:
    args = build_parser().parse_args(["analyze", "x.txt", *argv])
    assert isinstance(args, argparse.Namespace)
    s = analyze_settings(args, HrvSettings())
    assert (s.correction, s.artifact_method, s.detrend, s.time_detrend, s.time_detrend_lambda) == (
        expected
    )
