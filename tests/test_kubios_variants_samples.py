"""Kubios reports of several samples (tests/kubios_layouts.py, texts written for this project
around the RR series of the Kubios 3.1 sample, tests/data/NOTICE.md): each sample's beats,
Kubios's results and settings, compared sample by sample; merged samples as one series.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from biofeedback.cli.cmd_kubios import compare
from biofeedback.sessions.formats import read_recording
from tests.cli_support import run_cli
from tests.kubios_layouts import Layout
from tests.test_kubios_variants import _write, rr_s

__all__ = ["rr_s"]  # the fixture


def _two_samples(rr_s: np.ndarray, own_columns: bool) -> str:
    t = np.cumsum(rr_s)
    halves = [rr_s[t <= 150.0], rr_s[t > 150.0]]
    return Layout(
        halves if own_columns else [rr_s],
        settings={"Number of samples": "2", "Detrending method": "none"},
        samples=(("Sample 1", "00:00:00-00:02:30"), ("Sample 2", "00:02:30-00:05:00")),
        per_sample={"Artifact correction": ("none", "Threshold (low)")},
        results=(
            {"RMSSD (ms)": 11.0, "LF (ms^2)": 100.0},
            {"RMSSD (ms)": 22.0, "LF (ms^2)": 200.0},
        ),
        sample_lines=("Sample Analysis Type: Single samples",),
    ).text()


@pytest.mark.parametrize("own_columns", [False, True])
def test_each_sample_of_a_report_is_compared_with_its_own_beats_and_results(
    tmp_path: Path, rr_s: np.ndarray, own_columns: bool
) -> None:
    path = _write(tmp_path, _two_samples(rr_s, own_columns))
    t = np.cumsum(rr_s)
    first = read_recording(path)
    assert first.meta["kubios_sample"]["number"] == 1
    assert [s["name"] for s in first.meta["kubios_samples"]] == ["Sample 1", "Sample 2"]
    assert first.rr_ms.size == int(np.count_nonzero(t <= 150.0))
    ran = run_cli("analyze", "--compare-kubios", "--json", str(path))
    assert ran.returncode == 0, ran.stderr
    docs = [json.loads(line) for line in ran.stdout.splitlines()]
    assert [d["sample"]["number"] for d in docs] == [1, 2]
    assert [d["beats"] for d in docs] == [
        int(np.count_nonzero(t <= 150.0)),
        int(np.count_nonzero(t > 150.0)),
    ]
    assert [d["settings"]["correction"] for d in docs] == ["none", "low"]
    kubios = [{r["metric"]: r["kubios"] for r in d["metrics"]} for d in docs]
    assert [k["RMSSD (ms)"] for k in kubios] == [11.0, 22.0]
    assert [k["LF (ms^2, FFT)"] for k in kubios] == [100.0, 200.0]
    text = run_cli("analyze", "--compare-kubios", str(path)).stdout
    assert "sample 2 of 2 (Sample 2:" in text
    one = run_cli("analyze", "--compare-kubios", "--kubios-sample", "2", "--json", str(path))
    assert one.returncode == 0, one.stderr
    doc = json.loads(one.stdout)  # one sample: one (indented) object
    assert doc["sample"]["number"] == 2
    assert doc["beats"] == docs[1]["beats"]
    none = run_cli("analyze", "--compare-kubios", "--kubios-sample", "3", str(path))
    assert none.returncode == 2
    assert len(none.stderr.strip().splitlines()) == 1  # one line, no traceback


def test_merged_samples_are_one_series_with_one_set_of_results(
    tmp_path: Path, rr_s: np.ndarray
) -> None:
    text = Layout(
        [rr_s],
        settings={"Number of samples": "2"},
        samples=(("Sample 1", "00:00:00-00:01:00"), ("Sample 2", "00:02:00-00:03:00")),
        sample_lines=("Sample Analysis Type: Merge samples", "Artifact correction: none"),
        results=({"RMSSD (ms)": 33.0, "LF (ms^2)": 300.0},),
    ).text()
    path = _write(tmp_path, text)
    t = np.cumsum(rr_s)
    keep = ((t > 0) & (t <= 60.0)) | ((t > 120.0) & (t <= 180.0))
    recording = read_recording(path)
    assert recording.rr_ms.tolist() == pytest.approx((rr_s[keep] * 1000.0).tolist())
    assert recording.meta["kubios_results"]["LF (ms^2)"] == {
        "FFT spectrum": 300.0,
        "AR spectrum": 2.0,
    }
    ran = run_cli("analyze", "--compare-kubios", "--json", str(path))
    doc = json.loads(ran.stdout)  # one document: the merged series
    assert doc["sample"]["of"] == 1
    assert doc["beats"] == int(np.count_nonzero(keep))


def test_values_of_several_samples_quoted_in_one_csv_cell(tmp_path: Path, rr_s: np.ndarray) -> None:
    """A CSV whose per-sample values sit in one quoted cell ('RMSSD (ms):,"11.0, ,22.0, "')."""
    text = _two_samples(rr_s, own_columns=False)
    lines = text.split("\r\n")
    at = next(i for i, ln in enumerate(lines) if ln.startswith("  RMSSD (ms):"))
    lines[at] = '  RMSSD (ms):,"11.0000, ,22.0000, "'
    path = _write(tmp_path, "\r\n".join(lines))
    assert read_recording(path).meta["kubios_results"]["RMSSD (ms)"] == 11.0
    assert compare(path, sample=2)["metrics"][3]["kubios"] == 22.0


def test_analyze_says_which_sample_of_a_report_it_read(tmp_path: Path, rr_s: np.ndarray) -> None:
    path = _write(tmp_path, _two_samples(rr_s, own_columns=True))
    text = run_cli("analyze", str(path))
    assert text.returncode == 0, text.stderr
    assert "Note: sample 1 of 2 of this Kubios report (Sample 1)" in text.stdout
    doc = json.loads(run_cli("analyze", "--json", str(path)).stdout)
    assert (doc["kubios_sample"]["number"], doc["kubios_sample"]["of"]) == (1, 2)
