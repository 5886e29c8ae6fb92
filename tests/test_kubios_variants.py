"""Kubios reports in the layouts other Kubios versions write (tests/kubios_layouts.py, texts
written for this project around the RR series of the Kubios 3.1 sample, tests/data/NOTICE.md):
their RR series, settings and results read back, and the settings drive the recomputation.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from biofeedback.cli.cmd_analyze import analyze_settings
from biofeedback.cli.cmd_kubios import compare
from biofeedback.cli.main import build_parser
from biofeedback.errors import InputError
from biofeedback.hrv.analysis import analyze_record, prepare_nn
from biofeedback.hrv.detrend import detrend_at_beats
from biofeedback.hrv.settings import HrvSettings
from biofeedback.sessions.formats import detect_format, read_recording
from tests.cli_support import run_cli
from tests.kubios_layouts import TIME_4X, Layout, report_3x

EXPORT = Path(__file__).parent / "data" / "formats" / "PGomes92__kubios" / "SampleExport.txt"


@pytest.fixture(scope="module")
def rr_s() -> np.ndarray:
    lines = EXPORT.read_text(encoding="latin-1").splitlines()
    return np.array([float(x) for x in lines if x.strip() and not x.startswith("#")]) / 1000.0


def _write(tmp_path: Path, text: str, name: str = "report.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="latin-1", newline="")
    return path


def _cli_settings(*argv: str) -> HrvSettings:
    args = build_parser().parse_args(["analyze", "x.txt", *argv])
    settings = analyze_settings(args, HrvSettings())
    assert isinstance(settings, HrvSettings)
    return settings


@pytest.mark.parametrize(
    ("detrending", "correction", "argv"),
    [
        (
            "Smoothn priors (lambda: 500)",
            "Artefact correction: Threshold (medium)",
            ("--correction", "medium", "--detrend", "smoothness-priors:500"),
        ),
        (
            "Smoothn priors (Lambda = 300)",
            "Beat correction: Automatic correction",
            ("--correction", "automatic", "--detrend", "smoothness-priors:300"),
        ),
        (
            "Smoothn priors (lambda=256)",
            "Beat correction: Very low (threshold)",
            ("--correction", "very-low", "--detrend", "smoothness-priors:256"),
        ),
        ("none", "Artifact correction: None", ("--correction", "none", "--detrend", "none")),
    ],
)
def test_a_variant_report_is_recomputed_with_its_settings(
    tmp_path: Path, rr_s: np.ndarray, detrending: str, correction: str, argv: tuple[str, ...]
) -> None:
    text = report_3x(rr_s, {"Detrending method": detrending}, correction)
    doc = compare(_write(tmp_path, text))
    want = _cli_settings(*argv)
    got = doc["settings"]
    assert got["correction"] == want.correction
    assert (got["detrend"], got["time_detrend"]) == (want.detrend, want.time_detrend)
    assert got["detrend_lambda"] == want.detrend_lambda  # the spectrum's, on the 4-Hz series
    assert got["time_detrend_lambda"] == want.time_detrend_lambda
    assert tuple(got["nonlinear"]["alpha1_scales_beats"]) == (4, 12)
    # the time domain ours is what `analyze` gives with those options: the series corrected,
    # then detrended as Kubios does (lambda on its 4-Hz series, back at the beats:
    # hrv.detrend.detrend_at_beats), by hand and by the options alike
    rr_ms, t_s = rr_s * 1000.0, np.cumsum(rr_s)
    mine = analyze_record(rr_ms, t_s=t_s, settings=want).time
    if want.time_detrend == "smoothness_priors":
        assert "Kubios's detrended series" in doc["settings_notes"]["time_detrend"]
        nn = prepare_nn(rr_ms, t_s, correction=want.correction)
        by_hand = detrend_at_beats(nn.nn_ms, nn.t_s, want.detrend_lambda, 4.0)
        plain = replace(want, correction="none", time_detrend="none")
        assert analyze_record(by_hand, settings=plain).time.sdnn_ms == pytest.approx(
            mine.sdnn_ms, rel=1e-6
        )
    rows = {row["ours_key"]: row["ours"] for row in doc["metrics"]}
    assert rows["time.rmssd_ms"] == pytest.approx(mine.rmssd_ms, rel=1e-6)
    assert rows["time.sdnn_ms"] == pytest.approx(mine.sdnn_ms, rel=1e-6)


def test_detrending_and_correction_change_the_recomputed_numbers(
    tmp_path: Path, rr_s: np.ndarray
) -> None:
    plain = compare(_write(tmp_path, report_3x(rr_s, {}), "a.txt"))
    varied = report_3x(
        rr_s, {"Detrending method": "Smoothn priors (lambda: 500)"}, "Artifact correction: medium"
    )
    other = compare(_write(tmp_path, varied, "b.txt"))
    sdnn = [{r["metric"]: r["ours"] for r in d["metrics"]}["SDNN (ms)"] for d in (plain, other)]
    assert sdnn[1] < 0.9 * sdnn[0]  # detrended before the time domain, as Kubios does


def _csv_4x(rr_s: np.ndarray, sep: str = ";", decimal_comma: bool = True) -> str:
    return Layout(
        [rr_s],
        settings={
            "Detrending method": "Smoothn priors (lambda: 500)",
            "VLF": "0 - 0,04 Hz" if decimal_comma else "0 - 0.04 Hz",
            "Window width": "256 s",
            "Entropy, tolerance": "0,2 x SD" if decimal_comma else "0.2 x SD",
        },
        sample_lines=("Beat correction: Threshold (strong)",),
        results=({"SDNN (ms)": 61.25, "RMSSD (ms)": 55.5, "LF (ms^2)": 5000.5},),
        names=TIME_4X,
        sep=sep,
        decimal_comma=decimal_comma,
        first_lines=(f"sep={sep}", "Kubios HRV Scientific", "4.1.0"),
        version="",
        rr_title="RR INTERVAL DATA, SPECTRUM ESTIMATES AND ECG-WAVEFORM",
    ).text()


@pytest.mark.parametrize(("sep", "decimal_comma"), [(";", True), ("\t", True), (",", False)])
def test_a_scientific_4x_csv_report_in_any_locale(
    tmp_path: Path, rr_s: np.ndarray, sep: str, decimal_comma: bool
) -> None:
    path = _write(tmp_path, _csv_4x(rr_s, sep, decimal_comma), "report.csv")
    assert detect_format(path) == "kubios_report"
    recording = read_recording(path)
    assert recording.rr_ms.size == rr_s.size
    assert recording.rr_ms[:3].tolist() == pytest.approx((rr_s[:3] * 1000.0).tolist())
    assert recording.meta["kubios_layout"] == {"separator": sep, "decimal_comma": decimal_comma}
    assert recording.meta["app"] == "Kubios HRV 4.1.0"
    results = recording.meta["kubios_results"]
    assert results["SDNN (ms)"] == 61.25
    assert results["LF (ms^2)"] == {"FFT spectrum": 5000.5, "AR spectrum": 2.0}
    doc = compare(path)
    assert doc["kubios"]["artifact_correction"] == "Threshold (strong)"
    s = doc["settings"]
    assert (s["correction"], s["detrend"], s["detrend_lambda"]) == (
        "strong",
        "smoothness_priors",
        500.0,
    )
    assert (tuple(s["vlf_band_hz"]), s["welch_segment_s"]) == ((0.0, 0.04), 256.0)
    assert s["nonlinear"]["r_factor"] == 0.2
    rows = {r["metric"]: r for r in doc["metrics"]}
    assert rows["SDNN (ms)"]["kubios"] == 61.25  # "SDNN (ms)", the 3.4.2+ name of "STD RR"


def test_a_report_without_rr_data_says_how_to_get_it(tmp_path: Path, rr_s: np.ndarray) -> None:
    text = Layout([rr_s], with_rr=False).text()
    ran = run_cli("analyze", "--compare-kubios", str(_write(tmp_path, text)))
    assert ran.returncode == 2
    assert ran.stderr.count("\n") == 1
    assert "carries no RR data" in ran.stderr
    assert "export the RR intervals" in ran.stderr


@pytest.mark.parametrize("where", ["results", "rr header"])
def test_a_truncated_report_is_refused_on_one_line(
    tmp_path: Path, rr_s: np.ndarray, where: str
) -> None:
    text = report_3x(rr_s, {})
    marker = "Frequency-Domain Results" if where == "results" else "RR Data"
    path = _write(tmp_path, text[: text.index(marker) + 5])
    ran = run_cli("analyze", "--compare-kubios", str(path))
    assert ran.returncode == 2
    assert ran.stderr.count("\n") == 1
    assert "truncated" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_a_report_cut_inside_its_rr_table_drops_the_cut_row(
    tmp_path: Path, rr_s: np.ndarray
) -> None:
    text = report_3x(rr_s, {})
    path = _write(tmp_path, text[: text.rindex("\r\n") - 3])  # the last RR cell cut short
    recording = read_recording(path)
    assert recording.rr_ms.size == rr_s.size - 1
    assert "row dropped" in recording.meta["kubios_notes"][0]


def test_an_rr_table_in_ms_and_a_sample_not_in_the_report(tmp_path: Path, rr_s: np.ndarray) -> None:
    path = _write(tmp_path, Layout([rr_s], rr_unit="(ms)").text())
    assert read_recording(path).rr_ms[:2].tolist() == pytest.approx((rr_s[:2] * 1000).tolist())
    with pytest.raises(InputError, match="no sample 3; it holds Sample 1"):
        compare(path, sample=3)


def test_an_rr_table_with_kubios_mean_is_not_corrected_again(
    tmp_path: Path, rr_s: np.ndarray
) -> None:
    """Kubios's RR data table is the series it analysed: its mean is Kubios's Mean RR (as on a
    Kubios 3.3 report with "Threshold (medium)", where correcting it again moved RMSSD -4.9 %)."""
    mean = float(np.mean(rr_s * 1000.0))
    layout = Layout(
        [rr_s],
        settings={
            "Detrending method": "Smoothn priors (lambda: 256)",
            "Apply detrending for nonlinear analysis": "1",
        },
        sample_lines=("Artifact correction: Threshold (medium)",),
        results=({"Mean RR  (ms)": round(mean, 4)},),
    )
    doc = compare(_write(tmp_path, layout.text()))
    assert doc["settings"]["correction"] == "none"
    assert "not corrected again" in doc["settings_notes"]["correction"]
    assert doc["kubios"]["artifact_correction"] == "Threshold (medium)"
    assert "detrended series" in doc["settings_notes"]["nonlinear"]
    layout.results = ({"Mean RR  (ms)": round(mean + 0.5, 4)},)  # another mean: corrected here
    assert compare(_write(tmp_path, layout.text(), "b.txt"))["settings"]["correction"] == "medium"


def test_kubios_detrending_removes_more_than_lambda_over_beats(rr_s: np.ndarray) -> None:
    """λ on the 4-Hz series is a higher cut-off than λ over beats (about 1.3 beats/s here):
    SDNN falls further; RMSSD barely moves; mean RR is kept."""
    from biofeedback.hrv.detrend import smoothness_priors_detrend

    rr = rr_s * 1000.0
    kubios = detrend_at_beats(rr, np.cumsum(rr_s), 500.0, 4.0)
    beats = smoothness_priors_detrend(rr, 500.0) + rr.mean()
    assert kubios.mean() == pytest.approx(rr.mean())
    assert np.std(kubios) < 0.9 * np.std(beats)
    rmssd = [float(np.sqrt(np.mean(np.diff(x) ** 2))) for x in (rr, kubios)]
    assert rmssd[1] == pytest.approx(rmssd[0], rel=0.05)


def test_a_time_varying_section_is_not_read_as_results(tmp_path: Path, rr_s: np.ndarray) -> None:
    """Premium/Scientific reports put a TIME-VARYING RESULTS table before the RR data."""
    text = report_3x(rr_s, {})
    block = (
        "TIME-VARYING RESULTS          ,\r\n"
        "                              ,WHOLE DATA,\r\n"
        "                              ,Time,Beats total,RMSSD,\r\n"
        "                              ,(hh:mm:ss),(count),(ms),\r\n"
        "                              ,00:00:00,100,99.0,\r\n"
        "  RMSSD (ms):                 ,  77.0,\r\n\r\n"
    )
    at = text.index("RR INTERVAL DATA")
    path = _write(tmp_path, text[:at] + block + text[at:])
    recording = read_recording(path)
    assert recording.meta["kubios_results"]["RMSSD (ms)"] == 1.0  # the sample's, not 77
    assert recording.rr_ms.size == rr_s.size
