"""Layouts of the RR files real apps and devices write, beyond the reference samples: each test
writes a few lines reproducing one variant (written for this project, not copied from any export)
and checks the intervals read, their unit, or the one-line refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from biofeedback.sessions.formats import read_recording

RR = [812.0, 790.0, 805.0, 830.0, 845.0]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_seconds_under_one_with_a_decimal_comma_are_rr_not_time_and_rr(tmp_path: Path):
    """RR in seconds from a German/French spreadsheet, heart rate over 60: every line is
    ``0,8xx``; it was read as time 0 and an RR of 812 ms with a gap at every beat."""
    path = write(tmp_path, "rr.txt", "".join(f"0,{v:.0f}\n" for v in RR))
    recording = read_recording(path)
    assert recording.source_format == "rr_text"
    assert recording.meta["unit"] == "s"
    assert recording.rr_ms.tolist() == pytest.approx(RR)
    assert recording.segment is None
