"""``analyze --compare-kubios``: a Kubios report's own results beside this program's.

On the Kubios HRV Standard 3.1 sample report (PGomes92/kubios, BSD-3-Clause, tests/data):
correction none, no detrending, as the report states; the time domain agrees to 0.1 %.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from biofeedback.cli.cmd_kubios import kubios_settings, pnn_threshold
from biofeedback.hrv.settings import HrvSettings
from tests.cli_support import run_cli

REPORT = Path(__file__).parent / "data" / "formats" / "PGomes92__kubios" / "SampleReport.txt"


def _doc(path: Path = REPORT) -> dict[str, object]:
    ran = run_cli("analyze", "--compare-kubios", "--json", str(path))
    assert ran.returncode == 0, ran.stderr
    doc = json.loads(ran.stdout)
    assert isinstance(doc, dict)
    return doc


def _rows(doc: dict[str, object]) -> dict[str, dict[str, object]]:
    metrics = doc["metrics"]
    assert isinstance(metrics, list)
    return {row["metric"]: row for row in metrics}


def test_the_sample_report_is_analysed_with_the_settings_it_states() -> None:
    doc = _doc()
    settings = doc["settings"]
    assert isinstance(settings, dict)
    assert settings["correction"] == "none"
    assert (settings["detrend"], settings["time_detrend"]) == ("none", "none")
    assert settings["welch_segment_s"] == 300.0
    assert settings["welch_overlap"] == 0.5
    assert settings["vlf_band_hz"] == [0.0, 0.04]
    assert doc["beats"] == 423
    assert doc["kubios"] == {
        "app": "Kubios HRV 3.1.0.1",
        "artifact_correction": "none",
        "detrending": "none",
    }


def test_time_domain_and_poincare_agree_with_kubios_to_a_tenth_of_a_percent() -> None:
    rows = _rows(_doc())
    assert rows["Mean RR (ms)"]["kubios"] == 707.5437
    assert rows["RMSSD (ms)"]["kubios"] == 56.8586
    assert rows["pNN20 (%)"]["kubios"] == 45.2607  # the report's NNxx threshold is 20 ms
    for name in ("Mean RR (ms)", "SDNN (ms)", "Mean HR (beats/min)", "RMSSD (ms)", "pNN20 (%)"):
        row = rows[name]
        assert row["ours"] == pytest.approx(row["kubios"], rel=1e-4), name
        assert row["difference"] == pytest.approx(row["ours"] - row["kubios"])  # type: ignore[operator]
    for name in ("SD1 (ms)", "SD2 (ms)", "ApEn"):
        assert abs(rows[name]["relative_pct"]) < 0.1, name  # type: ignore[arg-type]
    assert abs(rows["SampEn"]["relative_pct"]) < 2  # type: ignore[arg-type]
    # Kubios's FFT column, not its AR column, is the one compared (Welch against Welch).
    assert rows["LF (ms^2, FFT)"]["kubios"] == 5673.0207
    assert rows["LF/HF (FFT)"]["kubios"] == 3.028


def test_the_text_table_has_a_row_per_metric_with_both_values_and_the_difference() -> None:
    ran = run_cli("analyze", "--compare-kubios", str(REPORT))
    assert ran.returncode == 0
    lines = ran.stdout.splitlines()
    assert "correction none, detrending none, Welch 300 s / 50 %, 4 Hz" in lines[0]
    (rmssd,) = [ln for ln in lines if ln.strip().startswith("RMSSD (ms)")]
    assert rmssd.split()[2:] == ["56.8586", "56.8595", "+0.0009", "+0.00"]
    assert lines[-1] == "Not a medical device."


def test_a_report_with_detrending_and_correction_is_analysed_with_them(tmp_path: Path) -> None:
    text = REPORT.read_text(encoding="latin-1")
    text = text.replace(
        " Detrending method: none", " Detrending method: Smoothn priors (Lambda = 300)"
    )
    text = text.replace("Artifact correction: none", "Artifact correction: very low (custom)")
    edited = tmp_path / "report.txt"
    edited.write_text(text, encoding="latin-1")
    doc = _doc(edited)
    settings, notes = doc["settings"], doc["settings_notes"]
    assert isinstance(settings, dict)
    assert isinstance(notes, dict)
    # its RR table is the series Kubios analysed (mean = Kubios's Mean RR): not corrected again
    assert settings["correction"] == "none"
    assert "very low (custom)" in notes["correction"]
    assert (settings["detrend"], settings["detrend_lambda"]) == ("smoothness_priors", 300.0)
    assert (settings["time_detrend"], settings["time_detrend_lambda"]) == (
        "smoothness_priors",
        300.0,
    )
    assert "4-Hz series" in notes["time_detrend"]  # detrended as Kubios does, not over beats
    rows = _rows(doc)
    for name in ("DFA alpha 1", "DFA alpha 2"):  # ranges 4-12 / 13-64 as the report states
        assert rows[name]["ours"] is not None, name


def test_dfa_and_spectra_of_the_sample_report_within_the_parity_goals() -> None:
    """DFA 4-12 / 13-64 beats (the report's ranges) within 2 %; FFT powers within 5 %."""
    rows = _rows(_doc())
    for name in ("DFA alpha 1", "DFA alpha 2", "SampEn"):
        assert abs(rows[name]["relative_pct"]) < 2, name  # type: ignore[arg-type]
    for name in ("VLF (ms^2, FFT)", "LF (ms^2, FFT)", "HF (ms^2, FFT)", "Total power (ms^2, FFT)"):
        assert abs(rows[name]["relative_pct"]) < 5, name  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stated", "level", "lambda_"),
    [
        ({"Artifact correction": "Threshold (medium)"}, "medium", None),
        ({"Artifact correction": "Threshold (very strong)"}, "very-strong", None),
        ({"Artifact correction": "Automatic correction"}, "automatic", None),
        ({"Detrending method": "Smoothn priors (lambda: 256)"}, "none", 256.0),
    ],
)
def test_the_forms_kubios_reports_state_their_settings_in(
    stated: dict[str, str], level: str, lambda_: float | None
) -> None:
    """As Kubios HRV 3.x writes them (FACTS §2.6: 'Threshold (medium)', 'Smoothn priors
    (lambda: 256)'); the correction level a threshold names, the λ after a colon."""
    settings, notes = kubios_settings(stated, HrvSettings())
    assert settings.correction == level
    if lambda_ is not None:
        assert (settings.detrend, settings.detrend_lambda) == ("smoothness_priors", lambda_)
        assert settings.time_detrend_lambda == lambda_
        assert "detrend" not in notes


def test_settings_the_report_does_not_state_are_said_so() -> None:
    settings, notes = kubios_settings({"Artifact correction": "Threshold 0.3 s"}, HrvSettings())
    assert settings.correction == "none"
    assert "not corrected here" in notes["correction"]
    assert settings.detrend == "none"
    assert pnn_threshold({}) == 50


def test_a_file_that_is_not_a_kubios_report_is_refused_on_one_line(tmp_path: Path) -> None:
    rr = tmp_path / "rr.txt"
    rr.write_text("800\n810\n790\n" * 40)
    ran = run_cli("analyze", "--compare-kubios", str(rr))
    assert ran.returncode == 2
    assert ran.stdout == ""
    assert ran.stderr.count("\n") == 1
    assert "needs a Kubios HRV report" in ran.stderr
