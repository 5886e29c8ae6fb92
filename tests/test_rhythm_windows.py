"""Sliding windows withhold HRV over sustained irregular rhythm, as the whole record does."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from biofeedback.cli.main import main
from biofeedback.hrv.rhythm import MESSAGE
from biofeedback.hrv.settings import HrvSettings
from biofeedback.hrv.windows import WindowTable, sliding_windows

WINDOW_S = 60.0
STEP_S = 15.0
_VALUE_COLUMNS = ("mean_rr_ms", "mean_hr_bpm", "sdnn_ms", "rmssd_ms", "sd1_ms", "dfa_alpha1")


def _sinus(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 800.0 + 30.0 * np.sin(2 * np.pi * np.arange(n) / 40.0) + 5.0 * rng.standard_normal(n)


def _record() -> tuple[np.ndarray, float, float]:
    """Sinus, an AF-like stretch (independent RR, uniform 450-1100 ms), sinus; AF span in s."""
    af = np.random.default_rng(2).uniform(450.0, 1100.0, 600)
    rr = np.r_[_sinus(300, 1), af, _sinus(300, 3)]
    t = np.cumsum(rr) / 1000.0
    return rr, float(t[299]), float(t[899])


def _inside(table: WindowTable, lo_s: float, hi_s: float) -> np.ndarray:
    return np.flatnonzero((table.t_start_s >= lo_s) & (table.t_end_s <= hi_s))


def test_windows_inside_irregular_rhythm_are_withheld_and_sinus_windows_are_not() -> None:
    rr, af_start, af_end = _record()
    table = sliding_windows(None, rr, window_s=WINDOW_S, step_s=STEP_S)
    af = _inside(table, af_start, af_end)
    # Edges are located to within a few beats (the last sinus beat may be withheld with them).
    sinus = np.r_[_inside(table, 0.0, af_start - 5.0), _inside(table, af_end + 5.0, math.inf)]
    assert af.size >= 20
    assert sinus.size >= 12
    for k in af:
        assert table.reason[k] == MESSAGE
        assert table.notes is not None
        assert table.notes[k] is None
        for name in (*_VALUE_COLUMNS, "hf_ms2", "lf_hf"):
            assert math.isnan(getattr(table, name)[k]), (k, name)
        assert table.artifact_share[k] == 0.0  # withheld beats are not artifacts
    for k in sinus:
        assert table.reason[k] is None, (k, table.reason[k])
        for name in (*_VALUE_COLUMNS, "hf_ms2"):
            assert math.isfinite(getattr(table, name)[k]), (k, name)


def test_rhythm_check_off_reports_the_irregular_stretch() -> None:
    rr, af_start, af_end = _record()
    settings = HrvSettings(rhythm_check=False)
    table = sliding_windows(None, rr, window_s=WINDOW_S, step_s=STEP_S, settings=settings)
    assert MESSAGE not in table.reason
    assert np.isfinite(table.mean_rr_ms[_inside(table, af_start, af_end)]).all()


def test_a_record_wholly_irregular_gives_withheld_windows_not_an_error() -> None:
    rr = np.random.default_rng(5).uniform(450.0, 1100.0, 600)
    table = sliding_windows(None, rr, window_s=WINDOW_S, step_s=STEP_S)
    assert len(table) > 10
    assert all(r == MESSAGE for r in table.reason)
    assert np.isnan(table.rmssd_ms).all()


def _strict(text: str) -> dict[str, object]:
    def refuse(constant: str) -> None:
        raise AssertionError(f"non-strict JSON constant {constant}")

    doc: dict[str, object] = json.loads(text, parse_constant=refuse)
    return doc


def test_cli_windowed_json_is_strict_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rr, af_start, af_end = _record()
    path = tmp_path / "rr.txt"
    path.write_text("".join(f"{v:.1f}\n" for v in rr))
    capsys.readouterr()
    code = main(["analyze", str(path), "--window", "60", "--step", "15", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    rows = [_strict(line) for line in out.splitlines() if line.strip()]
    assert len(rows) > 40
    span = [(float(str(r["t_start_s"])), float(str(r["t_end_s"])), r) for r in rows]
    af = [r for start, end, r in span if af_start <= start and end <= af_end]
    sinus = [r for _, end, r in span if end <= af_start]
    assert af
    assert sinus
    for row in af:
        assert row["reason"] == MESSAGE
        assert row["rmssd_ms"] is None
        assert row["ln_rmssd_ln_ms"] is None
    for row in sinus:
        assert row["reason"] is None
        assert isinstance(row["rmssd_ms"], float)
