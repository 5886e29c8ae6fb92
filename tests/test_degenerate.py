"""Degenerate RR series: every metric is a value or null with a stated reason, never an exception.

Perfectly regular (``yes 800 | head -300``), three beats, alternating 800/810, one and two beats,
and a constant series whose mean is not exactly representable (800.1 ms). Powers of 1e-18 ms²
give no LF/HF; JSON never carries NaN or Infinity and CSV fields are empty where a value is not.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from biofeedback.cli.main import main
from biofeedback.hrv.analysis import analyze_record
from biofeedback.hrv.frequency import frequency_domain
from biofeedback.hrv.nonlinear import nonlinear_metrics, nonlinear_metrics_chains
from biofeedback.hrv.processor import HrvProcessor
from biofeedback.hrv.windows import sliding_windows
from biofeedback.sessions.bundle import SessionBundle
from biofeedback.sessions.export import export_bundle
from devices.events import Beat

CONSTANT = [800.0] * 300
SERIES = {
    "constant": CONSTANT,
    "constant_inexact": [800.1] * 300,
    "three": [800.0, 810.0, 800.0],
    "alternating": [800.0, 810.0] * 150,
    "one": [800.0],
    "two": [800.0, 810.0],
    "four_equal": [800.0] * 4,
}
SECTIONS = ("time", "frequency", "respiration", "nonlinear")


def _strict(text: str) -> object:
    def refuse(constant: str) -> object:
        raise AssertionError(f"non-finite JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def _nulls(doc: dict[str, object]) -> set[str]:
    out = set()
    for section in SECTIONS:
        values = doc.get(section)
        if isinstance(values, dict):
            out |= {f"{section}.{k}" for k, v in values.items() if v is None}
    return out


@pytest.mark.parametrize("name", sorted(SERIES))
def test_whole_record_gives_values_or_reasons(name: str) -> None:
    with np.errstate(all="raise"):  # no silent division by zero either
        doc = analyze_record(SERIES[name]).to_dict()
    text = json.dumps(doc, allow_nan=False)  # raises on NaN or Infinity
    _strict(text)
    reasons = doc["reasons"]
    assert isinstance(reasons, dict)
    assert set(reasons) == _nulls(doc)
    assert all(isinstance(r, str) and r for r in reasons.values())
    assert "not defined for this series" not in reasons.values(), reasons  # all specific


def test_constant_series_has_zero_spread_and_no_ratios_entropy_or_dfa() -> None:
    for rr in (CONSTANT, SERIES["constant_inexact"]):
        doc = analyze_record(rr).to_dict()
        time = doc["time"]
        assert isinstance(time, dict)
        assert time["sdnn_ms"] == 0.0
        assert time["rmssd_ms"] == 0.0
        assert time["sd2_ms"] == 0.0
        assert time["sd1_sd2_ratio"] is None
        assert time["ln_rmssd_ln_ms"] is None
        nonlinear = doc["nonlinear"]
        assert isinstance(nonlinear, dict)
        for key in ("sampen", "apen", "dfa_alpha1", "dfa_alpha2"):
            assert nonlinear[key] is None, key
            assert "no variability" in doc["reasons"][f"nonlinear.{key}"]  # type: ignore[index]
        assert nonlinear["entropy_r_ms"] == 0.0
        frequency = doc["frequency"]
        assert isinstance(frequency, dict)
        assert frequency["lf_hf_ratio"] is None  # was 13 825 from powers of 1e-18 ms²
        assert "floor" in doc["reasons"]["frequency.lf_hf_ratio"]  # type: ignore[index]
        assert frequency["hf_peak_hz"] is None


def test_alternating_series_has_a_poincare_ratio_reason_not_a_huge_number() -> None:
    doc = analyze_record(SERIES["alternating"]).to_dict()
    time = doc["time"]
    assert isinstance(time, dict)
    assert time["sd1_ms"] > 5
    assert time["sd2_ms"] == 0.0  # 1e-7 ms of rounding is not an SD2
    assert time["sd1_sd2_ratio"] is None
    assert "SD2 is 0" in doc["reasons"]["time.sd1_sd2_ratio"]  # type: ignore[index]


def test_lf_hf_needs_real_hf_power_but_is_kept_for_a_real_series() -> None:
    flat = frequency_domain(CONSTANT)
    assert flat.hf_ms2 < 1e-6
    assert math.isnan(flat.lf_hf)
    assert math.isnan(flat.lf_nu)
    assert math.isnan(flat.hf_peak_hz)
    t = np.arange(400) * 0.8
    real = frequency_domain(800 + 30 * np.sin(2 * np.pi * 0.25 * t) + 20 * np.sin(0.6 * t))
    assert math.isfinite(real.lf_hf)
    assert real.hf_peak_hz == pytest.approx(0.25, abs=0.02)


def test_nonlinear_constant_chains_and_inexact_mean() -> None:
    for rr in ([800.1] * 200, [800.0] * 200):
        for result in (nonlinear_metrics(rr), nonlinear_metrics_chains(rr)):
            assert result.r_ms == 0.0
            assert math.isnan(result.sampen)
            assert math.isnan(result.apen)
            assert math.isnan(result.dfa_alpha1)
    # two chains, each constant at its own level: no DFA fluctuation at all
    rr = [800.0] * 100 + [900.0] * 100
    seg = [0] * 100 + [1] * 100
    assert math.isnan(nonlinear_metrics_chains(rr, seg).dfa_alpha1)


@pytest.mark.parametrize("name", ["constant", "alternating", "constant_inexact"])
def test_windows_never_hold_infinity_and_explain_nulls(name: str) -> None:
    table = sliding_windows(None, SERIES[name], window_s=60, step_s=10)
    assert len(table) > 0
    rows = table.to_dict()
    _strict(json.dumps(rows, allow_nan=False))
    for k in range(len(table)):
        if rows["reason"][k] is not None:
            continue
        nulls = [
            key
            for key, column in rows.items()
            if key not in ("reason", "notes") and column[k] is None
        ]
        notes = rows["notes"][k]
        for key in nulls:
            assert isinstance(notes, str)
            assert f"{key}:" in notes, (key, notes)
    if name.startswith("constant"):
        assert all(v is None for v in rows["ln_rmssd_ln_ms"])  # was -inf
        assert all(v is None for v in rows["lf_hf_ratio"])  # was ~7000 from 1e-18 ms²
        assert all(v is None for v in rows["dfa_alpha1"])
        assert all(v == 0.0 for v in rows["sdnn_ms"])
        assert all(v == 0.0 for v in rows["sd2_ms"])


def test_a_constant_stretch_inside_a_varied_record_is_exactly_flat() -> None:
    rng = np.random.default_rng(3)
    rr = np.r_[800 + 40 * rng.standard_normal(300), np.full(300, 812.5)]
    table = sliding_windows(None, rr, window_s=60, step_s=15, correct=False)
    late = table.t_start_s > float(np.sum(rr[:300])) / 1000.0 + 1.0
    assert late.any()
    assert np.all(table.sdnn_ms[late] == 0.0)
    assert np.all(np.isnan(table.ln_rmssd[late]))
    assert np.all(np.isnan(table.dfa_alpha1[late]))


def test_live_processor_on_a_constant_series_gives_reasons() -> None:
    processor = HrvProcessor()
    snapshot = None
    t = 0.0
    for index in range(400):
        t += 0.8
        beat = Beat(t_s=t, rr_ms=800.0, rr_raw=819, segment=0, index=index)
        snapshot = processor.push(beat) or snapshot
    assert snapshot is not None
    assert snapshot.sdnn_ms.value == 0.0
    assert snapshot.ln_rmssd.value is None
    assert snapshot.ln_rmssd.reason
    assert snapshot.lf_hf.value is None
    assert snapshot.lf_hf.reason
    assert snapshot.dfa_alpha1.value is None
    assert snapshot.dfa_alpha1.reason


def _analyze(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["analyze", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", sorted(SERIES))
def test_cli_analyze_prints_strict_json_and_empty_csv_fields(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / f"{name}.txt"
    path.write_text("".join(f"{v}\n" for v in SERIES[name]))
    code, out, err = _analyze(capsys, "--json", str(path))
    assert code == 0, err
    assert err == ""  # no RuntimeWarning from numpy either
    _strict(out)
    code, out, err = _analyze(capsys, str(path))
    assert code == 0, err
    assert err == ""
    for token in ("nan", "inf", "None"):
        assert token not in out.replace("Not a medical", "").lower().split(), token
    for window in ("60", "10"):
        code, out, err = _analyze(capsys, "--json", "--window", window, str(path))
        assert code == 0, err
        for line in out.splitlines():
            _strict(line)
        code, out, err = _analyze(capsys, "--window", window, str(path))
        assert code == 0, err
        rows = list(csv.reader(io.StringIO(out)))
        assert rows[0][-2:] == ["reason", "notes"]
        for row in rows[1:]:
            for cell in row:
                assert cell.lower() not in ("nan", "inf", "-inf", "none"), row


def test_export_never_prints_non_finite_numbers() -> None:
    bundle = SessionBundle(session={"id": 1}, device={})
    bundle.beats = {
        "t_s": [0.8, math.inf],
        "rr_ms": [800.0, math.nan],
        "segment": [0, 0],
        "flags": [0, 1],
        **{k: [None, None] for k in bundle.beats if k not in ("t_s", "rr_ms", "segment", "flags")},
    }
    rows = list(csv.reader(io.StringIO(export_bundle(bundle, "csv"))))
    assert rows[2][:2] == ["", ""]
    doc = _strict(export_bundle(bundle, "json"))
    assert isinstance(doc, dict)
    assert doc["beats"]["t_s"] == [0.8, None]
