"""Raw ECG and ACC in the store: the codec, the writer's chunks, bundles, the v2 -> v3 migration,
readers and busy stores while waveforms are written, and a damaged chunk."""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from biofeedback.errors import InputError
from biofeedback.live.recorder import Recorder, SessionMeta
from biofeedback.sessions import formats_limits as lim
from biofeedback.sessions import store_waves as waves
from biofeedback.sessions.bundle import SessionBundle, parse_bundle
from biofeedback.sessions.export import export_bundle
from biofeedback.sessions.store import SessionStore
from biofeedback.sessions.store_schema import MIGRATIONS, SCHEMA_VERSION
from biofeedback.sessions.store_writer import SessionWriter
from devices.events import Beat
from devices.pmd_stream import AccSamples, EcgSamples
from tests.cli_support import run_cli

DEVICE = {"name": "Polar H10 0A1B2C3D", "address": "", "kind": "simulated"}
ECG_FS, ECG_FRAME = 130.0, 73
ACC_FS, ACC_FRAME = 200.0, 36


class Clock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def ecg_signal(n: int, seed: int = 1) -> NDArray[np.int32]:
    """ECG-like integers: a 1-Hz spike train, wander and noise (µV, 24-bit range)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / ECG_FS
    beat = 1200 * np.exp(-(((t % 1.0) - 0.5) ** 2) / 2e-4)
    wander = 120 * np.sin(2 * np.pi * 0.25 * t)
    return np.rint(beat + wander + 12 * rng.standard_normal(n)).astype(np.int32)


def acc_signal(n: int, seed: int = 2) -> NDArray[np.int16]:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / ACC_FS
    base = np.array([-990.0, 20.0, 130.0]) + 25 * np.sin(2 * np.pi * 0.2 * t)[:, None]
    return np.rint(base + 2 * rng.standard_normal((n, 3))).astype(np.int16)


def frames(
    samples: NDArray[np.integer], fs: float, per: int, *, t0: float = 5.0, segment: int = 0
) -> list[tuple[NDArray[np.float64], NDArray[np.integer]]]:
    out = []
    for i in range(0, len(samples), per):
        k = min(per, len(samples) - i)
        out.append((t0 + (i + np.arange(k)) / fs, samples[i : i + k]))
    return out


def writer_on(db: Path, clock: Clock | None = None) -> tuple[SessionStore, SessionWriter]:
    store = SessionStore(db)
    writer = SessionWriter(store, clock=clock or Clock(), background=False)
    writer.begin(device=DEVICE, source="sim", started_wall_s=1.7e9)
    return store, writer


def decoded(bundle: SessionBundle, stream: str) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
    chunks = [waves.chunk_of_record(w) for w in bundle.waveforms if w["stream"] == stream]
    return (
        np.concatenate([c.times() for c in chunks]),
        np.concatenate([c.samples() for c in chunks]),
    )


# ---- the codec -------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 3])
def test_the_codec_round_trips_every_value_exactly_including_the_extremes(channels: int):
    rng = np.random.default_rng(0)
    a = rng.integers(-(2**30), 2**30, size=(5000, channels), dtype=np.int64)
    a[:4] = [[-(2**30)] * channels, [2**30 - 1] * channels] * 2  # largest jumps both ways
    out = waves.decode(waves.encode(a), 5000, channels)
    assert out.dtype == np.int32
    assert out.shape == (5000, channels)
    assert np.array_equal(out, a)
    assert waves.decode(waves.encode(np.zeros((0, channels), np.int32)), 0, channels).shape == (
        0,
        channels,
    )
    with pytest.raises(ValueError, match="2\\*\\*30"):
        waves.encode(np.array([2**30]))


def test_ecg_like_samples_take_about_a_byte_each():
    a = ecg_signal(1300)  # one 10-s chunk
    assert len(waves.encode(a)) < 1.3 * len(a)


def test_decoding_never_inflates_past_the_declared_samples():
    bomb = zlib.compress(bytes(50_000_000))  # 50 MB of zeros in 49 kB
    with pytest.raises(ValueError, match="does not hold 10 samples"):
        waves.decode(bomb, 10, 1)
    good = waves.encode(np.arange(10))
    with pytest.raises(ValueError, match="does not hold"):
        waves.decode(good, 11, 1)
    with pytest.raises(ValueError, match="does not hold"):
        waves.decode(good + b"x", 10, 1)
    with pytest.raises(ValueError, match="zlib"):
        waves.decode(b"not zlib", 10, 1)


# ---- the writer ------------------------------------------------------------------------------


def test_frames_become_chunks_of_7800_values_that_give_every_sample_and_time_back(
    tmp_path: Path,
):
    clock = Clock()
    store, writer = writer_on(tmp_path / "s.db", clock)
    ecg, acc = ecg_signal(int(130 * ECG_FS)), acc_signal(int(40 * ACC_FS))
    ecg_frames, acc_frames = frames(ecg, ECG_FS, ECG_FRAME), frames(acc, ACC_FS, ACC_FRAME)
    for i in range(max(len(ecg_frames), len(acc_frames))):
        if i < len(ecg_frames):
            writer.add_waveform("ecg", *ecg_frames[i], segment=0)
        if i < len(acc_frames):
            writer.add_waveform("acc", *acc_frames[i], segment=0)
        clock.now_s += 0.3
        writer.maybe_commit()
    writer.finish()
    bundle = store.load_bundle(writer.session_id)
    t, values = decoded(bundle, "ecg")
    assert np.array_equal(values[:, 0], ecg)
    assert np.abs(t - np.concatenate([f[0] for f in ecg_frames])).max() < 1e-9
    t, values = decoded(bundle, "acc")
    assert np.array_equal(values, acc)
    assert values.shape == (len(acc), 3)
    ecg_chunks = [w for w in bundle.waveforms if w["stream"] == "ecg"]
    assert [w["n"] for w in ecg_chunks] == [107 * 73, 107 * 73, len(ecg) - 214 * 73]
    acc_chunks = [w["n"] for w in bundle.waveforms if w["stream"] == "acc"]
    assert acc_chunks == [73 * 36] * 3 + [len(acc) - 3 * 73 * 36]
    assert {w["unit"] for w in ecg_chunks} == {"uV"}
    assert ecg_chunks[0]["fs_hz"] == pytest.approx(ECG_FS)
    assert {w["encoding"] for w in bundle.waveforms} == {waves.ENCODING}
    store.close()


def test_a_new_segment_or_a_clock_slew_starts_a_new_chunk_and_times_stay_within_2_ms(
    tmp_path: Path,
):
    store, writer = writer_on(tmp_path / "s.db")
    ecg = ecg_signal(10 * ECG_FRAME)
    f = frames(ecg, ECG_FS, ECG_FRAME)
    sent = []
    for i, (t, v) in enumerate(f):
        t = t + (0.0015 if i >= 3 else 0.0) + (0.004 if i >= 6 else 0.0)  # 1.5 ms, then 4 ms
        seg = 1 if i >= 8 else 0
        writer.add_waveform("ecg", t, v, segment=seg)
        sent.append(t)
    writer.finish()
    bundle = store.load_bundle(writer.session_id)
    chunks = bundle.waveforms
    assert [(w["segment"], w["n"]) for w in chunks] == [(0, 6 * 73), (0, 2 * 73), (1, 2 * 73)]
    t, values = decoded(bundle, "ecg")
    assert np.array_equal(values[:, 0], ecg)
    assert np.abs(t - np.concatenate(sent)).max() <= waves.MAX_TIME_ERROR_S
    store.close()


def test_each_commit_stores_the_samples_since_the_last_so_a_reader_sees_them(tmp_path: Path):
    """What a SIGKILL would leave: every commit holds all samples given before it."""
    clock = Clock()
    store, writer = writer_on(tmp_path / "s.db", clock)
    ecg = ecg_signal(int(25 * ECG_FS))
    reader = SessionStore(tmp_path / "s.db", recover=False)
    for i, (t, v) in enumerate(frames(ecg, ECG_FS, ECG_FRAME)):
        writer.add_waveform("ecg", t, v)
        clock.now_s += ECG_FRAME / ECG_FS
        if writer.maybe_commit():
            stored = sum(c.n for c in reader.waveform_chunks(writer.session_id))
            assert stored == min(len(ecg), (i + 1) * ECG_FRAME)
    writer.finish()
    reader.close()
    store.close()


def test_bad_waveform_input_is_refused_when_given_not_at_commit(tmp_path: Path):
    store, writer = writer_on(tmp_path / "s.db")
    t = np.arange(3) / ECG_FS
    with pytest.raises(ValueError, match="stream"):
        writer.add_waveform("ppg", t, np.arange(3))
    with pytest.raises(ValueError, match="integer"):
        writer.add_waveform("ecg", t, np.arange(3.0))
    with pytest.raises(ValueError, match="3 x 3"):
        writer.add_waveform("acc", t, np.arange(3))
    with pytest.raises(ValueError, match="2\\*\\*30"):
        writer.add_waveform("ecg", t, np.array([0, 2**32, 1], np.int64))  # not wrapped to 0
    with pytest.raises(ValueError, match="finite"):
        writer.add_waveform("ecg", np.array([0.0, np.nan, 1.0]), np.arange(3))
    with pytest.raises(ValueError, match="rate is unknown"):
        writer.add_waveform("ecg", [1.0], [5])
    writer.add_waveform("ecg", [1.0], [5], fs_hz=130.0)
    writer.finish()
    assert store.waveform_chunks(writer.session_id)[0].fs_hz == 130.0
    store.close()


def test_a_busy_store_keeps_waveforms_buffered_until_the_lock_is_free(tmp_path: Path):
    clock = Clock()
    store, writer = writer_on(tmp_path / "s.db", clock)
    holder = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    ecg = ecg_signal(3 * ECG_FRAME)
    for t, v in frames(ecg, ECG_FS, ECG_FRAME):
        writer.add_waveform("ecg", t, v)
    started = time.monotonic()
    clock.now_s = 1.0
    writer.maybe_commit()  # waits LOCK_WAIT_MS, then keeps the rows
    assert time.monotonic() - started < 1.0
    assert writer.pending_rows == 1
    holder.execute("COMMIT")
    holder.close()
    writer.finish()
    _, values = decoded(store.load_bundle(writer.session_id), "ecg")
    assert np.array_equal(values[:, 0], ecg)
    store.close()


def test_a_reader_reads_whole_chunks_while_a_background_writer_writes(tmp_path: Path):
    db = tmp_path / "s.db"
    store = SessionStore(db)
    writer = SessionWriter(store, commit_interval_s=0.05)
    sid = writer.begin(device=DEVICE, source="sim")
    ecg = ecg_signal(int(60 * ECG_FS))
    done = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def read() -> None:
        with SessionStore(db, recover=False) as reader:
            while not done.is_set():
                try:
                    bundle = reader.load_bundle(sid)
                    if bundle.waveforms:
                        _, values = decoded(bundle, "ecg")
                        assert np.array_equal(values[:, 0], ecg[: len(values)])
                        seen.append(len(values))
                except BaseException as exc:
                    errors.append(exc)
                    return

    thread = threading.Thread(target=read)
    thread.start()
    for i, (t, v) in enumerate(frames(ecg, ECG_FS, ECG_FRAME)):
        writer.add_waveform("ecg", t, v)
        writer.add_beats([Beat(float(t[-1]), 800.0, None, 0, i)])
        if i % 20 == 0:
            # Let the reader load at least once more between bursts of writes (a fixed sleep
            # left it one look on a loaded machine), so reading interleaves with writing.
            before, deadline = len(seen), time.monotonic() + 5.0
            while len(seen) <= before and not errors and time.monotonic() < deadline:
                time.sleep(0.01)
    writer.finish()
    done.set()
    thread.join()
    assert not errors, errors[0]
    assert len(seen) > 3
    assert seen == sorted(seen)
    _, values = decoded(store.load_bundle(sid), "ecg")
    assert np.array_equal(values[:, 0], ecg)
    store.close()


def test_the_recorder_stores_the_pipelines_ecg_and_acc_events(tmp_path: Path):
    import asyncio

    store = SessionStore(tmp_path / "s.db")
    recorder = Recorder(store, SessionMeta(source="sim", device=DEVICE), {})
    ecg, acc = ecg_signal(4 * ECG_FRAME), acc_signal(4 * ACC_FRAME)

    async def run() -> int | None:
        await recorder.start(0.0, None)
        for (te, ve), (ta, va) in zip(
            frames(ecg, ECG_FS, ECG_FRAME), frames(acc, ACC_FS, ACC_FRAME), strict=True
        ):
            recorder.waveform(EcgSamples(te, ve, 0, 2))
            recorder.waveform(AccSamples(ta, va, 0, 2))
        return await recorder.stop(1.0, "complete", None)

    sid = asyncio.run(run())
    assert sid is not None
    bundle = store.load_bundle(sid)
    assert np.array_equal(decoded(bundle, "ecg")[1][:, 0], ecg)
    assert np.array_equal(decoded(bundle, "acc")[1], acc)
    assert {w["segment"] for w in bundle.waveforms} == {2}
    store.close()


# ---- bundles ---------------------------------------------------------------------------------


def recorded(db: Path) -> tuple[SessionStore, int]:
    store, writer = writer_on(db)
    for t, v in frames(ecg_signal(int(12 * ECG_FS)), ECG_FS, ECG_FRAME):
        writer.add_waveform("ecg", t, v)
    for t, v in frames(acc_signal(int(3 * ACC_FS)), ACC_FS, ACC_FRAME):
        writer.add_waveform("acc", t, v)
    writer.add_beats([Beat(6.0, 1000.0, 1024, 0, 0), Beat(6.8, 800.0, 819, 0, 1)])
    writer.add_marker(6.0, "user", "tingle")
    writer.finish()
    return store, writer.session_id


def test_a_bundle_with_waveforms_round_trips_byte_for_byte(tmp_path: Path):
    store, sid = recorded(tmp_path / "a.db")
    text = export_bundle(store.load_bundle(sid), "json")
    doc = json.loads(text)
    assert {tuple(sorted(w)) for w in doc["waveforms"]} == {
        tuple(sorted((*waves.BUNDLE_KEYS, "samples")))
    }
    with SessionStore(tmp_path / "b.db") as other:
        sid2 = other.import_bundle(parse_bundle(text.encode(), "a.json"), "a.json")
        again = json.loads(export_bundle(other.load_bundle(sid2), "json"))
        blobs = [c.data for c in other.waveform_chunks(sid2)]
    assert blobs == [c.data for c in store.waveform_chunks(sid)]
    for d in (doc, again):
        d["session"].pop("id")
        d["session"].pop("status")
    assert again == doc
    store.close()


def test_a_bundle_may_give_samples_as_lists_and_old_bundles_have_no_waveforms_key(
    tmp_path: Path,
):
    ecg = ecg_signal(200)
    acc = acc_signal(50)
    doc = SessionBundle(session={"started_wall_s": 1.7e9}, device=DEVICE).to_json()
    assert "waveforms" not in doc  # an old bundle's content hash is unchanged
    doc["waveforms"] = [
        {"stream": "ecg", "t0_s": 1, "fs_hz": 130, "samples": ecg.tolist()},
        {"stream": "acc", "t0_s": 1.0, "fs_hz": 200.0, "samples": acc.tolist(), "segment": 1},
    ]
    with SessionStore(tmp_path / "s.db") as store:
        sid = store.import_bundle(parse_bundle(json.dumps(doc).encode(), "l.json"), "l.json")
        bundle = store.load_bundle(sid)
        old = dict(doc)
        del old["waveforms"]
        store.import_bundle(parse_bundle(json.dumps(old).encode(), "old.json"), "old.json")
    assert np.array_equal(decoded(bundle, "ecg")[1][:, 0], ecg)
    assert np.array_equal(decoded(bundle, "acc")[1], acc)
    assert bundle.waveforms[0]["t0_s"] == 1.0
    assert bundle.waveforms[0]["n"] == 200


def _with_waveform(**record: object) -> bytes:
    doc = SessionBundle(session={}, device=DEVICE).to_json()
    base = {"stream": "ecg", "t0_s": 0.0, "fs_hz": 130.0, "n": 3}
    doc["waveforms"] = [{**base, **record}]
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"stream": "ppg", "samples": [1]}, "stream: expected one of ecg, acc"),
        ({"samples": "!!!"}, "samples: "),
        ({"samples": base64.b64encode(zlib.compress(bytes(10**7))).decode()}, "does not hold"),
        ({"samples": base64.b64encode(waves.encode(np.arange(3))).decode(), "n": 4}, "hold 4"),
        ({"samples": [1, 2.5]}, "expected integers"),
        ({"stream": "acc", "samples": [[1, 2]]}, "lists of 3 integers"),
        ({"samples": [2**40]}, "2\\*\\*30"),
        ({"samples": [1], "fs_hz": 0}, "must be positive"),
        ({"samples": [1], "t0_s": 1e300}, "out of range"),
        ({"samples": [1], "unit": "mV"}, "in uV"),
        ({"samples": "AAAA", "encoding": "flac"}, "expected 'delta-zigzag"),
        ({"samples": "", "n": lim.MAX_CHUNK_SAMPLES + 1}, "expected an integer from 0"),
    ],
)
def test_a_bad_waveform_in_an_imported_bundle_is_one_line(
    tmp_path: Path, record: dict[str, object], message: str
):
    with SessionStore(tmp_path / "s.db") as store:
        with pytest.raises(InputError, match=message) as caught:
            store.import_bundle(parse_bundle(_with_waveform(**record), "x.json"), "x.json")
        assert "\n" not in str(caught.value)
        assert str(caught.value).startswith("x.json: waveforms[0]")
        assert store.count() == 0


def test_the_total_of_waveform_samples_in_a_bundle_is_bounded(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(lim, "MAX_WAVE_VALUES", 5)
    records = [{"stream": "acc", "n": 1, "samples": ""}, {"stream": "ecg", "samples": [1, 2, 3]}]
    with pytest.raises(InputError, match="over 5 sample values"):
        waves.canonical_records(records, "x.json")


# ---- the migration ---------------------------------------------------------------------------


def test_a_version_2_store_open_elsewhere_upgrades_in_place_and_keeps_everything(
    tmp_path: Path,
):
    db = tmp_path / "v2.db"
    old = sqlite3.connect(db, isolation_level=None)
    old.execute("PRAGMA journal_mode = WAL")
    for migration in MIGRATIONS[:2]:
        for statement in migration.split(";"):
            if statement.strip():
                old.execute(statement)
    old.execute("PRAGMA user_version = 2")
    old.execute("PRAGMA foreign_keys = ON")
    old.execute(
        "INSERT INTO sessions (started_wall_s, status, source) VALUES (1.7e9, 'complete', 'sim')"
    )
    old.execute("INSERT INTO beats VALUES (1, 1.0, 1000.0, 1024, 0, 0)")
    old.execute("INSERT INTO packets VALUES (1, 1.0, 1.7e9, x'1040')")
    old.execute("INSERT INTO markers (session_id, t_s, kind) VALUES (1, 1.0, 'user')")
    old.execute(
        "INSERT INTO segments (session_id, label, start_s, end_s, complete)"
        " VALUES (1, 'baseline', 0.0, 60.0, 1)"
    )
    tables = ("sessions", "beats", "packets", "markers", "segments")
    before = {t: old.execute(f"SELECT * FROM {t}").fetchall() for t in tables}
    old.execute("BEGIN")  # another process reading at version 2 while this one upgrades
    assert old.execute("SELECT COUNT(*) FROM beats").fetchone() == (1,)
    with SessionStore(db) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,) == (3,)
        after = {t: store.conn.execute(f"SELECT * FROM {t}").fetchall() for t in tables}
        assert after == before
        assert store.load_bundle(1).waveforms == []
    old.execute("COMMIT")
    # The version-2 connection keeps working on the upgraded file, and its delete cascades.
    old.execute("INSERT INTO beats VALUES (1, 2.0, 1000.0, 1024, 0, 0)")
    with SessionStore(db) as store:
        _, writer = store, SessionWriter(store, background=False)
        sid = writer.begin(device=DEVICE, source="sim")
        writer.add_waveform("ecg", np.arange(5) / ECG_FS, np.arange(5))
        writer.finish()
        assert store.conn.execute("SELECT COUNT(*) FROM beats").fetchone() == (2,)
    old.execute("DELETE FROM sessions WHERE id = ?", (sid,))
    assert old.execute("SELECT COUNT(*) FROM waveforms").fetchone() == (0,)
    old.close()


# ---- a damaged chunk -------------------------------------------------------------------------


def test_a_damaged_chunk_is_one_line_and_the_rest_of_the_session_still_exports(tmp_path: Path):
    db = tmp_path / "s.db"
    store, sid = recorded(db)
    store.conn.execute(
        "UPDATE waveforms SET data = x'789c0b' WHERE rowid = (SELECT MIN(rowid) FROM waveforms)"
    )
    store.close()
    bad = run_cli("export", str(sid), "--format", "ecg", "--db", str(db))
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1
    assert "ecg chunk at t=5 s is damaged" in bad.stderr
    beats = run_cli("export", str(sid), "--format", "csv", "--db", str(db))
    assert beats.returncode == 0
    assert beats.stdout.count("\n") == 3
    shown = run_cli("show", str(sid), "--json", "--db", str(db))  # replayed by RR timing
    assert shown.returncode == 0, shown.stderr
    replayed = json.loads(shown.stdout)["blocks_replayed_with"]
    assert replayed["artifact_source"] == "rr"
    assert "ecg chunk at t=5 s is damaged" in replayed["ecg_unused"]
    acc = run_cli("export", str(sid), "--format", "acc", "--db", str(db))
    assert acc.returncode == 0
    assert acc.stdout.startswith("t_s,x_mg,y_mg,z_mg\n5.0000,")
    out = tmp_path / "s.json"
    assert (
        run_cli(
            "export", str(sid), "--format", "json", "--out", str(out), "--db", str(db)
        ).returncode
        == 0
    )
    again = run_cli("import", str(out), "--db", str(tmp_path / "other.db"))
    assert again.returncode == 2
    assert "waveforms[0].samples" in again.stderr


def test_the_ecg_csv_has_one_row_per_sample(tmp_path: Path):
    store, sid = recorded(tmp_path / "s.db")
    text = export_bundle(store.load_bundle(sid), "ecg")
    lines = text.splitlines()
    assert lines[0] == "t_s,ecg_uv"
    assert len(lines) == 1 + int(12 * ECG_FS)
    assert lines[1] == f"5.0000,{ecg_signal(1)[0]}"
    out = tmp_path / "ecg.csv"
    done = run_cli(
        "export", str(sid), "--format", "ecg", "--out", str(out), "--db", str(store.path)
    )
    assert done.returncode == 0
    assert out.read_text() == text
    store.close()


# ---- a killed recorder -----------------------------------------------------------------------


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def test_the_pieces_a_dead_recorder_left_become_chunks_when_the_store_is_next_opened(
    tmp_path: Path,
):
    db = tmp_path / "s.db"
    clock = Clock()
    store, writer = writer_on(db, clock)
    ecg = ecg_signal(20 * ECG_FRAME)
    for t, v in frames(ecg, ECG_FS, ECG_FRAME):
        writer.add_waveform("ecg", t, v)
        clock.now_s += 0.6
        writer.maybe_commit()
    # The process "dies": its connection goes and its pid is no more.
    writer._conn.close()
    store.conn.execute("UPDATE sessions SET writer_pid = ?", (_dead_pid(),))
    pieces = store.conn.execute("SELECT COUNT(*) FROM waveforms_open").fetchone()[0]
    assert pieces == 20
    store.close()
    with SessionStore(db) as again:
        assert again.summary(1).status == "interrupted"
        assert again.conn.execute("SELECT COUNT(*) FROM waveforms_open").fetchone() == (0,)
        t, values = decoded(again.load_bundle(1), "ecg")
    assert np.array_equal(values[:, 0], ecg)
    assert np.abs(t - (5.0 + np.arange(len(ecg)) / ECG_FS)).max() < 1e-9


_RECORD_WAVES = """
import sys, time
import numpy as np
from biofeedback.sessions.store import SessionStore
from biofeedback.sessions.store_writer import SessionWriter
store = SessionStore(sys.argv[1])
writer = SessionWriter(store)
writer.begin(device={"name": "x"}, source="sim")
print("begun", flush=True)
for i in range(10**6):
    t = (i * 73 + np.arange(73)) / 130.0
    writer.add_waveform("ecg", t, (i * 73 + np.arange(73)) % 1000)
    print(time.monotonic(), (i + 1) * 73, flush=True)
    time.sleep(0.02)
"""


@pytest.mark.slow
def test_a_sigkill_while_recording_waveforms_loses_at_most_the_last_second(tmp_path: Path):
    import os
    import signal
    import subprocess
    import sys

    db = tmp_path / "s.db"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    child = subprocess.Popen(
        [sys.executable, "-c", _RECORD_WAVES, str(db)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "begun\n"
    fed: list[tuple[float, int]] = []
    started = time.monotonic()
    while time.monotonic() - started < 1.5:
        when, count = child.stdout.readline().split()
        fed.append((float(when), int(count)))
    os.kill(child.pid, signal.SIGKILL)
    killed = time.monotonic()
    child.wait()
    child.stdout.close()
    with SessionStore(db) as store:
        assert store.summary(1).status == "interrupted"
        chunks = store.waveform_chunks(1)
        stored = np.concatenate([c.samples() for c in chunks])[:, 0]
    due = max(count for when, count in fed if when <= killed - 1.0)
    assert len(stored) >= due
    assert np.array_equal(stored, np.arange(len(stored)) % 1000)
