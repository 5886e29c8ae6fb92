"""Issue 17: the files people already have, one test per format, each value checked against
what the file says (read independently here where the format allows), plus refusals of the
files that hold no RR and constructed files for the encoding and separator variants."""

from __future__ import annotations

import csv
import datetime as dt
import re
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from biofeedback.errors import InputError
from biofeedback.sessions.formats import detect_format, read_as_bundle, read_recording
from tests.cli_support import run_cli

FORMATS = "formats"
SHARED_NONE = pytest.mark.shared(FORMATS, why="no licence found")
SHARED_GPL = pytest.mark.shared(FORMATS, why="GPL")


def gaps(recording: object) -> int:
    segment = getattr(recording, "segment", None)
    return 0 if segment is None else int(np.count_nonzero(np.diff(segment)))


def no_difference_spans_a_gap(recording: object, breaks_before: np.ndarray) -> None:
    segment = recording.segment  # type: ignore[attr-defined]
    assert segment is not None
    assert np.array_equal(np.flatnonzero(np.diff(segment)) + 1, breaks_before)


# --- permissive copies in tests/data/formats -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "device", "start"),
    [
        ("garmin-fenix-5-run.fit", "garmin fenix5", "2017-06-11T14:34:09+00:00"),
        ("garmin-edge-820-bike.fit", "garmin edge_820", "2017-06-12T16:10:15+00:00"),
    ],
)
def test_fit_hrv_messages(reference_dir: Path, name: str, device: str, start: str):
    import fitdecode

    path = reference_dir / FORMATS / "dtcooper__python-fitparse" / name
    expected: list[float] = []
    with fitdecode.FitReader(str(path)) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "hrv":
                expected += [1000 * v for v in frame.get_value("time") if v is not None]
    recording = read_recording(path)
    assert detect_format(path) == "fit"
    assert recording.rr_ms.size == len(expected) == {"garmin-fenix-5-run.fit": 113}.get(name, 126)
    assert recording.rr_ms[:3].tolist() == pytest.approx(expected[:3])
    assert recording.rr_ms[-1] == pytest.approx(expected[-1])
    assert recording.meta["device"] == device
    assert recording.meta["started_wall_s"] == dt.datetime.fromisoformat(start).timestamp()
    assert gaps(recording) == 0


def test_a_truncated_fit_file_is_refused_on_one_line(tmp_path: Path, reference_dir: Path):
    # a FIT file cut inside its first messages
    data = (
        reference_dir / FORMATS / "dtcooper__python-fitparse/garmin-fenix-5-run.fit"
    ).read_bytes()
    path = tmp_path / "cut.fit"
    path.write_bytes(data[:40])
    with pytest.raises(InputError, match=r"cut\.fit: "):
        read_recording(path)


def test_kubios_report_rr_and_kubios_results(reference_dir: Path):
    folder = reference_dir / FORMATS / "PGomes92__kubios"
    report = read_recording(folder / "SampleReport.txt")
    export = np.loadtxt(folder / "SampleExport.txt", comments="#")
    assert detect_format(folder / "SampleReport.txt") == "kubios_report"
    assert report.rr_ms.size == export.size == 423
    assert report.rr_ms[:3].tolist() == [766.0, 766.0, 727.0]
    assert report.rr_ms[-1] == pytest.approx(export[-1], abs=0.5)
    assert report.t_s is not None
    assert report.t_s[:2].tolist() == [0.766, 1.532]
    results = report.meta["kubios_results"]
    assert results["RMSSD (ms)"] == 56.8586
    assert results["Mean RR  (ms)"] == 707.5437
    assert results["LF (ms^2)"] == {"FFT spectrum": 5673.0207, "AR spectrum": 430.4991}
    assert report.meta["kubios_settings"]["Detrending method"] == "none"
    assert report.meta["app"] == "Kubios HRV 3.1.0.1"
    rmssd = float(np.sqrt(np.mean(np.diff(report.rr_ms) ** 2)))
    assert rmssd == pytest.approx(results["RMSSD (ms)"], abs=0.05)


def test_kubios_report_in_latin1_from_windows(reference_dir: Path, tmp_path: Path):
    text = (reference_dir / FORMATS / "PGomes92__kubios/SampleReport.txt").read_text()
    path = tmp_path / "report.txt"
    path.write_bytes(
        text.replace("(ms^2)", "(ms²)").replace("Analyzed by: ", "Analysé: ").encode("cp1252")
    )
    recording = read_recording(path)
    assert recording.rr_ms.size == 423
    assert recording.meta["kubios_results"]["LF (ms²)"]["FFT spectrum"] == 5673.0207


def test_empatica_e4_gaps_are_breaks(reference_dir: Path):
    path = reference_dir / FORMATS / "im-ethz__flirt/empatica_IBI.csv"
    with path.open() as f:
        start = float(f.readline().split(",")[0])
    t, ibi = np.loadtxt(path, delimiter=",", skiprows=1, unpack=True)
    jumps = np.diff(t) - ibi[1:]
    breaks = np.flatnonzero(jumps > 1.0) + 1  # a dropped beat adds a whole RR
    recording = read_recording(path)
    assert detect_format(path) == "empatica_ibi"
    assert recording.rr_ms.size == t.size == 4999
    assert recording.rr_ms[:2].tolist() == pytest.approx([609.403, 843.789])
    assert recording.meta["started_wall_s"] == start == 1560279825.0
    assert recording.meta["device"] == "Empatica E4"
    assert breaks.size == 202
    assert jumps.max() == pytest.approx(267.559, abs=1e-3)
    no_difference_spans_a_gap(recording, breaks)
    assert recording.t_s is not None
    assert recording.t_s.tolist() == t.tolist()


def test_empatica_e4_rmssd_spans_no_gap(reference_dir: Path):
    from biofeedback.hrv.analysis import analyze_record
    from biofeedback.hrv.settings import HrvSettings

    path = reference_dir / FORMATS / "im-ethz__flirt/empatica_IBI.csv"
    t, ibi = np.loadtxt(path, delimiter=",", skiprows=1, unpack=True)
    continuous = np.abs(np.diff(t) - ibi[1:]) < 0.1
    diffs = np.diff(ibi * 1000)[continuous]
    expected = float(np.sqrt(np.mean(diffs**2)))  # ~70.9 ms; bridging the gaps gives ~74.6
    recording = read_recording(path)
    settings = replace(HrvSettings(), correction="none")
    report = analyze_record(
        recording.rr_ms, t_s=recording.t_s, segment=recording.segment, settings=settings
    )
    time_domain = report.to_dict()["time"]
    assert time_domain["rmssd_ms"] == pytest.approx(expected, rel=1e-9)
    # NeuroKit2 (bench extra) on the same beats, told the beat times so that it takes
    # successive differences only between beats that follow each other (gaps as breaks).
    nk = pytest.importorskip("neurokit2", reason="NeuroKit2 comes with the bench extra")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = nk.hrv_time({"RRI": ibi * 1000, "RRI_Time": t})
    assert time_domain["rmssd_ms"] == pytest.approx(float(theirs["HRV_RMSSD"].iloc[0]), rel=1e-9)
    assert time_domain["sdnn_ms"] == pytest.approx(float(theirs["HRV_SDNN"].iloc[0]), rel=1e-9)


def test_garmin_companion_csv(reference_dir: Path):
    path = reference_dir / FORMATS / "im-ethz__flirt/garmin_data.csv"
    rows = [
        r
        for r in csv.reader(path.read_text().splitlines(), delimiter=";")
        if r[1] == "HEART_RATE_VARIABILITY"
    ]
    wall = np.array([dt.datetime.fromisoformat(r[0]).timestamp() for r in rows])
    rr = np.array([float(r[2]) for r in rows])
    recording = read_recording(path)
    assert detect_format(path) == "garmin_csv"
    assert recording.rr_ms.size == rr.size == 14316
    assert recording.rr_ms[:3].tolist() == [821.0, 848.0, 771.0]
    assert recording.meta["started_wall_s"] == wall[0]
    assert gaps(recording) == int((np.abs(np.diff(wall) - rr[1:] / 1000) > 3.0).sum())


def test_lifecard_beat_list(reference_dir: Path):
    path = reference_dir / FORMATS / "im-ethz__flirt/lifecard_holter.txt"
    rows = [ln.split() for ln in path.read_text().splitlines()[1:] if ln.strip()]
    labels = [r[1] for r in rows]
    recording = read_recording(path)
    assert detect_format(path) == "beat_list"
    beats = sum(lab != "X" for lab in labels)  # N and S are heartbeats, X is noise
    # the first beat ends no RR; two intervals span noise and are two beats long: gaps
    assert recording.rr_ms.size == beats - 1 - 2 == 4765
    assert gaps(recording) == 2
    assert recording.rr_ms[:2].tolist() == pytest.approx([822.0, 791.0])
    i = labels.index("S")
    around = [float(rows[i][0]) - float(rows[i - 1][0]), float(rows[i + 1][0]) - float(rows[i][0])]
    assert np.isin(np.round(around, 3) * 1000, np.round(recording.rr_ms)).all()  # S kept
    assert recording.rr_ms.max() < 1500.0
    assert recording.meta["labels"] == {"X": 18, "N": 4767, "S": 1}


def test_vu_ams_ibi_export(reference_dir: Path):
    path = reference_dir / FORMATS / "Aminsinichi__wearable-hrv/test_vu.txt"
    table = list(csv.reader(path.read_text().splitlines(), delimiter="\t"))[2:]
    ibi = [float(r[2]) for r in table]
    recording = read_recording(path)
    assert detect_format(path) == "vu_ams"
    assert ibi[0] == 0
    assert recording.rr_ms.tolist() == ibi[1:]
    assert recording.rr_ms.size == 3040
    assert recording.meta["started_local"] == "2023-06-30T14:08:59.580"
    assert recording.meta["device"] == "VU-AMS"
    assert recording.meta["subject"] == "P37"
    assert gaps(recording) == 0


def test_welltory_one_line(reference_dir: Path):
    path = reference_dir / FORMATS / "Welltory__welltory-ppg-dataset/subject_01_RR.txt"
    values = [float(v) for v in path.read_text().split()]
    recording = read_recording(path)
    assert detect_format(path) == "rr_line"
    assert recording.rr_ms.tolist() == values
    assert len(values) == 100
    assert recording.meta["unit"] == "ms"


def test_polar_flow_hr_only_csv_is_refused(reference_dir: Path, tmp_path: Path):
    path = reference_dir / FORMATS / "jeremy-p-mann__polar_h10_analysis_tools"
    path = path / "Jeremy_Mann_2020-06-10_15-25-36.CSV"
    refused_with_nothing_stored(
        path, tmp_path, "line 3: Polar Flow session CSV: heart rate per second"
    )


def refused_with_nothing_stored(path: Path, tmp_path: Path, needle: str) -> None:
    db = tmp_path / "store.db"
    ran = run_cli("import", "--db", str(db), str(path))
    assert ran.returncode == 2
    assert ran.stderr.count("\n") == 1
    assert str(path) in ran.stderr
    assert needle in ran.stderr
    assert "no RR intervals: HRV needs beat-to-beat data" in ran.stderr
    listed = run_cli("sessions", "--json", "--db", str(db))
    assert listed.returncode == 0
    assert listed.stdout.strip() == "[]"


# --- GPL or unlicensed: read from ../shared/reference/formats --------------------------------


@SHARED_NONE
def test_polar_sensor_logger(shared_reference_dir: Path):
    path = (
        shared_reference_dir
        / FORMATS
        / "Michelle-Watson__polarh10-processing/ethan_Harness_60_RR_1.txt"
    )
    rows = list(csv.reader(path.read_text().splitlines(), delimiter=";"))
    assert rows[0] == ["Phone timestamp", "RR-interval [ms]"]
    recording = read_recording(path)
    assert recording.rr_ms.tolist() == [float(r[1]) for r in rows[1:]]
    assert recording.rr_ms.size == 173
    assert recording.meta["started_wall_s"] == dt.datetime.fromisoformat(rows[1][0]).timestamp()
    assert recording.t_s is not None
    assert recording.t_s[0] == 0.0
    assert gaps(recording) == 0


@SHARED_GPL
def test_suunto_sml(shared_reference_dir: Path):
    path = shared_reference_dir / FORMATS / "GoldenCheetah__GoldenCheetah"
    path = path / "C6CF0C5100001000-2015-09-17T09_45_00-0.sml"
    text = path.read_text()
    data = re.search(r"<R-R>\s*<Data>(.*?)</Data>", text, re.DOTALL)
    assert data is not None
    values = [float(v) for v in data.group(1).split()]
    recording = read_recording(path)
    assert detect_format(path) == "suunto_sml"
    assert recording.rr_ms.tolist() == values
    assert len(values) == 5796
    assert recording.meta["device"] == "Suunto Ambit3 Peak"
    assert recording.meta["started_local"] == "2015-09-17T09:45:00"
    # the first sample is stamped 09:45:01 UTC at Time 0
    assert (
        recording.meta["started_wall_s"]
        == dt.datetime(2015, 9, 17, 9, 45, 1, tzinfo=dt.UTC).timestamp()
    )


@SHARED_GPL
def test_polar_hrm_in_hr_mode_is_refused(shared_reference_dir: Path, tmp_path: Path):
    path = shared_reference_dir / FORMATS / "GoldenCheetah__GoldenCheetah/04010301.hrm"
    refused_with_nothing_stored(path, tmp_path, "line 8: not an R-R recording (Interval=5")


@SHARED_NONE
def test_elite_hrv_export_under_the_apps_own_name(shared_reference_dir: Path, tmp_path: Path):
    sample = shared_reference_dir / FORMATS / "edudati__HrvFilter/eliteSample01.txt"
    data = sample.read_bytes()
    assert b"\r\n" in data
    values = [float(v) for v in data.split()]
    renamed = read_recording(sample)
    assert renamed.source_format == "rr_text"
    assert renamed.rr_ms.tolist() == values
    assert len(values) == 2085
    named = tmp_path / "2019-03-04 07-15-09.txt"  # as the app names it: a space
    named.write_bytes(data)
    recording = read_recording(named)
    assert recording.source_format == "elite_hrv"
    assert recording.rr_ms.size == 2085
    assert recording.meta["started_local"] == "2019-03-04T07:15:09"
    assert recording.meta["started_wall_s"] == dt.datetime(2019, 3, 4, 7, 15, 9).timestamp()
    db = tmp_path / "store.db"
    assert run_cli("import", "--db", str(db), str(named)).returncode == 0
    listed = run_cli("sessions", "--db", str(db)).stdout.splitlines()[1]
    assert "2019-03-04 07:15" in listed
    shown = run_cli("show", "1", "--db", str(db)).stdout
    assert "2019-03-04 07:15" in shown
    assert "Elite HRV" in shown


@SHARED_NONE
def test_polar_flow_time_rr(shared_reference_dir: Path):
    path = shared_reference_dir / FORMATS / "edudati__HrvFilter/polarSample01.txt"
    t, rr = np.loadtxt(path, unpack=True)
    recording = read_recording(path)
    assert detect_format(path) == "time_rr"
    assert recording.rr_ms.size == 685 == rr.size
    assert recording.rr_ms[:3].tolist() == pytest.approx([749.0, 749.0, 760.0])
    assert recording.meta["unit"] == "s"
    breaks = np.flatnonzero(np.abs(np.diff(t) - rr[1:]) > 0.1) + 1
    assert breaks.tolist() == [1]  # 0.000 then 5.455: the time column shows the gap
    no_difference_spans_a_gap(recording, breaks)


@pytest.mark.shared(FORMATS, why="GPL-3.0")
def test_hrvas_ibi(shared_reference_dir: Path):
    path = shared_reference_dir / FORMATS / "jramshur__HRVAS/sampledata.ibi"
    t, ibi = np.loadtxt(path, delimiter=",", unpack=True)
    recording = read_recording(path)
    assert detect_format(path) == "time_rr"
    assert recording.meta["app"] == "HRVAS .ibi"
    assert recording.rr_ms.size == 3482 == ibi.size
    assert recording.rr_ms[:3].tolist() == pytest.approx([876.0, 876.0, 790.0])
    assert recording.meta["times"] == "beat (start of each RR)"  # t[i] starts ibi[i]
    assert recording.t_s is not None
    assert recording.t_s[0] == pytest.approx(t[0] + ibi[0])
    assert gaps(recording) == 0


@SHARED_NONE
def test_movesense_showcase_hr_csv(shared_reference_dir: Path):
    path = shared_reference_dir / FORMATS / "lenaadel__tutorial_dyadic_movesense"
    path = path / "HR-2025_01_25-16_42_59_sensor540.csv"
    rows = list(csv.reader(path.read_text().splitlines()))
    assert rows[1] == ["Average", "RRData"]
    recording = read_recording(path)
    assert detect_format(path) == "movesense_hr"
    assert recording.rr_ms.tolist() == [float(r[1]) for r in rows[2:]]
    assert recording.rr_ms.size == 871
    assert recording.meta["started_local"] == "2025-01-25T16:42:59"
    assert "Movesense" in recording.meta["device"]


@SHARED_NONE
def test_apple_health_without_beats_is_refused(shared_reference_dir: Path, tmp_path: Path):
    path = shared_reference_dir / FORMATS / "grll__apple-health-landing-zone/export.xml"
    refused_with_nothing_stored(
        path, tmp_path, "Apple Health export with heart rate samples (3 HeartRate"
    )


@pytest.mark.shared(FORMATS, why="GPL-3.0")
def test_hrv_logger_csv_beat_times(shared_reference_dir: Path):
    path = shared_reference_dir / FORMATS / "ChristianKoplenig__hrv_public/ot_a60_RRIntervals.csv"
    recording = read_recording(path)
    assert recording.rr_ms.size == 426
    assert recording.rr_ms[0] == 894.0
    assert recording.t_s is not None
    assert recording.t_s[0] == pytest.approx(34.096)
    assert recording.meta["started_wall_s"] == 1675889367.255


# --- constructed files: encodings, line ends, separators, Apple beats ------------------------

RR = [812.0, 798.0, 805.0, 790.0]


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s.encode("utf-8"),
        lambda s: b"\xef\xbb\xbf" + s.encode("utf-8"),
        lambda s: s.encode("utf-16"),  # with its byte-order mark
        lambda s: s.replace("\n", "\r\n").encode("cp1252"),
    ],
    ids=["utf8", "utf8-bom", "utf16", "latin1-crlf"],
)
def test_encodings_and_line_ends(tmp_path: Path, encode: object):
    path = tmp_path / "rr.csv"
    path.write_bytes(encode("# séance à 7 h\nRR (ms);note\n" + "".join(f"{v:g};é\n" for v in RR)))  # type: ignore[operator]
    assert read_recording(path).rr_ms.tolist() == RR


@pytest.mark.parametrize("sep", [" ", ",", ";", "\t", "  "])
def test_time_rr_separators(tmp_path: Path, sep: str):
    t = np.cumsum(RR) / 1000
    path = tmp_path / "polar.txt"
    path.write_text("".join(f"{a:.3f}{sep}{b / 1000:.3f}\n" for a, b in zip(t, RR, strict=True)))
    recording = read_recording(path)
    assert recording.source_format == "time_rr"
    assert recording.rr_ms.tolist() == pytest.approx(RR)


def test_one_rr_per_line_with_a_decimal_comma(tmp_path: Path):
    """A spreadsheet's export in a German or French locale: 812,5 is one RR, not a time and an
    RR (which read it as an RR of 5 ms, or 0); headerless integer times and RRs stay two columns."""
    values = [812.5, 790.0, 805.25, 1136.0, 1062.0]
    path = tmp_path / "rr.txt"
    path.write_text("".join(f"{v:g}".replace(".", ",") + ("" if v % 1 else ",0") + "\n"
                            for v in values))  # fmt: skip
    recording = read_recording(path)
    assert recording.source_format == "rr_text"
    assert recording.rr_ms.tolist() == values
    assert recording.meta["decimal_comma"] is True
    times = np.cumsum(values).round().astype(int)
    two = tmp_path / "time_rr.txt"
    two.write_text("".join(f"{t},{round(v)}\n" for t, v in zip(times, values, strict=True)))
    assert read_recording(two).source_format == "time_rr"


@pytest.mark.parametrize("sep", [" ", ",", ";"])
def test_one_line_separators(tmp_path: Path, sep: str):
    path = tmp_path / "welltory.txt"
    path.write_text(sep.join(f"{v:g}" for v in RR))
    assert read_recording(path).rr_ms.tolist() == RR


def test_movesense_several_rr_per_row(tmp_path: Path):
    path = tmp_path / "HR.csv"
    path.write_text('   HeartRate    01.02.2412.00.00\nAverage,RRData\n75,800 790\n76,"805;780"\n')
    recording = read_recording(path)
    assert recording.rr_ms.tolist() == [800.0, 790.0, 805.0, 780.0]
    assert recording.meta["started_local"] == "2024-02-01T12:00:00"


def test_empatica_variant_has_its_gap(tmp_path: Path):
    path = tmp_path / "IBI.csv"
    path.write_text("1600000000.0, IBI\n10.0,0.8\n10.8,0.8\n20.0,0.9\n20.9,0.9\n")
    recording = read_recording(path)
    assert recording.segment is not None
    assert recording.segment.tolist() == [0, 0, 1, 1]


def test_apple_health_instantaneous_beats_are_read(tmp_path: Path):
    beats = "".join(
        f'<InstantaneousBeatsPerMinute bpm="{round(60 / s)}" time="8:00:{t:05.2f} PM"/>'
        for t, s in ((1.0, 0.8), (1.8, 0.8), (2.6, 0.8), (3.45, 0.85))
    )
    path = tmp_path / "export.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<HealthData locale="en_US">\n'
        '<Record type="HKQuantityTypeIdentifierHeartRateVariabilitySDNN" unit="ms" '
        'startDate="2024-01-02 20:00:00 +0100" endDate="2024-01-02 20:01:00 +0100" value="40">\n'
        f"<HeartRateVariabilityMetadataList>{beats}</HeartRateVariabilityMetadataList>\n"
        "</Record>\n</HealthData>\n"
    )
    recording = read_recording(path)
    assert recording.source_format == "apple_health"
    assert recording.rr_ms.tolist() == pytest.approx([800.0, 800.0, 850.0])
    start = dt.datetime(2024, 1, 2, 20, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert recording.meta["started_wall_s"] == pytest.approx(start.timestamp())


def test_xml_entities_are_refused(tmp_path: Path):
    path = tmp_path / "export.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE HealthData [<!ENTITY a "aaaaaaaaaa">]>\n'
        "<HealthData>&a;</HealthData>\n"
    )
    with pytest.raises(InputError, match="entity declaration"):
        read_as_bundle(path)


def test_hr_only_csv_names_what_it_holds(tmp_path: Path):
    path = tmp_path / "hr.csv"
    path.write_text("time,HR (bpm)\n1,60\n2,61\n")
    with pytest.raises(InputError, match=r"line 1: heart rate only .*no RR intervals"):
        read_recording(path)


def test_imported_session_names_the_device(reference_dir: Path):
    bundle = read_as_bundle(reference_dir / FORMATS / "im-ethz__flirt/empatica_IBI.csv")
    assert bundle.device["name"] == "Empatica E4"
    assert bundle.session["started_wall_s"] == 1560279825.0
    assert len(set(bundle.beats["segment"])) == 203
