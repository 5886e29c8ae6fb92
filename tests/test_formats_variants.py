"""Layouts of the RR files real apps and devices write, beyond the reference samples: each test
writes a few lines reproducing one variant (written for this project, not copied from any export)
and checks the intervals read, their unit, or the one-line refusal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from biofeedback.errors import InputError
from biofeedback.sessions.formats import read_recording

RR = [812.0, 790.0, 805.0, 830.0, 845.0]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def breaks(recording: object) -> list[int]:
    """The indices of the beats that start a new continuity segment."""
    segment = getattr(recording, "segment", None)
    return [] if segment is None else (np.flatnonzero(np.diff(segment)) + 1).tolist()


def test_seconds_under_one_with_a_decimal_comma_are_rr_not_time_and_rr(tmp_path: Path) -> None:
    """RR in seconds from a German/French spreadsheet, heart rate over 60: every line is
    ``0,8xx``; it was read as time 0 and an RR of 812 ms with a gap at every beat."""
    path = write(tmp_path, "rr.txt", "".join(f"0,{v:.0f}\n" for v in RR))
    recording = read_recording(path)
    assert recording.source_format == "rr_text"
    assert recording.meta["unit"] == "s"
    assert recording.rr_ms.tolist() == pytest.approx(RR)
    assert recording.segment is None


def test_metadata_lines_before_the_csv_header(tmp_path: Path) -> None:
    """A title and ``key: value`` lines first (refused before: 'no RR column ... device:')."""
    rows = "".join(f"{t / 1000:.3f},{v:.0f}\n" for t, v in zip(np.cumsum(RR), RR, strict=True))
    text = "Device: Polar H10\nDate: 2024-01-15 08:00:00\n\nTime,RR\n" + rows
    recording = read_recording(write(tmp_path, "export.csv", text))
    assert recording.rr_ms.tolist() == RR
    assert recording.meta["header_line"] == 4
    assert "started_wall_s" not in recording.meta  # 0.812 s is elapsed time, not 1970
    assert recording.t_s is not None
    assert recording.t_s.tolist() == pytest.approx(np.cumsum(RR) / 1000)


def test_polar_sensor_logger_ppi_is_read_and_blocked_beats_are_gaps(tmp_path: Path) -> None:
    """Polar Verity Sense / OH1 PPI through Polar Sensor Logger (refused before as heart rate
    only): ``PP-interval [ms]`` is the beat interval; ``blocker`` 1 marks one not to trust."""
    head = (
        "Phone timestamp;PP-interval [ms];error estimate [ms];blocker;contact;contact;hr [bpm];\n"
    )
    rows = []
    at = 0.0
    for i, v in enumerate(RR):
        at += v
        stamp = f"2024-01-15T08:00:{at / 1000:06.3f}"
        rows.append(f"{stamp};{v:.0f};10;{1 if i == 2 else 0};1;1;74;\n")
    recording = read_recording(write(tmp_path, "x_PPI.txt", head + "".join(rows)))
    assert recording.rr_ms.tolist() == [812.0, 790.0, 830.0, 845.0]
    assert recording.meta["blocked_beats"] == 1
    assert recording.meta["missing_beats"] == 1
    assert breaks(recording) == [2]
    assert recording.meta["started_wall_s"] > 1.7e9


def test_polar_sensor_logger_hr_file_is_refused_as_heart_rate(tmp_path: Path) -> None:
    """Its ``HRV [ms]`` is a running RMSSD, and ``Breathing interval`` no beat interval."""
    text = (
        "Phone timestamp;HR [bpm];HRV [ms];Breathing interval [rpm];\n"
        "2024-01-15T08:00:00.812;64\n2024-01-15T08:00:01.602;64;12,1\n"
    )
    with pytest.raises(InputError, match=r"line 1: heart rate only \(column 'hr \[bpm\]'\)"):
        read_recording(write(tmp_path, "x_HR.txt", text))


def test_a_heart_rate_row_without_rr_is_no_beat(tmp_path: Path) -> None:
    """Loggers that write one row per notification leave the RR cell empty when the strap
    sent none (refused before: 'not a number: '''); the row holds no beat, and no gap."""
    head = "Phone timestamp;sensor timestamp [ns];HR [bpm];RR-interval [ms]\n"
    rows = [
        "2024-01-15T08:00:00.812;0;74;812\n",
        "2024-01-15T08:00:01.100;0;74;\n",
        "2024-01-15T08:00:01.602;0;75;790\n",
        "2024-01-15T08:00:02.407;0;74;805\n",
    ]
    recording = read_recording(write(tmp_path, "hr.txt", head + "".join(rows)))
    assert recording.rr_ms.tolist() == [812.0, 790.0, 805.0]
    assert recording.meta["rows_without_rr"] == 1
    assert breaks(recording) == []


@pytest.mark.parametrize("mark", ["NaN", "NA", "-", "null"])
def test_a_missing_beat_mark_is_a_gap_not_a_refusal(tmp_path: Path, mark: str) -> None:
    """A CSV cell or an RR-text line saying the beat is missing: the file is read, the beat
    left out, and no successive difference spans the hole."""
    lines = ["812", "790", mark, "830", "845"]
    text_file = read_recording(write(tmp_path, "rr.txt", "\n".join(lines) + "\n"))
    table = read_recording(write(tmp_path, "rr.csv", "rr_ms\n" + "\n".join(lines) + "\n"))
    for recording in (text_file, table):
        assert recording.rr_ms.tolist() == [812.0, 790.0, 830.0, 845.0]
        assert recording.meta["missing_beats"] == 1
        assert breaks(recording) == [2]


def test_semicolon_csv_with_decimal_commas(tmp_path: Path) -> None:
    """``Time;RR`` from a spreadsheet in a German locale: ``0,812;812`` (refused before: 'time
    is neither a Unix time nor an ISO 8601 time')."""
    t = np.cumsum(RR) / 1000
    rows = "".join(
        f"{a:.3f};{b / 1000:.3f}\n".replace(".", ",") for a, b in zip(t, RR, strict=True)
    )
    recording = read_recording(write(tmp_path, "rr.csv", "Zeit;RR (s)\n" + rows))
    assert recording.rr_ms.tolist() == pytest.approx(RR)
    assert recording.meta["unit"] == "s"


def test_elapsed_time_column_in_ms_gives_beat_times_and_gaps(tmp_path: Path) -> None:
    """A ``time`` column of milliseconds since the start, one beat dropped: beat times, and
    the dropped beat a gap (the RR after it is kept)."""
    t = np.cumsum(RR)
    keep = [0, 1, 3, 4]  # the beat at 2407 ms was not recorded
    rows = "".join(f"{t[i]:.0f},{RR[i]:.0f}\n" for i in keep)
    recording = read_recording(write(tmp_path, "beats.csv", "time,rr\n" + rows))
    assert recording.rr_ms.tolist() == [RR[i] for i in keep]
    assert recording.meta["time_unit"] == "ms"
    assert recording.t_s is not None
    assert recording.t_s.tolist() == pytest.approx(t[keep] / 1000)
    assert breaks(recording) == [2]


def test_clock_time_and_date_columns(tmp_path: Path) -> None:
    """``date,time,rr`` with a clock time per beat: the start from the date and the clock; a
    clock time without a date gives arrival times and no start."""
    rows = ["08:00:00.812,812", "08:00:01.602,790", "08:00:02.407,805", "08:00:03.237,830"]
    dated = "date,time,rr\n" + "".join(f"2024-01-15,{r}\n" for r in rows)
    recording = read_recording(write(tmp_path, "dated.csv", dated))
    local = recording.meta["started_wall_s"]
    assert dt.datetime.fromtimestamp(local).isoformat() == "2024-01-15T08:00:00.812000"
    undated = read_recording(write(tmp_path, "clock.csv", "time,rr\n" + "\n".join(rows)))
    assert undated.rr_ms.tolist() == [812.0, 790.0, 805.0, 830.0]
    assert "started_wall_s" not in undated.meta


@pytest.mark.parametrize(
    ("header", "scale", "unit"),
    [("ms", 1, "ms"), ("Interval (ms)", 1, "ms"), ("Data", 1, "ms"), ("sec", 0.001, "s")],
)
def test_one_column_with_any_header(tmp_path: Path, header: str, scale: float, unit: str) -> None:
    """One column of RR under a name that is no heart rate (refused before: 'no RR column')."""
    text = header + "\n" + "".join(f"{v * scale:g}\n" for v in RR)
    recording = read_recording(write(tmp_path, "rr.txt", text))
    assert recording.rr_ms.tolist() == pytest.approx(RR)
    assert recording.meta["unit"] == unit


def test_a_header_unit_the_values_contradict(tmp_path: Path) -> None:
    """``RR (ms)`` over values in seconds: RR of 0.8 ms are no heartbeats; the values decide,
    and the reading says so."""
    text = "RR (ms)\n" + "".join(f"{v / 1000:.3f}\n" for v in RR)
    recording = read_recording(write(tmp_path, "rr.csv", text))
    assert recording.rr_ms.tolist() == pytest.approx(RR)
    assert recording.meta["unit"] == "s"
    assert "says ms" in recording.meta["unit_note"]


def test_the_header_repeated_inside_the_file_starts_a_new_recording(tmp_path: Path) -> None:
    """Two exports joined into one file: the second header is no RR, and a gap."""
    text = "RR\n812\n790\nRR\n805\n830\n"
    recording = read_recording(write(tmp_path, "two.csv", text))
    assert recording.rr_ms.tolist() == [812.0, 790.0, 805.0, 830.0]
    assert recording.meta["recordings"] == 2
    assert breaks(recording) == [2]


@pytest.mark.parametrize("line", ['"{v}"', "{v};", "{v},", " {v}\t"])
def test_rr_text_with_quotes_or_a_trailing_separator(tmp_path: Path, line: str) -> None:
    """A spreadsheet's one-column export quotes each value or ends each line with the
    separator (refused before: 'expected one RR value per line')."""
    text = "".join(line.format(v=f"{v:.0f}") + "\n" for v in RR)
    assert read_recording(write(tmp_path, "rr.txt", text)).rr_ms.tolist() == RR


def test_a_bad_cell_names_the_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", "Time;RR-interval [ms]\n0,812;812\n1,602;seven\n")
    with pytest.raises(InputError) as caught:
        read_recording(path)
    assert str(caught.value) == (
        f"{path}: line 3: column 'rr-interval [ms]' is not a number: 'seven'"
    )


@pytest.mark.parametrize(
    "clock",
    ["20:00:{s:05.2f}", "8:00:{s:05.2f}\u202fPM", "8:00:{c} p. m.", "20.00.{c}", "8:00:{c}PM"],
    ids=["24h", "iOS 17 narrow space", "es p. m.", "dots, decimal comma", "no space"],
)
def test_apple_health_beat_clock_in_other_locales(tmp_path: Path, clock: str) -> None:
    """``InstantaneousBeatsPerMinute`` times follow the phone's locale: 24-hour, a narrow
    no-break space before PM (iOS 17), ``p. m.`` (Spanish), ``,`` for the decimals."""
    times = (1.0, 1.8, 2.6, 3.45)
    beats = "".join(
        f'<InstantaneousBeatsPerMinute bpm="{round(60 / rr)}" time="'
        + clock.format(s=t, c=f"{t:05.2f}".replace(".", ","))
        + '"/>'
        for t, rr in zip(times, (0.8, 0.8, 0.8, 0.85), strict=True)
    )
    text = (
        '<?xml version="1.0"?>\n<HealthData locale="es_ES">\n'
        '<Record type="HKQuantityTypeIdentifierHeartRateVariabilitySDNN" unit="ms" '
        'startDate="2024-01-02 20:00:00 +0100" endDate="2024-01-02 20:01:00 +0100" value="40">\n'
        f"<HeartRateVariabilityMetadataList>{beats}</HeartRateVariabilityMetadataList>\n"
        "</Record>\n</HealthData>\n"
    )
    recording = read_recording(write(tmp_path, "export.xml", text))
    assert recording.rr_ms.tolist() == pytest.approx([800.0, 800.0, 850.0])
    start = dt.datetime(2024, 1, 2, 20, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert recording.meta["started_wall_s"] == pytest.approx(start.timestamp())


def test_headerless_clock_time_and_rr(tmp_path: Path) -> None:
    """``hh:mm:ss.sss<TAB>RR`` rows (refused before: 'expected one RR value per line'): beat
    times from the clock, from the first row's."""
    t = np.cumsum(RR) / 1000
    rows = "".join(f"08:00:{a:06.3f}\t{b:.0f}\n" for a, b in zip(t, RR, strict=True))
    recording = read_recording(write(tmp_path, "rr.txt", rows))
    assert recording.source_format == "time_rr"
    assert recording.rr_ms.tolist() == RR
    assert recording.t_s is not None
    assert recording.t_s.tolist() == pytest.approx(t - t[0])
    assert breaks(recording) == []


def test_a_beat_number_column_is_not_time(tmp_path: Path) -> None:
    """``1 812``, ``2 790``...: the first column counts beats; read as seconds it would put
    each beat a second apart and call the faster ones gaps."""
    fast = [600.0, 610.0, 590.0, 605.0, 600.0]
    rows = "".join(f"{i} {v:.0f}\n" for i, v in enumerate(fast, start=1))
    recording = read_recording(write(tmp_path, "rr.txt", rows))
    assert recording.rr_ms.tolist() == fast
    assert recording.t_s is None
    assert recording.segment is None


@pytest.mark.parametrize(
    "text",
    ["[812, 790, 805, 830, 845]\n", "[\n  0.812,\n  0.790,\n  0.805,\n  0.830,\n  0.845\n]\n"],
)
def test_rr_as_a_json_list(tmp_path: Path, text: str) -> None:
    """A list of numbers, on one line or pretty-printed (refused before: 'expected one RR
    value per line', or 'not a biofeedback-session file')."""
    recording = read_recording(write(tmp_path, "rr.json", text))
    assert recording.source_format == "json_rr"
    assert recording.rr_ms.tolist() == pytest.approx(RR)


def test_movesense_json_recording_rr_data(tmp_path: Path) -> None:
    """Movesense Showcase's JSON recording: a header object, then one HR notification per
    line with its ``rrData``, each line ending with a comma (refused before: not a bundle)."""
    lines = [
        '{"device": "Movesense 174630000192", "uri": "/Meas/HR"},',
        '{"Body": {"average": 73.9, "rrData": [812]}},',
        '{"Body": {"average": 75.2, "rrData": [790, 805]}},',
        '{"Body": {"average": 72.1, "rrData": []}},',
        '{"Body": {"average": 71.5, "rrData": [830, 845]}},',
    ]
    recording = read_recording(write(tmp_path, "hr.json", "\n".join(lines) + "\n"))
    assert recording.source_format == "json_rr"
    assert recording.rr_ms.tolist() == RR
    assert recording.meta["rr_keys"] == "rrData"


def test_json_naming_no_rr_is_refused_in_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "other.json", '{"rr": "none", "hr": [72, 73]}')
    with pytest.raises(InputError, match=r"JSON without RR values"):
        read_recording(path)
    bundle_like = write(tmp_path, "x.json", '{"heart": [72, 73]}')
    with pytest.raises(InputError, match=r"not a biofeedback-session file"):
        read_recording(bundle_like)


def test_suunto_ambit_moveslink2_xml_without_a_root(tmp_path: Path) -> None:
    """A Suunto Ambit log from Moveslink2: ``<header>``, ``<R-R><IBI>``, ``<Samples>`` with no
    root around them (refused before as XML that is not a Suunto .sml)."""
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<header>\n<DateTime>2014-04-10T18:31:37'
        "</DateTime>\n</header>\n<R-R>\n<IBI>812 790 805 830 845</IBI>\n</R-R>\n"
        "<Samples>\n<sample><Time>0</Time></sample>\n</Samples>\n"
    )
    recording = read_recording(write(tmp_path, "log.xml", text))
    assert recording.source_format == "suunto_sml"
    assert recording.rr_ms.tolist() == RR
    assert recording.meta["started_local"] == "2014-04-10T18:31:37"


_FIT_CRC = (0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
            0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400)  # fmt: skip


def _fit_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        for nibble in (byte & 0xF, byte >> 4):
            tmp = _FIT_CRC[crc & 0xF]
            crc = (crc >> 4) & 0x0FFF
            crc ^= tmp ^ _FIT_CRC[nibble]
    return crc


_Field = tuple[int, int, int, bytes]
"""A FIT field: number, size, base type, its value's little-endian bytes."""


def _fit_file(messages: list[tuple[int, list[_Field], list[tuple[int, bytes]]]]) -> bytes:
    """A FIT file of one message per entry: (global number, fields, developer fields as
    (number, value bytes) of developer 0), each with its own definition (local type 0)."""
    import struct

    body = b""
    for number, fields, dev in messages:
        body += struct.pack("<BBBHB", 0x60 if dev else 0x40, 0, 0, number, len(fields))
        body += b"".join(struct.pack("<BBB", f, size, base) for f, size, base, _ in fields)
        if dev:
            body += bytes([len(dev)])
            body += b"".join(struct.pack("<BBB", f, len(value), 0) for f, value in dev)
        body += b"\x00" + b"".join(value for *_, value in fields)
        body += b"".join(value for _, value in dev)
    header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    header += struct.pack("<H", _fit_crc(header))
    data = header + body
    return data + struct.pack("<H", _fit_crc(data))


FIT_EPOCH = 631065600


def _file_id(when: int) -> tuple[int, list[_Field], list[tuple[int, bytes]]]:
    import struct

    return (0, [(0, 1, 0x00, b"\x04"), (4, 4, 0x86, struct.pack("<I", when - FIT_EPOCH))], [])


def test_garmin_fit_beat_intervals_messages(tmp_path: Path) -> None:
    """Newer Garmin watches log RR as ``beat_intervals`` (message 290, ms), not ``hrv`` (in s):
    refused before as a FIT file without hrv messages."""
    import struct

    when = 1_705_305_600 - FIT_EPOCH
    beats = [
        (290, [(253, 4, 0x86, struct.pack("<I", when + k)), (0, 2, 0x84, b"\x00\x00"),
               (1, 2 * len(chunk), 0x84, struct.pack(f"<{len(chunk)}H", *chunk))], [])
        for k, chunk in enumerate(([812, 790], [805, 830, 845]))
    ]  # fmt: skip
    path = tmp_path / "watch.fit"
    path.write_bytes(_fit_file([_file_id(1_705_305_600), *beats]))
    recording = read_recording(path)
    assert recording.source_format == "fit"
    assert recording.rr_ms.tolist() == pytest.approx(RR)
    assert recording.meta["fit_messages"] == "beat_intervals"
    assert recording.meta["started_wall_s"] == 1_705_305_600


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time;RR\n1;\n2;\n", r"column 'rr' \(line 1\) is empty on every row \(2 rows\)"),
        ("RR (ms)\n", r"line 1: a header and no rows: no RR values"),
        ("NaN\nNaN\n", r"every RR value is marked missing \(NaN\)"),
    ],
    ids=["empty RR column", "header only", "all missing"],
)
def test_a_file_with_no_rr_says_why(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "none.csv", text)
    with pytest.raises(InputError, match=rf"^{path}: .*{message}"):
        read_recording(path)


def test_a_first_line_marking_a_missing_beat_is_no_header(tmp_path: Path) -> None:
    """``NaN`` on the first line of RR text is a missing beat, not a column name."""
    recording = read_recording(write(tmp_path, "rr.txt", "NaN\n812\n790\n805\n"))
    assert recording.source_format == "rr_text"
    assert recording.rr_ms.tolist() == [812.0, 790.0, 805.0]
    assert recording.meta["missing_beats"] == 1


def test_garmin_fit_connect_iq_rr_developer_field(tmp_path: Path) -> None:
    """A Connect IQ RR recorder writes RR as a developer field ``RR`` (ms) of ``record``
    messages, no ``hrv`` messages (refused before as a FIT file without hrv messages)."""
    import struct

    when = 1_705_305_600 - FIT_EPOCH
    developer = (207, [(3, 1, 0x02, b"\x00")], [])
    described = (206, [(0, 1, 0x02, b"\x00"), (1, 1, 0x02, b"\x00"), (2, 1, 0x02, b"\x84"),
                       (3, 3, 0x07, b"RR\x00"), (8, 3, 0x07, b"ms\x00")], [])  # fmt: skip
    records = [
        (20, [(253, 4, 0x86, struct.pack("<I", when + k))],
         [(0, struct.pack(f"<{len(chunk)}H", *chunk))])
        for k, chunk in enumerate(([812, 790], [805, 830], [845, 0xFFFF]))
    ]  # fmt: skip
    path = tmp_path / "ciq.fit"
    path.write_bytes(_fit_file([_file_id(1_705_305_600), developer, described, *records]))
    recording = read_recording(path)
    assert recording.rr_ms.tolist() == pytest.approx(RR)
    assert recording.meta["fit_messages"] == "record (developer field 'RR', ms)"


def test_hrv_logger_date_and_since_start_with_a_space(tmp_path: Path) -> None:
    """HRV Logger's ``date,rr,since start`` (``since start`` with a space, the date with its
    zone) and a row written twice: beat times in ms from the start, the start from the first
    date, the repeated row read once (it made a zero interval and a gap)."""
    rows = [
        "2023-02-08 20:20:25 +0100,812,812",
        "2023-02-08 20:20:26 +0100,790,1602",
        "2023-02-08 20:20:26 +0100,790,1602",
        "2023-02-08 20:20:27 +0100,805,2407",
        "2023-02-08 20:20:28 +0100,830,3237",
    ]
    path = write(tmp_path, "RR_x.csv", "date,rr,since start\n" + "\n".join(rows) + "\n")
    recording = read_recording(path)
    assert recording.rr_ms.tolist() == [812.0, 790.0, 805.0, 830.0]
    assert recording.t_s is not None
    assert recording.t_s.tolist() == pytest.approx([0.812, 1.602, 2.407, 3.237])
    start = dt.datetime(2023, 2, 8, 20, 20, 25, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert recording.meta["started_wall_s"] == start.timestamp()
    assert recording.meta["repeated_rows"] == 1


@pytest.mark.parametrize("stamp", ["15.01.2024 08:00:{s}", "2024/01/15 08:00:{s}"])
def test_day_first_and_slashed_timestamps(tmp_path: Path, stamp: str) -> None:
    """Spreadsheet date styles in a timestamp column: ``15.01.2024 08:00:00`` (German) and
    ``2024/01/15 08:00:00`` (refused before: 'neither a Unix time nor an ISO 8601 time')."""
    at = np.cumsum(RR) / 1000
    rows = "".join(
        stamp.format(s=f"{a:06.3f}") + f";{v:.0f}\n" for a, v in zip(at, RR, strict=True)
    )
    recording = read_recording(write(tmp_path, "rr.csv", "Timestamp;RR (ms)\n" + rows))
    assert recording.rr_ms.tolist() == RR
    local = dt.datetime.fromtimestamp(recording.meta["started_wall_s"])
    assert local.isoformat() == "2024-01-15T08:00:00.812000"


def test_one_column_under_free_text_lines(tmp_path: Path) -> None:
    """RR text under a few lines a user or a lab tool wrote (Kubios reads such files, skipping
    the header lines): the numbers below are the RR (refused before: 'no RR column')."""
    text = "Recording 1\nSubject: 12, visit 2\n" + "".join(f"{v / 1000:.3f}\n" for v in RR)
    recording = read_recording(write(tmp_path, "rr.txt", text))
    assert recording.rr_ms.tolist() == pytest.approx(RR)
    assert recording.meta["unit"] == "s"


def test_one_column_of_heart_rate_under_text_is_refused_as_heart_rate(tmp_path: Path) -> None:
    path = write(tmp_path, "hr.txt", "Polar export\nHR\n72\n73\n74\n")
    with pytest.raises(InputError, match=r"line 2: heart rate only \(column 'hr'\)"):
        read_recording(path)


def test_a_column_of_heart_rate_without_a_header_is_refused(tmp_path: Path) -> None:
    """72, 73, 74... read as RR would be beats 73 ms apart (was analysed as such, every beat
    flagged): refused with the likely reason."""
    path = write(tmp_path, "hr.txt", "72\n73\n74\n75\n")
    with pytest.raises(InputError, match=r"median RR is 73\.5 ms .*heart rate in bpm"):
        read_recording(path)
    forced = read_recording(path, unit="ms")  # the user's --unit is still obeyed
    assert forced.rr_ms.tolist() == [72.0, 73.0, 74.0, 75.0]


def test_headerless_time_rr_row_written_twice_is_one_beat(tmp_path: Path) -> None:
    rows = "0.812 812\n1.602 790\n1.602 790\n2.407 805\n3.237 830\n"
    recording = read_recording(write(tmp_path, "rr.txt", rows))
    assert recording.rr_ms.tolist() == [812.0, 790.0, 805.0, 830.0]
    assert recording.meta["repeated_rows"] == 1
    assert breaks(recording) == []


def _zip(tmp_path: Path, name: str, members: dict[str, bytes]) -> Path:
    import zipfile

    path = tmp_path / name
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def test_a_zip_of_one_recording_is_read_as_that_file(tmp_path: Path) -> None:
    """Garmin Connect's "Export Original" and phone share sheets hand over a .zip around one
    file (refused before: 'binary data, not a text file'); its own name still counts (an Elite
    HRV name gives the start), macOS's __MACOSX entries are no files."""
    text = "".join(f"{v:.0f}\n" for v in RR).encode()
    path = _zip(
        tmp_path,
        "export.zip",
        {"2017-06-29 13-11-53.txt": text, "__MACOSX/._2017-06-29 13-11-53.txt": b"\x00\x05"},
    )
    recording = read_recording(path)
    assert recording.source_format == "elite_hrv"
    assert recording.rr_ms.tolist() == RR
    assert recording.meta["started_local"] == "2017-06-29T13:11:53"


def test_a_zip_of_several_files_or_a_broken_zip_says_what_to_do(tmp_path: Path) -> None:
    two = _zip(tmp_path, "all.zip", {"a.txt": b"812\n790\n805\n", "b.txt": b"812\n790\n805\n"})
    with pytest.raises(InputError, match=r"all\.zip: a ZIP archive of 2 files \(a\.txt, b\.txt\)"):
        read_recording(two)
    broken = write(tmp_path, "cut.zip", "")
    broken.write_bytes(two.read_bytes()[:60])
    with pytest.raises(InputError, match=r"cut\.zip: not a readable ZIP archive"):
        read_recording(broken)


VNS = (
    "Korrektur\tAktiv\n\nHauptparameter der VNS Analyse - Rohwerte (Nicht aktiv)\n"
    "RMSSD\t42.5\n\nRR-Intervalle - Rohwerte (Nicht aktiv)\n"
    "0.812\tNotiz: Start Ruhe\n0.790\t\n0.805\t\n1.630\t\n0.830\t\n\n"
    "RR-Intervalle - Korrigierte Werte (Aktiv)\n0.812\t\n0.790\t\n0.805\t\n0.815\t\n0.815\t\n"
)


def test_vns_analyse_export_raw_rr_notes_and_start(tmp_path: Path) -> None:
    """VNS Analyse: results, then the raw and the corrected RR (s), notes beside beats, the
    start in the file name (refused before: a value 'not a number' in the second section).
    The raw series is read: this program corrects artefacts itself."""
    name = "VNS - 0001VNST (0) - 15.03.2025 09.07 Langzeit, 1h 46min KORRIGIERT.txt"
    recording = read_recording(write(tmp_path, name, VNS))
    assert recording.source_format == "vns_analyse"
    assert recording.rr_ms.tolist() == pytest.approx([812.0, 790.0, 805.0, 1630.0, 830.0])
    assert recording.meta["vns_series"] == "raw"
    assert recording.meta["notes"] == [{"beat": 0, "note": "Start Ruhe"}]
    assert recording.meta["started_local"] == "2025-03-15T09:07:00"


def test_vns_analyse_with_only_corrected_rr_says_so(tmp_path: Path) -> None:
    text = VNS[: VNS.index("RR-Intervalle - Rohwerte")] + VNS[VNS.index("RR-Intervalle - K") :]
    recording = read_recording(write(tmp_path, "vns.txt", text))
    assert recording.rr_ms.tolist() == pytest.approx([812.0, 790.0, 805.0, 815.0, 815.0])
    assert recording.meta["vns_series"] == "corrected"


@pytest.mark.parametrize(
    ("header", "row"),
    [
        ("HR,RR,MS,SC", "{hr},{rr},{ms},{contact}"),
        (
            "Phone timestamp;PP-interval [ms];error estimate [ms];blocker;contact;contact;hr [bpm]",
            "2024-01-15T08:00:{s:06.3f};{rr};10;0;{contact};1;{hr}",
        ),
    ],
    ids=["H10 HR,RR,MS,SC", "PSL PPI contact;contact"],
)
def test_beats_without_skin_contact_are_missing(tmp_path: Path, header: str, row: str) -> None:
    """A strap or an optical sensor that says it has no skin contact (0, where it can tell)
    measures noise: that beat is left out, a gap in its place."""
    at = np.cumsum(RR)
    rows = [
        row.format(hr=74, rr=f"{v:.0f}", ms=f"{t:.0f}", s=t / 1000, contact=0 if i == 3 else 1)
        for i, (v, t) in enumerate(zip(RR, at, strict=True))
    ]
    recording = read_recording(write(tmp_path, "rr.txt", header + "\n" + "\n".join(rows) + "\n"))
    assert recording.rr_ms.tolist() == [812.0, 790.0, 805.0, 845.0]
    assert recording.meta["no_contact_beats"] == 1
    assert breaks(recording) == [3]


def test_ppi_contact_not_supported_keeps_every_beat(tmp_path: Path) -> None:
    """Contact 0 with contact supported 0: the sensor cannot tell, the beats are kept."""
    head = "Phone timestamp;PP-interval [ms];error estimate [ms];blocker;contact;contact;hr [bpm]\n"
    at = np.cumsum(RR) / 1000
    rows = "".join(
        f"2024-01-15T08:00:{t:06.3f};{v:.0f};10;0;0;0;74\n" for v, t in zip(RR, at, strict=True)
    )
    recording = read_recording(write(tmp_path, "ppi.txt", head + rows))
    assert recording.rr_ms.tolist() == RR


@pytest.mark.parametrize("end", ["\r", "\r\n"], ids=["CR (classic Mac Excel)", "CRLF"])
def test_csv_with_cr_line_ends(tmp_path: Path, end: str) -> None:
    """Excel's "CSV (Macintosh)" ends lines with CR alone (refused before: 'new-line
    character seen in unquoted field')."""
    at = np.cumsum(RR) / 1000
    rows = [f"2024-01-15T08:00:{t:06.3f};{v:.0f}" for v, t in zip(RR, at, strict=True)]
    text = end.join(["Phone timestamp;RR-interval [ms]", *rows]) + end
    recording = read_recording(write(tmp_path, "x_RR.txt", text))
    assert recording.rr_ms.tolist() == RR
    assert "started_wall_s" in recording.meta


def test_a_session_column_splits_a_file_of_several_recordings(tmp_path: Path) -> None:
    """Several morning readings in one table, told apart by a ``measurement`` column: no
    successive difference spans two recordings."""
    rows = ["1,812", "1,790", "1,805", "2,830", "2,845"]
    recording = read_recording(write(tmp_path, "all.csv", "measurement,rr\n" + "\n".join(rows)))
    assert recording.rr_ms.tolist() == RR
    assert recording.meta["recordings"] == 2
    assert breaks(recording) == [3]


@pytest.mark.parametrize(
    ("header", "scale", "unit"),
    [
        ("Zeit;RR-Intervall [ms]", 1, "ms"),
        ("temps;intervalle RR (s)", 0.001, "s"),
        ("tiempo;intervalo RR (ms)", 1, "ms"),
        ("time;RR in ms", 1, "ms"),
        ("time;rr_msec", 1, "ms"),
    ],
)
def test_rr_column_names_in_other_languages_and_unit_styles(
    tmp_path: Path, header: str, scale: float, unit: str
) -> None:
    """German, French, Spanish spreadsheets and ``RR in ms``: refused before as 'no RR column'."""
    at = np.cumsum(RR) / 1000
    rows = "".join(f"{t:.3f};{v * scale:g}\n" for v, t in zip(RR, at, strict=True))
    recording = read_recording(write(tmp_path, "rr.csv", header + "\n" + rows))
    assert recording.rr_ms.tolist() == pytest.approx(RR)
    assert recording.meta["unit"] == unit


def test_suunto_sml_rr_data_separated_by_commas(tmp_path: Path) -> None:
    text = "<sml><DeviceLog><R-R><Data>812,790,805, 830,845</Data></R-R></DeviceLog></sml>"
    recording = read_recording(write(tmp_path, "log.sml", text))
    assert recording.rr_ms.tolist() == RR


def test_movesense_ios_csv_without_a_title_and_bracketed_rr(tmp_path: Path) -> None:
    """The iOS Showcase writes ``average,rrData`` with no title line, its RRs perhaps as a
    list (``"[790, 805]"``); the start from the UTC time in the file name."""
    text = 'average,rrData\n73.9,812\n75.2,"[790, 805]"\n72.1,\n71.5,830 845\n'
    name = "2024-01-15T08:00:00Z_174630000192_HR.csv"
    recording = read_recording(write(tmp_path, name, text))
    assert recording.source_format == "movesense_hr"
    assert recording.rr_ms.tolist() == RR
    assert recording.meta["started_wall_s"] == 1_705_305_600


SEVERAL_SEMICOLON = [
    "1705305600812;74;812",
    "1705305602407;75;790 805",
    "1705305603237;72;",
    "1705305604082;71;830|845",
]
SEVERAL_LIST = [
    "1705305600812,74,812",
    '1705305602407,75,"[790, 805]"',
    "1705305604082,71,830 845",
]


@pytest.mark.parametrize(
    ("head", "rows"),
    [("timestamp;hr;rr", SEVERAL_SEMICOLON), ("timestamp,hr,rr", SEVERAL_LIST)],
    ids=["spaces and bars", "a quoted list"],
)
def test_several_rr_in_one_cell(tmp_path: Path, head: str, rows: list[str]) -> None:
    """Heart-rate loggers write each BLE notification's RRs in one cell (refused before: 'not
    a number'); they share the row's arrival time."""
    recording = read_recording(write(tmp_path, "hr.csv", head + "\n" + "\n".join(rows) + "\n"))
    assert recording.rr_ms.tolist() == RR
    assert recording.meta["rows_with_several_rr"] == 2
    assert recording.meta["started_wall_s"] == pytest.approx(1705305600.812)
    assert breaks(recording) == []


def test_several_rr_in_one_cell_beside_a_beat_time_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "b.csv", "t_s,rr\n0.812,812\n2.407,790 805\n")
    with pytest.raises(InputError, match=r"several RR in one row beside a beat time"):
        read_recording(path)


@pytest.mark.parametrize("scale", [1e3, 1.0, 1e6], ids=["ms", "s", "µs"])
def test_headerless_unix_time_and_rr(tmp_path: Path, scale: float) -> None:
    """``1705305600812,812`` rows (a logger's stamps without a header): the start from the
    first stamp and the stamps as arrival times (they were read as 1.7e9 s into the session)."""
    at = 1_705_305_600 + np.cumsum(RR) / 1000
    rows = "".join(f"{t * scale:.0f},{v:.0f}\n" for v, t in zip(RR, at, strict=True))
    recording = read_recording(write(tmp_path, "rr.txt", rows))
    assert recording.source_format == "time_rr"
    assert recording.rr_ms.tolist() == RR
    assert recording.meta["started_wall_s"] == pytest.approx(at[0], abs=1.0)
    assert recording.t_s is not None
    assert float(recording.t_s[-1]) < 10.0
    assert breaks(recording) == []


def test_excel_unicode_text_export_with_a_german_time_column(tmp_path: Path) -> None:
    """Excel's "Unicode Text": UTF-16 with its BOM, tabs, CRLF, decimal commas, and the time
    column named ``Zeit`` (its beat times were not read)."""
    text = "Zeit\tRR (ms)\r\n0,812\t812\r\n1,602\t790\r\n2,407\t805\r\n3,237\t830\r\n"
    path = tmp_path / "export.txt"
    path.write_bytes(text.encode("utf-16"))
    recording = read_recording(path)
    assert recording.rr_ms.tolist() == RR[:4]
    assert recording.t_s is not None
    assert recording.t_s.tolist() == pytest.approx([0.812, 1.602, 2.407, 3.237])


def test_a_file_of_comments_only_is_refused_in_one_line(tmp_path: Path) -> None:
    """A file holding only ``#`` lines (a header an app wrote before any beat): refused
    saying there is no RR (was an IndexError traceback)."""
    path = write(tmp_path, "rr.txt", "# Polar H10\n#  1  hr\n")
    with pytest.raises(InputError, match=r"no RR values"):
        read_recording(path)
