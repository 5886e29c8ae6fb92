"""Export and import through the store: exact round trips, duplicates, atomic refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from biofeedback.errors import InputError
from biofeedback.sessions.bundle import SessionBundle, read_bundle
from biofeedback.sessions.export import export_session
from biofeedback.sessions.formats import read_as_bundle, read_recording
from biofeedback.sessions.store import DuplicateImportError, SessionStore
from biofeedback.sessions.store_writer import SessionWriter
from devices.events import Beat, BeatFlag


def record_rich_session(store: SessionStore) -> int:
    """A session using every kind of row, with awkward floats."""
    with SessionWriter(store, background=False) as w:
        sid = w.begin(
            device={"name": "Polar H10 1A2B", "address": "C0:FF:EE", "kind": "ble"},
            source="ble",
            started_wall_s=1732604400.123456,
            profile="responder",
            protocol={"name": "default", "blocks": [{"label": "tapping", "duration_s": None}]},
            order_used={"method": "randomised", "seed": 7, "blocks": [2, 0, 1, 3]},
            settings={"window_s": 60.0, "bands_hz": [[0.04, 0.15], [0.15, 0.4]], "lambda": 500},
            notes="after coffee",
            extra={"seed": 3},
        )
        w.add_packet(10.000123, 1732604410.1, bytes.fromhex("1640e8031f03"))
        w.add_packet(11.1, 1732604411.2, bytes.fromhex("10"))
        t = 10.0
        for i in range(50):
            rr_raw = 800 + (i * 37) % 200
            t += rr_raw / 1024
            flags = BeatFlag.IMPLAUSIBLE if i == 7 else BeatFlag.NONE
            w.add_beats([Beat(t, rr_raw * 1000 / 1024, rr_raw, i // 30, i, flags)])
        w.add_marker(12.5, "protocol", "trigger-start", {"label": "tapping", "media": None})
        w.add_marker(13.0, "user", "tingle")
        w.add_marker(14.0, "rating", "relaxation", 7)
        h = w.start_segment("tapping", "trigger", 12.5, category="repetitive sounds")
        w.commit()
        w.end_segment(h, 52.5, complete=False)
        w.add_segment("baseline", "baseline", 0.1, 12.5)
        w.start_segment("washout", "washout", 52.5)
        w.set_truth({"rr_ms": [800.0, 0.1 + 0.2], "vagal": [1.0, 2.0]})
    return sid


def without_id(bundle: SessionBundle) -> dict[str, object]:
    doc = bundle.to_json()
    doc["session"] = {k: v for k, v in bundle.session.items() if k != "id"}
    return doc


def test_json_export_then_import_round_trips_exactly(tmp_path: Path):
    source = SessionStore(tmp_path / "a.db")
    sid = record_rich_session(source)
    original = source.load_bundle(sid)
    assert original.segments[0]["complete"] is False
    assert original.segments[2] == {"label": "washout", "kind": "washout", "start_s": 52.5}
    text = export_session(source, sid, "json")
    path = tmp_path / "s.json"
    path.write_text(text)

    target = SessionStore(tmp_path / "b.db")
    new_id = target.import_bundle(read_bundle(path))
    copy = target.load_bundle(new_id)
    assert without_id(copy) == without_id(original)
    assert copy.packets["hex"] == ["1640e8031f03", "10"]
    assert copy.truth == {"rr_ms": [800.0, 0.30000000000000004], "vagal": [1.0, 2.0]}
    again = export_session(target, new_id, "json")
    assert json.loads(again)["beats"] == json.loads(text)["beats"]
    assert target.list_sessions()[0].beat_count == 50


def test_a_second_import_is_refused_and_writes_nothing(tmp_path: Path):
    store = SessionStore(tmp_path / "a.db")
    sid = record_rich_session(store)
    bundle = store.load_bundle(sid)
    with pytest.raises(DuplicateImportError, match=f"already in the store as session {sid}"):
        store.import_bundle(bundle)
    other = SessionStore(tmp_path / "b.db")
    first = other.import_bundle(bundle)
    with pytest.raises(DuplicateImportError, match=f"already imported as session {first}"):
        other.import_bundle(store.load_bundle(sid))
    assert other.count() == 1


def test_csv_rr_and_kubios_exports(tmp_path: Path):
    store = SessionStore(tmp_path / "a.db")
    sid = record_rich_session(store)
    bundle = store.load_bundle(sid)
    csv_lines = export_session(store, sid, "csv").splitlines()
    assert csv_lines[0] == "t_s,rr_ms,segment,flags"
    assert len(csv_lines) == 51
    assert csv_lines[8].endswith(",0,1")
    rr_path = tmp_path / "rr.txt"
    rr_path.write_text(export_session(store, sid, "rr"))
    assert read_recording(rr_path).rr_ms.tolist() == bundle.beats["rr_ms"]
    kubios = export_session(store, sid, "kubios").splitlines()
    assert kubios[0] == f"{bundle.beats['rr_ms'][0] / 1000:.6f}"
    kubios_path = tmp_path / "kubios.txt"
    kubios_path.write_text("\n".join(kubios))
    assert read_recording(kubios_path).meta["unit"] == "s"
    with pytest.raises(InputError, match="unknown export format"):
        export_session(store, sid, "xlsx")


def test_reference_files_import_to_their_beat_counts(reference_dir: Path, tmp_path: Path):
    store = SessionStore(tmp_path / "a.db")
    for name, count in [
        ("rhenanbartels_hrv/exercise_rri.hrm", 4117),
        ("physionet/nsr2db_nsr001_rr_s.txt", 106459),
    ]:
        sid = store.import_bundle(read_as_bundle(reference_dir / name), origin=name)
        assert store.summary(sid).beat_count == count
        assert store.summary(sid).source is not None
    with pytest.raises(DuplicateImportError):
        store.import_bundle(read_as_bundle(reference_dir / "rhenanbartels_hrv/exercise_rri.hrm"))
    assert store.count() == 2


@pytest.mark.shared("elitehrv", why="GPL-3.0")
def test_elite_hrv_export_imports_to_its_beat_count(shared_reference_dir: Path, tmp_path: Path):
    store = SessionStore(tmp_path / "a.db")
    name = "elitehrv/2017-06-29_14-36-38.txt"
    sid = store.import_bundle(read_as_bundle(shared_reference_dir / name), origin=name)
    assert store.summary(sid).beat_count == 5294
    assert store.summary(sid).source is not None


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("garbage.bin", bytes(range(256)) * 8),
        ("columns.csv", b"time,bpm\n1,60\n"),
        ("negative.txt", b"800\n-5\n"),
        ("empty.txt", b""),
        ("bundle.json", b'{"format": "biofeedback-session", "format_version": 1}'),
    ],
)
def test_bad_imports_leave_the_store_unchanged(tmp_path: Path, name: str, content: bytes):
    store = SessionStore(tmp_path / "a.db")
    record_rich_session(store)
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError):
        store.import_bundle(read_as_bundle(path), origin=str(path))
    assert store.count() == 1


def test_a_bundle_with_bad_rows_is_refused_atomically(tmp_path: Path):
    store = SessionStore(tmp_path / "a.db")
    bundle = read_as_bundle(_rr_file(tmp_path))
    bundle.markers = [{"t_s": 1.0}]
    with pytest.raises(InputError, match="markers\\[0\\] lacks kind"):
        store.import_bundle(bundle)
    bundle.markers = [{"t_s": 1.0, "kind": "user", "value": float("nan")}]
    with pytest.raises(InputError):
        store.import_bundle(bundle)
    bundle.markers = []
    bundle.beats["rr_ms"][1] = "810"
    with pytest.raises(InputError, match="not a number"):
        store.import_bundle(bundle)
    assert store.count() == 0
    assert store.conn.execute("SELECT COUNT(*) FROM beats").fetchone()[0] == 0


def _rr_file(tmp_path: Path) -> Path:
    path = tmp_path / "rr.txt"
    path.write_text("800\n810\n790\n")
    return path
