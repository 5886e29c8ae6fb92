"""``biofeedback analyze DIR --out TABLE``: a folder of recordings becomes one table."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from tests.cli_support import run_cli

FILES = (
    "im-ethz__flirt/empatica_IBI.csv",
    "Welltory__welltory-ppg-dataset/subject_01_RR.txt",
    "dtcooper__python-fitparse/garmin-fenix-5-run.fit",
    "jeremy-p-mann__polar_h10_analysis_tools/Jeremy_Mann_2020-06-10_15-25-36.CSV",
)


def folder(reference_dir: Path, tmp_path: Path) -> Path:
    data = tmp_path / "recordings"
    data.mkdir()
    for name in FILES:
        shutil.copy(reference_dir / "formats" / name, data / Path(name).name)
    (data / ".hidden.txt").write_text("not read\n")
    return data


def test_a_folder_becomes_one_table_in_parallel(reference_dir: Path, tmp_path: Path):
    data = folder(reference_dir, tmp_path)
    out = tmp_path / "table.csv"
    ran = run_cli("analyze", str(data), "--out", str(out), "--jobs", "2")
    assert ran.returncode == 2, ran.stderr  # one file holds no RR: reported, the rest go on
    assert "4 rows from 4 files, 1 failed" in ran.stderr
    rows = {Path(r["file"]).name: r for r in csv.DictReader(out.read_text().splitlines())}
    assert set(rows) == {Path(n).name for n in FILES}
    e4 = rows["empatica_IBI.csv"]
    assert (e4["status"], e4["format"], e4["device"]) == ("ok", "empatica_ibi", "Empatica E4")
    assert (e4["beats"], e4["gaps"]) == ("4999", "202")
    assert e4["started_utc"] == "2019-06-11T19:03:45+00:00"
    assert float(e4["time.rmssd_ms"]) > 0
    assert rows["garmin-fenix-5-run.fit"]["beats"] == "113"
    refused = rows["Jeremy_Mann_2020-06-10_15-25-36.CSV"]
    assert refused["status"] == "error"
    assert "no RR intervals: HRV needs beat-to-beat data" in refused["error"]
    assert not any(k.startswith("settings.") for k in e4)  # recorded once, beside the table
    sidecar = json.loads((tmp_path / "table.csv.settings.json").read_text())
    assert sidecar["files"] == 4
    assert sidecar["settings"]["method"] == "welch"


def test_windows_of_several_files(reference_dir: Path, tmp_path: Path):
    base = reference_dir / "formats"
    out = tmp_path / "windows.csv"
    ran = run_cli(
        "analyze",
        str(base / FILES[0]),
        str(base / FILES[1]),
        "--window",
        "60",
        "--step",
        "30",
        "--out",
        str(out),
        "--jobs",
        "1",
    )
    assert ran.returncode == 0, ran.stderr
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert {Path(r["file"]).name for r in rows} == {"empatica_IBI.csv", "subject_01_RR.txt"}
    assert sum(Path(r["file"]).name == "empatica_IBI.csv" for r in rows) > 100
    assert json.loads((tmp_path / "windows.csv.settings.json").read_text())["step_s"] == 30.0


def test_several_files_need_an_out_table(reference_dir: Path, tmp_path: Path):
    ran = run_cli("analyze", str(folder(reference_dir, tmp_path)))
    assert ran.returncode == 2
    assert "--out TABLE" in ran.stderr
