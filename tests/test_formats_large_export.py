"""An Apple Health export over the whole-file size limit is parsed in chunks, not refused.

Multi-year ``export.xml`` files run to gigabytes, over the 512-MiB limit every other input has
(read whole into memory). Here the limit and the chunk are made tiny so that a small export is
"large" and its tags are cut across chunks; the streamed reading must equal the whole one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from biofeedback.errors import InputError
from biofeedback.sessions import formats_limits as lim
from biofeedback.sessions import formats_xml
from biofeedback.sessions.formats import read_input, read_recording


def _export(n_records: int) -> str:
    records = []
    for r in range(n_records):
        beats = "".join(
            f'<InstantaneousBeatsPerMinute bpm="{round(60 / s)}" time="8:{r:02d}:{t:05.2f} PM"/>'
            for t, s in ((1.0, 0.8), (1.8, 0.8), (2.6, 0.8), (3.45, 0.85))
        )
        records.append(
            '<Record type="HKQuantityTypeIdentifierHeartRateVariabilitySDNN" unit="ms" '
            f'startDate="2024-01-02 20:{r:02d}:00 +0100" endDate="2024-01-02 20:{r:02d}:59 +0100" '
            f'value="40">\n<HeartRateVariabilityMetadataList>{beats}'
            "</HeartRateVariabilityMetadataList>\n</Record>\n"
            '<Record type="HKQuantityTypeIdentifierStepCount" value="12"/>\n'
        )
    return (
        '<?xml version="1.0"?>\n<HealthData locale="en_US">\n'
        + "".join(records)
        + ("</HealthData>\n")
    )


def test_a_large_apple_health_export_is_streamed_with_the_same_beats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "export.xml"
    path.write_text(_export(6))
    whole = read_recording(path)
    monkeypatch.setattr(lim, "MAX_FILE_BYTES", 1024)  # the file is now "too large" to read whole
    monkeypatch.setattr(formats_xml, "STREAM_CHUNK_BYTES", 97)  # tags cut across chunks
    assert path.stat().st_size > 1024
    streamed = read_recording(path)
    assert streamed.source_format == "apple_health"
    assert streamed.rr_ms.tolist() == whole.rr_ms.tolist()
    assert streamed.meta["started_wall_s"] == whole.meta["started_wall_s"]
    assert read_input(path).rr_ms.tolist() == whole.rr_ms.tolist()  # type: ignore[union-attr]


def test_other_large_files_are_still_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "rr.txt"
    path.write_text("800\n" * 400)
    monkeypatch.setattr(lim, "MAX_FILE_BYTES", 1024)
    with pytest.raises(InputError, match="limit for an input file"):
        read_recording(path)


def test_a_large_export_cut_short_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "export.xml"
    path.write_text(_export(6)[:-200])
    monkeypatch.setattr(lim, "MAX_FILE_BYTES", 1024)
    monkeypatch.setattr(formats_xml, "STREAM_CHUNK_BYTES", 97)
    with pytest.raises(InputError, match="not well-formed XML") as info:
        read_recording(path)
    assert "\n" not in str(info.value)
