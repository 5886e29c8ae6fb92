"""The bigeminy hint (issue 16, item 1): an alternating rhythm the default correction leaves in
is named, with the mode that handles it, in the JSON ``notes`` and on the text output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from biofeedback.hrv.alternation import alternating_share
from biofeedback.hrv.analysis import analyze_record
from biofeedback.hrv.settings import HrvSettings
from biofeedback.sessions.formats import read_recording
from tests.cli_support import Ran, run_cli

POLAR = Path("detectpvc_polarh10") / "polar_h10_rr_extracted.csv"


def _analyze(path: Path, *args: str) -> Ran:
    done = run_cli("analyze", str(path), *args)
    assert done.returncode == 0, done.stderr
    return done


def test_polar_h10_bigeminy_gets_the_hint_in_json_and_text(reference_dir: Path) -> None:
    doc = json.loads(_analyze(reference_dir / POLAR, "--json").stdout)
    assert doc["settings"]["correction"] == "automatic"
    assert doc["corrected_share"] == 0.0  # the default leaves the ectopy in ...
    assert doc["time"]["rmssd_ms"] > 400.0  # ... and RMSSD measures it
    assert len(doc["notes"]) == 1
    assert "--correction robust" in doc["notes"][0]
    assert "bigeminy" in doc["notes"][0]
    text = _analyze(reference_dir / POLAR).stdout.splitlines()
    assert text[1].startswith("Note: ")
    assert "--correction robust" in text[1]


@pytest.mark.parametrize(
    ("level", "hinted"), [("none", True), ("very-low", True), ("medium", False)]
)
def test_the_hint_follows_what_the_level_left_in(
    reference_dir: Path, level: str, hinted: bool
) -> None:
    # very-low corrects 27 % of the beats and leaves 35 % alternating (RMSSD 272 ms);
    # medium corrects 60 % and leaves none (RMSSD 30 ms).
    rec = read_recording(reference_dir / POLAR)
    settings = HrvSettings(correction=level)  # type: ignore[arg-type]
    report = analyze_record(rec.rr_ms, t_s=rec.t_s, segment=rec.segment, settings=settings)
    assert bool(report.notes) == hinted


def test_robust_gets_no_hint(reference_dir: Path) -> None:
    doc = json.loads(_analyze(reference_dir / POLAR, "--json", "--correction", "robust").stdout)
    assert doc["notes"] == []


@pytest.mark.parametrize(
    "name",
    [
        "rhenanbartels_hrv/rest_rri.txt",
        "rhenanbartels_hrv/real_rri.txt",
        "physionet/rr_healthy_000_ms.txt",
    ],
)
def test_clean_records_get_no_hint(reference_dir: Path, name: str) -> None:
    rec = read_recording(reference_dir / name)
    report = analyze_record(rec.rr_ms, t_s=rec.t_s, segment=rec.segment)
    assert report.notes == ()


def test_alternation_share_is_per_chain_and_needs_both_steps() -> None:
    nn = np.array([600.0, 1000.0] * 20)
    assert alternating_share(nn, np.zeros(nn.size, np.int64)) == 1.0
    # Chains of two intervals have no triple.
    assert alternating_share(nn, np.repeat(np.arange(20), 2).astype(np.int64)) == 0.0
    # Alternating by 10 % is sinus-like, not ectopic.
    small = np.array([950.0, 1050.0] * 20)
    assert alternating_share(small, np.zeros(small.size, np.int64)) == 0.0
