"""Import readers: every reference file to its beat count, and clear refusals of bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from biofeedback.errors import InputError
from biofeedback.sessions.formats import (
    detect_format,
    read_as_bundle,
    read_recording,
    recording_to_bundle,
)

# (file, format, RR count) — counts from MANIFEST.md, less the offset or a bogus trailing 0.
# Files in tests/data/ (permissive licences, see tests/data/NOTICE.md):
REFERENCE_FILES = [
    ("rhenanbartels_hrv/exercise_rri.hrm", "polar_hrm", 4117),
    ("rhenanbartels_hrv/noisy_rri.hrm", "polar_hrm", 3581),
    ("rhenanbartels_hrv/rest_rri.txt", "rr_text", 910),
    ("rhenanbartels_hrv/real_rri.txt", "rr_text", 771),
    ("rhenanbartels_hrv/08012805.txt", "rr_text", 2380),
    ("physionet/rr_healthy_000_ms.txt", "rr_text", 80441),
    ("physionet/nsr2db_nsr001_rr_s.txt", "rr_text", 106459),
    ("physionet/ltdb_14046_labelled.csv", "csv", 115277),
    ("detectpvc_polarh10/polar_h10_rr_extracted.csv", "csv", 798),
    ("pyhrv/SampleNNISeriesShort.npy", "npy", 337),
]
# GPL-3.0 files, read from ../shared/reference only (skipped in a clone):
ELITE_HRV = pytest.mark.shared("elitehrv", why="GPL-3.0")
SHARED_FILES = [
    pytest.param("elitehrv/2017-06-29_13-11-53.txt", "elite_hrv", 4201, marks=ELITE_HRV),
    pytest.param("elitehrv/2017-06-29_14-36-38.txt", "elite_hrv", 5294, marks=ELITE_HRV),
    pytest.param(
        "aura_hrvanalysis/test_nn_intervals.txt",
        "rr_text",
        1000,
        marks=pytest.mark.shared("aura_hrvanalysis", why="GPL-3.0"),
    ),
]


@pytest.mark.parametrize(("name", "fmt", "count"), REFERENCE_FILES)
def test_reference_files_read_to_their_beat_counts(
    reference_dir: Path, name: str, fmt: str, count: int
):
    check_beat_count(reference_dir / name, fmt, count)


@pytest.mark.parametrize(("name", "fmt", "count"), SHARED_FILES)
def test_shared_reference_files_read_to_their_beat_counts(
    shared_reference_dir: Path, name: str, fmt: str, count: int
):
    check_beat_count(shared_reference_dir / name, fmt, count)


def check_beat_count(path: Path, fmt: str, count: int) -> None:
    assert detect_format(path) == fmt
    recording = read_recording(path)
    assert recording.source_format == fmt
    assert recording.rr_ms.size == count
    assert 400.0 < float(np.median(recording.rr_ms)) < 1500.0  # ms, whatever the file's unit


def test_nsr2db_first_value_is_the_offset_and_seconds_are_detected(reference_dir: Path):
    path = reference_dir / "physionet/nsr2db_nsr001_rr_s.txt"
    recording = read_recording(path)
    assert recording.meta["unit"] == "s"
    assert recording.meta["offset_s"] == 225.796875
    assert recording.rr_ms[:2].tolist() == [695.3125, 710.9375]
    bundle = recording_to_bundle(recording)
    assert bundle.beats["t_s"][0] == 225.796875 + 0.6953125
    with pytest.raises(InputError, match="line 1: RR over 60 s"):
        read_recording(path, first_is_offset=False)


def test_offset_can_be_forced_and_unit_overridden(tmp_path: Path):
    path = tmp_path / "rr.txt"
    path.write_text("# seconds\n0.8\n0.81\n\n0.79\n")
    assert read_recording(path).rr_ms.tolist() == [800.0, 810.0, 790.0]
    assert read_recording(path, unit="ms").rr_ms.tolist() == [0.8, 0.81, 0.79]
    forced = read_recording(path, first_is_offset=True)
    assert (forced.rr_ms.tolist(), forced.meta["offset_s"]) == ([810.0, 790.0], 0.8)


def test_real_rri_trailing_zero_is_dropped_and_noted(reference_dir: Path):
    recording = read_recording(reference_dir / "rhenanbartels_hrv/real_rri.txt")
    assert recording.meta["dropped_trailing_zero"] is True
    assert recording.rr_ms[-1] == 1175.0


def test_hrm_metadata_and_csv_beat_times(reference_dir: Path):
    hrm = read_recording(reference_dir / "rhenanbartels_hrv/exercise_rri.hrm")
    assert hrm.meta["started_local"] == "2008-02-08T08:50:31.0"
    assert hrm.rr_ms[:3].tolist() == [1589.0, 783.0, 752.0]
    ltdb = read_recording(reference_dir / "physionet/ltdb_14046_labelled.csv")
    assert ltdb.t_s is not None
    assert ltdb.t_s[:2].tolist() == [1.4141, 2.2188]
    polar = read_recording(reference_dir / "detectpvc_polarh10/polar_h10_rr_extracted.csv")
    assert polar.meta["started_wall_s"] == pytest.approx(1714920600.436, abs=1e-3)


@ELITE_HRV
def test_elite_hrv_start_time_comes_from_the_file_name(shared_reference_dir: Path):
    recording = read_recording(shared_reference_dir / "elitehrv/2017-06-29_13-11-53.txt")
    assert recording.meta["started_local"] == "2017-06-29T13:11:53"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"  \n\n", "empty file"),
        (bytes(range(256)) * 4, "binary data"),
        (b"\x89PNG\r\n\x1a\n\xff\xfe\xfd", "binary data"),
        (b"812\n-790\n800\n", "line 2: negative RR"),
        (b"812\n0\n800\n", "line 2: RR of 0"),
        (b"812\n790 811\n", "line 2: expected one RR value"),
        (b"time,heart_rate\n1,60\n2,61\n", "no RR column"),
        (b"t_s,rr_ms\n1.0,800\n1.8,oops\n", "line 3: column 'rr_ms' is not a number"),
        (b"rr\n", "no RR values"),
        (b"[Params]\nInterval=5\n[HRData]\n60\n", "not an R-R recording"),
    ],
)
def test_bad_files_are_one_line_input_errors(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        read_as_bundle(path)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file_is_an_input_error(tmp_path: Path):
    with pytest.raises(InputError, match="cannot read"):
        read_recording(tmp_path / "nope.txt")


def test_imported_rr_becomes_a_bundle_with_flags(tmp_path: Path):
    path = tmp_path / "rr.txt"
    path.write_text("800\n3000\n810\n")
    bundle = read_as_bundle(path)
    assert bundle.beats["t_s"] == [0.8, 3.8, 4.61]
    assert bundle.beats["flags"] == [0, 1, 0]
    assert bundle.beats["rr_raw"] == [None, None, None]
    assert bundle.session["source"] == "import:rr_text"
    assert bundle.device["kind"] == "import"


def test_a_bundle_file_reads_as_a_recording(tmp_path: Path):
    src = tmp_path / "rr.txt"
    src.write_text("800\n810\n")
    from biofeedback.sessions.bundle import write_bundle

    write_bundle(tmp_path / "s.json", read_as_bundle(src))
    recording = read_recording(tmp_path / "s.json")
    assert recording.source_format == "bundle"
    assert recording.rr_ms.tolist() == [800.0, 810.0]
    assert recording.segment is not None
    assert recording.segment.tolist() == [0, 0]
