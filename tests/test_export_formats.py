"""``export --format beats`` (CSV with beat times and gap marks) and ``--format bids`` (BIDS
physio ``_physio.tsv.gz`` + ``_physio.json``): written through safe_io (0600, atomic, never
through a symlink) and read back: RR exact, beat times exact (CSV) or on the 1024 Hz grid
(BIDS), every continuity break where it was."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from biofeedback.errors import InputError
from biofeedback.sessions.export import (
    BIDS_HZ,
    bids_paths,
    export_to_file,
    read_bids_physio,
    write_bids_physio,
)
from biofeedback.sessions.formats import read_as_bundle, read_recording
from biofeedback.sessions.store import SessionStore
from tests.cli_support import run_cli

E4 = Path(__file__).parent / "data" / "formats" / "im-ethz__flirt" / "empatica_IBI.csv"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SessionStore:
    """Session 1: the Empatica E4 file (202 gaps up to 268 s, a start time); 2: a simulated
    strap with disconnects (gaps of lost beats)."""
    folder = tmp_path_factory.mktemp("export")
    sim = folder / "sim.json"
    ran = run_cli(
        "simulate", "--duration", "600", "--artifacts", "disconnects_per_h=20", "--out", str(sim)
    )
    assert ran.returncode == 0, ran.stderr
    db = SessionStore(folder / "s.db")
    assert db.import_bundle(read_as_bundle(E4), origin="e4") == 1
    assert db.import_bundle(read_as_bundle(sim), origin="sim") == 2
    return db


def _private(path: Path) -> None:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("sid", [1, 2])
def test_beats_csv_marks_each_gap_and_reads_back_exactly(
    store: SessionStore, tmp_path: Path, sid: int
) -> None:
    bundle = store.load_bundle(sid)
    beats = bundle.beats
    breaks = int(np.count_nonzero(np.diff(beats["segment"])))
    assert breaks > 0
    out = tmp_path / "beats.csv"
    export_to_file(store, sid, "beats", out)
    _private(out)
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert list(rows[0]) == [
        "t_s",
        "rr_ms",
        "segment",
        "gap",
        "gap_s",
        "flags",
        "time_utc",
        "withheld",
    ]
    assert [float(r["rr_ms"]) for r in rows] == beats["rr_ms"]
    assert [float(r["t_s"]) for r in rows] == beats["t_s"]
    marked = [i for i, r in enumerate(rows) if r["gap"] == "1"]
    assert len(marked) == breaks
    for i in marked:
        lost = beats["t_s"][i] - beats["rr_ms"][i] / 1000 - beats["t_s"][i - 1]
        assert float(rows[i]["gap_s"]) == pytest.approx(max(lost, 0.0), abs=1e-6)
    assert all(r["gap_s"] == "" for r in rows if r["gap"] == "0")
    started = bundle.session.get("started_wall_s")
    if isinstance(started, float):
        first = dt.datetime.fromisoformat(rows[0]["time_utc"].replace("Z", "+00:00"))
        assert first.timestamp() == pytest.approx(started + beats["t_s"][0], abs=1e-3)
    # The program's own reader takes it back: the same beats, the same breaks.
    back = read_recording(out)
    assert back.rr_ms.tolist() == beats["rr_ms"]
    assert back.t_s is not None
    assert back.t_s.tolist() == beats["t_s"]
    assert back.meta.get("gaps", 0) == breaks


@pytest.mark.parametrize("sid", [1, 2])
def test_bids_physio_round_trip(store: SessionStore, tmp_path: Path, sid: int) -> None:
    bundle = store.load_bundle(sid)
    beats = bundle.beats
    written = export_to_file(store, sid, "bids", tmp_path / "sub-01_task-rest")
    data, sidecar_path = written
    assert (data.name, sidecar_path.name) == (
        "sub-01_task-rest_physio.tsv.gz",
        "sub-01_task-rest_physio.json",
    )
    for path in written:
        _private(path)
    sidecar, back = read_bids_physio(data)
    assert sidecar["SamplingFrequency"] == BIDS_HZ
    assert sidecar["Columns"] == ["beat", "rr_ms", "segment", "gap"]
    assert sidecar["rr_ms"]["Units"] == "ms"
    assert sidecar["StartTime"] == beats["t_s"][0]
    assert sidecar["BeatCount"] == len(beats["t_s"])
    assert back["rr_ms"] == beats["rr_ms"]
    assert back["segment"] == beats["segment"]
    err = np.abs(np.asarray(back["t_s"]) - np.asarray(beats["t_s"]))
    assert float(err.max()) <= 0.5 / BIDS_HZ + 1e-9
    # Headerless TSV, four columns, n/a off the beats; gap samples only inside breaks.
    # (Millions of rows at 1000 Hz: counted with numpy over the bytes, not line by line.)
    chars = np.frombuffer(gzip.decompress(data.read_bytes()), dtype=np.uint8)
    ends = np.flatnonzero(chars == ord("\n"))
    assert ends[-1] == chars.size - 1
    assert ends.size == round((beats["t_s"][-1] - beats["t_s"][0]) * BIDS_HZ) + 1
    # Three tabs in each row: 3 per row in all, and row k holds tabs 3k, 3k+1 and 3k+2.
    tabs = np.flatnonzero(chars == ord("\t"))
    assert tabs.size == 3 * ends.size
    assert np.all(tabs[2::3] < ends)
    assert np.all(tabs[3::3] > ends[:-1])
    gap_samples = int(((chars[ends - 1] == ord("1")) & (chars[ends - 2] == ord("\t"))).sum())
    t, rr = np.asarray(beats["t_s"]), np.asarray(beats["rr_ms"]) / 1000
    brk = np.flatnonzero(np.diff(beats["segment"])) + 1
    lost = np.maximum(t[brk] - rr[brk] - t[brk - 1], 0).sum()
    assert gap_samples == pytest.approx(lost * BIDS_HZ, abs=2 * brk.size)
    if sid == 1:
        assert sidecar["AcquisitionDateTime"].endswith("Z")


def test_the_rich_sessions_segment_change_without_lost_time_is_still_a_gap(
    tmp_path: Path,
) -> None:
    from tests.test_store_export import record_rich_session

    store = SessionStore(tmp_path / "r.db")
    sid = record_rich_session(store)
    out = tmp_path / "r.csv"
    export_to_file(store, sid, "beats", out)
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["gap"], r["gap_s"]) for r in rows if r["gap"] == "1"] == [("1", "0")]
    _, back = read_bids_physio(write_bids_physio(store.load_bundle(sid), tmp_path / "r")[0])
    assert back["segment"] == store.load_bundle(sid).beats["segment"]


def test_bids_paths_accept_either_name_or_a_bare_stem(tmp_path: Path) -> None:
    want = (tmp_path / "x_physio.tsv.gz", tmp_path / "x_physio.json")
    for given in ("x", "x_physio", "x_physio.tsv.gz", "x_physio.json"):
        assert bids_paths(tmp_path / given) == want


def test_exports_never_write_through_a_symlink(store: SessionStore, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    os.symlink(victim, tmp_path / "s_physio.json")
    with pytest.raises(InputError, match="symbolic link"):
        export_to_file(store, 2, "bids", tmp_path / "s")
    os.symlink(victim, tmp_path / "b.csv")
    with pytest.raises(InputError, match="symbolic link"):
        export_to_file(store, 2, "beats", tmp_path / "b.csv")
    assert victim.read_text() == "keep me"


def test_the_cli_writes_bids_with_out_and_refuses_it_on_stdout(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    assert run_cli("import", str(E4), db=db).returncode == 0
    stdout = run_cli("export", "1", "--format", "bids", db=db)
    assert stdout.returncode == 2
    assert "give --out" in stdout.stderr
    ran = run_cli("export", "1", "--format", "bids", "--out", str(tmp_path / "e4"), db=db)
    assert ran.returncode == 0, ran.stderr
    doc = json.loads((tmp_path / "e4_physio.json").read_text())
    assert doc["StartTime"] >= 0
    beats = run_cli("export", "1", "--format", "beats", db=db)
    assert beats.stdout.startswith("t_s,rr_ms,segment,gap,gap_s,flags,time_utc,withheld\n")
