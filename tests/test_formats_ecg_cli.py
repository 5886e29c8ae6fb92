"""``analyze`` and ``import`` of Polar Sensor Logger ECG and ACC files (the simulated H10)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from biofeedback.hrv.analysis import analyze_record
from biofeedback.hrv.artifacts_shape import IntervalShape
from biofeedback.hrv.beats import COLUMNS
from biofeedback.hrv.settings import HrvSettings
from tests.cli_support import run_cli
from tests.formats_ecg_support import Simulated, simulate, write_acc, write_ecg

DURATION_S = 90.0


@pytest.fixture(scope="module")
def sim() -> Simulated:
    return simulate(DURATION_S)


@pytest.fixture(scope="module")
def files(sim: Simulated, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("psl")
    return {
        "ecg": write_ecg(d / "Polar_H10_1_20260726_215626_ECG.txt", sim.ecg_uv),
        "acc": write_acc(d / "Polar_H10_1_20260726_215626_ACC.txt", sim.acc_mg, sim.acc_fs_hz),
    }


def _beats_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_beats_out_lists_every_simulated_r_peak_within_one_sample_with_its_shape(
    sim: Simulated, files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "beats.csv"
    ran = run_cli("analyze", str(files["ecg"]), "--beats-out", str(out), "--json")
    assert ran.returncode == 0, ran.stderr
    rows = _beats_csv(out)
    assert list(rows[0]) == [*COLUMNS, "shape"]
    t = np.array([float(r["t_s"]) for r in rows])
    assert t.size == sim.r_peak_t_s.size
    assert np.max(np.abs(t - sim.r_peak_t_s)) < 1 / 130
    # RR at ms precision from the peak times; the first peak ends no interval.
    assert rows[0]["rr_ms"] == ""
    assert rows[0]["nn_count"] == "0"
    rr = np.array([float(r["rr_ms"]) for r in rows[1:]])
    assert np.max(np.abs(rr - np.diff(t) * 1000)) < 0.1
    shape = np.array([r["shape"] for r in rows])
    judged = shape != "unknown"
    assert judged[5:].all()
    assert np.array_equal(shape[judged] == "ventricular", sim.ventricular[judged])
    assert sim.ventricular[judged].sum() >= 4
    # Labels from the shapes (issue 18 item 3): the intervals that end and start on a
    # ventricular beat are ectopic, every other one normal.
    v = sim.ventricular & judged
    next_to_v = v | np.r_[False, v[:-1]]
    label = np.array([r["label"] for r in rows])
    assert np.array_equal(label[1:] == "ectopic", next_to_v[1:])


def test_analyze_json_gives_the_hrv_of_the_true_beats_and_the_ecg_section(
    sim: Simulated, files: dict[str, Path], tmp_path: Path
) -> None:
    ran = run_cli("analyze", str(files["ecg"]), "--json")
    assert ran.returncode == 0, ran.stderr
    doc = json.loads(ran.stdout)
    assert doc["format"] == "polar_ecg"
    assert doc["n_beats"] == sim.r_peak_t_s.size - 1
    # The truth: the true intervals with the true shapes (the labeller judges from beat 5),
    # through the same hook; ectopic by shape are the two intervals around each V beat.
    v = sim.ventricular
    shape = np.where(v[1:] | v[:-1], IntervalShape.ECTOPIC, IntervalShape.NORMAL)
    shape[:5] = IntervalShape.UNKNOWN  # an interval with a beat before the template
    settings = HrvSettings(artifact_source="ecg_shape")
    true_rr = np.diff(sim.r_peak_t_s) * 1000
    truth = analyze_record(true_rr, settings=settings, shape=shape).to_dict()
    assert doc["settings"]["artifact_source"] == "ecg_shape"
    assert doc["labels"] == truth["labels"]
    assert doc["labels"]["ectopic"] == 2 * int(sim.ventricular[5:].sum())
    assert doc["ecg"]["intervals_ectopic_by_shape"] == doc["labels"]["ectopic"]
    for key in ("mean_rr_ms", "rmssd_ms", "sdnn_ms"):
        assert doc["time"][key] == pytest.approx(truth["time"][key], abs=1.0), key
    ecg = doc["ecg"]
    assert ecg["fs_hz"] == pytest.approx(130.0)
    assert ecg["r_peaks"] == sim.r_peak_t_s.size
    assert ecg["beat_shapes"]["ventricular"] == int(sim.ventricular[5:].sum())
    assert "Pan & Tompkins" in ecg["r_peak_method"]
    assert doc["breathing"]["ecg_derived"]["method"].startswith("ECG-derived")


def test_acc_file_alone_gives_breathing_from_the_chest_within_one_per_minute(
    sim: Simulated, files: dict[str, Path]
) -> None:
    ran = run_cli("analyze", str(files["acc"]), "--json")
    assert ran.returncode == 0, ran.stderr
    doc = json.loads(ran.stdout)
    chest = doc["breathing"]["chest_acc"]
    assert doc["format"] == "polar_acc"
    assert chest["method"].startswith("chest acceleration")
    assert chest["rate_per_min"] == pytest.approx(sim.breathing_per_min, abs=1.0)
    assert chest["windows"] >= 3
    text = run_cli("analyze", str(files["acc"]))
    assert text.returncode == 0
    assert "breathing.chest_acc.rate_per_min" in text.stdout


def test_ecg_with_acc_reports_both_breathing_estimates_on_the_ecg_clock(
    sim: Simulated, files: dict[str, Path]
) -> None:
    ran = run_cli("analyze", str(files["ecg"]), "--acc", str(files["acc"]), "--json")
    assert ran.returncode == 0, ran.stderr
    breathing = json.loads(ran.stdout)["breathing"]
    assert set(breathing) == {"chest_acc", "ecg_derived"}
    assert breathing["chest_acc"]["rate_per_min"] == pytest.approx(sim.breathing_per_min, abs=1)
    first = breathing["chest_acc"]["per_window"][0]["t_s"]
    assert first == pytest.approx(breathing["chest_acc"]["window_s"] / 2, abs=0.1)


def test_acc_without_beats_refuses_beats_out_and_acc_must_be_acc(
    files: dict[str, Path], tmp_path: Path
) -> None:
    ran = run_cli("analyze", str(files["acc"]), "--beats-out", str(tmp_path / "b.csv"))
    assert ran.returncode == 2
    assert "no beats" in ran.stderr
    ran = run_cli("analyze", str(files["ecg"]), "--acc", str(files["ecg"]))
    assert ran.returncode == 2
    assert "not a chest-acceleration" in ran.stderr
    ran = run_cli("analyze", str(files["ecg"]), "--acc", str(files["acc"]), "--window", "60")
    assert ran.returncode == 2
    assert "not with --window" in ran.stderr


def test_import_stores_the_derived_beats_as_an_ecg_session(
    sim: Simulated, files: dict[str, Path], tmp_path: Path
) -> None:
    db = tmp_path / "s.db"
    ran = run_cli("import", str(files["ecg"]), db=db)
    assert ran.returncode == 0, ran.stderr
    assert f"({sim.r_peak_t_s.size - 1} beats)" in ran.stdout
    show = json.loads(run_cli("show", "1", "--json", db=db).stdout)
    assert show["source"] == "import:polar_ecg"
    assert show["session"]["import"]["derived_from"] == "ECG"
    assert show["beat_count"] == sim.r_peak_t_s.size - 1
    refused = run_cli("import", str(files["acc"]), db=db)
    assert refused.returncode == 2
    assert "no heartbeats" in refused.stderr


def test_a_gap_in_the_samples_splits_the_beats_into_segments(
    sim: Simulated, tmp_path: Path
) -> None:
    n = sim.ecg_uv.size
    keep = np.ones(n, bool)
    keep[n // 2 : n // 2 + 3 * 130] = False  # 3 s of samples lost
    path = write_ecg(tmp_path / "gap_ECG.txt", sim.ecg_uv, keep=keep)
    out = tmp_path / "beats.csv"
    ran = run_cli("analyze", str(path), "--beats-out", str(out), "--json")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["ecg"]["gaps"] == 1
    rows = _beats_csv(out)
    assert {r["segment"] for r in rows} == {"0", "1"}
    starts = [r for r in rows if r["rr_ms"] == ""]
    assert len(starts) == 2  # no interval spans the gap
    assert max(float(r["rr_ms"]) for r in rows if r["rr_ms"]) < 1500


def test_a_folder_table_analyses_the_ecg_and_names_the_acc_file_on_its_row(
    sim: Simulated, files: dict[str, Path], tmp_path: Path
) -> None:
    table = tmp_path / "t.csv"
    ran = run_cli("analyze", str(files["ecg"].parent), "--out", str(table))
    assert ran.returncode == 2  # the ACC file's row is an error
    with table.open(newline="") as fh:
        rows = {Path(r["file"]).name: r for r in csv.DictReader(fh)}
    ecg = rows[files["ecg"].name]
    assert (ecg["status"], ecg["format"]) == ("ok", "polar_ecg")
    assert int(ecg["beats"]) == sim.r_peak_t_s.size - 1
    assert "no heartbeats" in rows[files["acc"].name]["error"]
    # Corrected by beat shape, as analyze of the one file.
    one = json.loads(run_cli("analyze", str(files["ecg"]), "--json").stdout)
    assert int(ecg["labels.ectopic"]) == one["labels"]["ectopic"] == 2 * sim.ventricular[5:].sum()


def test_sliding_windows_of_an_ecg_correct_by_beat_shape(files: dict[str, Path]) -> None:
    from biofeedback.cli.ecg_files import interval_shapes, load
    from biofeedback.hrv.windows import sliding_windows

    ran = run_cli("analyze", str(files["ecg"]), "--window", "60", "--step", "30", "--json")
    assert ran.returncode == 0, ran.stderr
    got = [json.loads(line)["artifact_share"] for line in ran.stdout.splitlines()]
    loaded = load(files["ecg"])
    rec = loaded.recording
    assert rec is not None
    assert loaded.ecg is not None
    args = (rec.t_s, rec.rr_ms, rec.segment)
    by_shape = sliding_windows(*args, 60.0, 30.0, shape=interval_shapes(loaded.ecg))
    rr_only = sliding_windows(*args, 60.0, 30.0)
    assert got == pytest.approx(by_shape.artifact_share.tolist())
    assert got != pytest.approx(rr_only.artifact_share.tolist())
