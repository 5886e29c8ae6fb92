"""``biofeedback import`` of hostile or absurd files: one line on stderr, exit 2, store unchanged.

Each file here once gave a traceback, a hang or an unbounded allocation (issue 12, items 6 and
13): a FIFO, ``/dev/zero``, a CSV field over 128 KiB, a 5000-digit JSON integer, JSON nested
5000 deep, bundles with wrong-typed or huge values, a ``.npy`` header claiming 74.5 GiB, a CSV
wall time of 1e300 s that later broke ``sessions`` for the whole store.
"""

from __future__ import annotations

import copy
import io
import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from biofeedback.errors import InputError
from biofeedback.sessions import formats_limits
from biofeedback.sessions.formats import read_recording
from tests.cli_support import run_main, store_with_one_import

REPO = Path(__file__).resolve().parents[1]


run = run_main


@pytest.fixture
def store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A store holding one imported session."""
    return store_with_one_import(tmp_path, capsys, seed=1)


def listing(capsys: pytest.CaptureFixture[str], db: Path) -> Any:
    status, out, _ = run(capsys, "sessions", "--db", str(db), "--json")
    assert status == 0
    return json.loads(out)


def assert_refused(capsys: pytest.CaptureFixture[str], db: Path, path: Path, *needles: str) -> str:
    before = listing(capsys, db)
    status, out, err = run(capsys, "import", "--db", str(db), str(path))
    assert status == 2, (out, err)
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    assert listing(capsys, db) == before
    return err


@pytest.fixture
def bundle_doc(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """The stored session exported as a bundle document, with a marker and a segment."""
    out = tmp_path / "export.json"
    status, _, err = run(
        capsys, "export", "1", "--db", str(store), "--format", "json", "--out", str(out)
    )
    assert status == 0, err
    doc: dict[str, Any] = json.loads(out.read_text())
    doc["markers"] = [{"t_s": 10.0, "kind": "tingle", "label": "key"}]
    doc["segments"] = [{"label": "whispering", "kind": "trigger", "start_s": 0.0, "end_s": 60.0}]
    doc["session"]["notes"] = "changed, so not a duplicate"
    return doc


def _write_json(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc))
    return path


def test_a_valid_modified_bundle_imports(
    store: Path, bundle_doc: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    doc = copy.deepcopy(bundle_doc)
    doc["markers"][0]["t_s"] = 10  # an integer time is a time: stored as a float
    doc["beats"]["t_s"] = [t + 1000.0 for t in doc["beats"]["t_s"]]
    status, out, err = run(
        capsys, "import", "--db", str(store), str(_write_json(tmp_path / "ok.json", doc))
    )
    assert status == 0, err
    assert "imported as session 2" in out


def test_a_fifo_is_refused_without_blocking(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    # Should the reader block on the FIFO, this writer unblocks it so the test fails, not hangs.
    stop = threading.Event()

    def unblock() -> None:
        if not stop.wait(10):
            with open(fifo, "wb"):
                pass

    thread = threading.Thread(target=unblock, daemon=True)
    thread.start()
    try:
        assert_refused(capsys, store, fifo, "not a regular file", "FIFO")
    finally:
        stop.set()
        thread.join()


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_is_refused(store: Path, capsys: pytest.CaptureFixture[str]):
    assert_refused(capsys, store, Path("/dev/zero"), "not a regular file", "character device")


def test_the_store_itself_is_never_read_as_a_recording(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """`import DIR` of the folder that holds the store, or the store named: its files (db,
    -wal, -shm) are refused by identity before anything opens them, and the store is intact."""
    before = listing(capsys, store)
    status, _, err = run(capsys, "import", "--db", str(store), str(store))
    assert status == 2
    assert "the session store itself" in err
    assert err.count("\n") == 1, err
    status, _, err = run(capsys, "import", "--db", str(store), str(tmp_path))
    assert status == 2
    refused = [ln for ln in err.splitlines() if "the session store itself" in ln]
    assert len(refused) >= 2, err  # the db and its -wal at least
    assert "binary data" not in err
    assert listing(capsys, store) == before
    with sqlite3.connect(store) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_as_a_real_process(store: Path):
    """The same through the installed entry point: one line, exit 2, no traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "biofeedback", "import", "--db", str(store), "/dev/zero"],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr


def test_file_size_and_line_caps(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "rr.txt"
    path.write_text("800\n" * 50)
    monkeypatch.setattr(formats_limits, "MAX_LINES", 20)
    assert_refused(capsys, store, path, "50 lines is over the limit of 20")
    monkeypatch.setattr(formats_limits, "MAX_FILE_BYTES", 100)
    assert_refused(capsys, store, path, "limit for an input file")


def test_a_huge_csv_field(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "big.csv"
    path.write_text('rr_ms,note\n800,ok\n810,"' + "x" * 200_000 + '"\n')
    assert_refused(capsys, store, path, "line 3", "not readable as CSV", "field larger")


def test_a_csv_wall_time_of_1e300(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "wall.csv"
    path.write_text("time,rr_ms\n" + "".join(f"1e300,{800 + i % 7}\n" for i in range(50)))
    assert_refused(capsys, store, path, "line 2", "'time'", "1e+300", "between 1970 and 2200")


def test_csv_beat_times_out_of_range(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = tmp_path / "t.csv"
    path.write_text("t_s,rr_ms\n0.8,800\n1e200,810\n2.4,805\n")
    assert_refused(capsys, store, path, "line 3", "out of range")


def test_a_5000_digit_json_integer(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "int.json"
    path.write_text('{"format": "biofeedback-session", "format_version": ' + "9" * 5000 + "}")
    assert_refused(capsys, store, path, "not valid JSON", "4300 digits")


def test_json_nested_5000_deep(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "deep.json"
    path.write_text('{"format": "biofeedback-session", "x": ' + "[" * 5000 + "]" * 5000 + "}")
    assert_refused(capsys, store, path, "nested too deeply")


def test_nesting_under_the_parser_limit_is_still_bounded(
    store: Path, bundle_doc: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    deep: Any = 1
    for _ in range(200):
        deep = [deep]
    bundle_doc["settings"] = {"x": deep}
    path = _write_json(tmp_path / "deep.json", bundle_doc)
    assert_refused(capsys, store, path, "settings", "nested deeper than")


def _set(path: tuple[Any, ...], value: object) -> Callable[[dict[str, Any]], None]:
    def apply(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return apply


BAD_BUNDLES = {
    "marker time is a string": (_set(("markers", 0, "t_s"), "soon"), "markers[0].t_s"),
    "marker kind is a number": (_set(("markers", 0, "kind"), 5), "markers[0].kind"),
    "segment start is a list": (_set(("segments", 0, "start_s"), [1]), "segments[0].start_s"),
    "segment end is huge": (_set(("segments", 0, "end_s"), 1e300), "segments[0].end_s"),
    "segment label is null": (_set(("segments", 0, "label"), None), "segments[0].label"),
    "segment complete is a string": (
        _set(("segments", 0, "complete"), "yes"),
        "segments[0].complete",
    ),
    "beat segment of 10**30": (_set(("beats", "segment", 0), 10**30), "beats.segment[0]"),
    "beat flags negative": (_set(("beats", "flags", 3), -1), "beats.flags[3]"),
    "beat rr_raw of 2**64": (_set(("beats", "rr_raw", 0), 2**64), "beats.rr_raw[0]"),
    "beat time is a string": (_set(("beats", "t_s", 2), "1.0"), "beats.t_s[2]"),
    "beat rr of 1e300": (_set(("beats", "rr_ms", 1), 1e300), "beats.rr_ms[1]"),
    "beat rr is an int of 400 digits": (_set(("beats", "rr_ms", 1), 10**400), "beats.rr_ms[1]"),
    "start time of 1e300": (_set(("session", "started_wall_s"), 1e300), "started_wall_s"),
    "start time is a string": (_set(("session", "started_wall_s"), "today"), "started_wall_s"),
    "end time before 1970": (_set(("session", "ended_wall_s"), -5.0), "ended_wall_s"),
    "notes is an object": (_set(("session", "notes"), {"a": 1}), "session.notes"),
    "a huge integer in settings": (_set(("settings", "window"), 2**70), "settings"),
    "a packet that is not text": (
        _set(("packets",), {"t_s": [1.0], "wall_s": [1.7e9], "hex": [12]}),
        "packets.hex[0]",
    ),
    "a packet wall time of 1e300": (
        _set(("packets",), {"t_s": [1.0], "wall_s": [1e300], "hex": ["10"]}),
        "packets.wall_s[0]",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_BUNDLES))
def test_bundles_with_wrong_types_or_huge_values(
    case: str,
    store: Path,
    bundle_doc: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
):
    mutate, where = BAD_BUNDLES[case]
    doc = copy.deepcopy(bundle_doc)
    mutate(doc)
    assert_refused(capsys, store, _write_json(tmp_path / "bad.json", doc), where)


def test_nan_in_a_bundle_is_refused(
    store: Path, bundle_doc: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    text = json.dumps(bundle_doc).replace('"t_s": 10.0', '"t_s": NaN', 1)
    assert "NaN" in text
    path = tmp_path / "nan.json"
    path.write_text(text)
    assert_refused(capsys, store, path, "NaN is not a JSON number")


def _npy(header: dict[str, Any], payload: bytes = b"", version: str = "1_0") -> bytes:
    fp = io.BytesIO()
    getattr(np.lib.format, f"write_array_header_{version}")(fp, header)
    return fp.getvalue() + payload


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (_npy({"descr": "<f8", "fortran_order": False, "shape": (10_000_000_000,)}, b"\0" * 80),
         "claims 10000000000 values"),
        (_npy({"descr": "<f8", "fortran_order": False, "shape": (1000,)}, b"\0" * 80),
         "truncated"),
        (_npy({"descr": "<f8", "fortran_order": False, "shape": (2, 3)}, b"\0" * 48),
         "expected a 1-D"),
        (_npy({"descr": "|O", "fortran_order": False, "shape": (3,)}, b"\0" * 24),
         "expected a 1-D"),
        (_npy({"descr": "<c16", "fortran_order": False, "shape": (3,)}, b"\0" * 48),
         "expected a 1-D"),
        (_npy({"descr": "<f8", "fortran_order": False, "shape": (-5,)}), "claims -5 values"),
        (b"\x93NUMPY\x01\x00\x10\x00{'descr': <f8'  \n", "not a readable .npy"),
        (b"\x93NUMPY\x09\x00garbage", "not a readable .npy"),
        (_npy({"descr": "<f8", "fortran_order": False, "shape": (10**30,)}, b"", "2_0"),
         "claims an absurd number of values"),
        (b"\x93NUMPY\x01\x00\x00\x26{'descr': '<f8', 'fortran_order': False, 'shape': ("
         + b"9" * 9600 + b",), }\n", "not a readable .npy"),
    ],
)  # fmt: skip
def test_bad_npy_headers(
    content: bytes, needle: str, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = tmp_path / "rr.npy"
    path.write_bytes(content)
    assert_refused(capsys, store, path, needle)


def test_a_good_npy_still_reads(tmp_path: Path):
    path = tmp_path / "rr.npy"
    np.save(path, np.array([800, 810, 790], dtype=">i4"))
    assert read_recording(path).rr_ms.tolist() == [800.0, 810.0, 790.0]
    np.save(path, np.array([0.8, 0.81, 0.79]))
    assert read_recording(path).rr_ms.tolist() == pytest.approx([800.0, 810.0, 790.0])


@pytest.mark.parametrize(
    "text",
    [
        "800\n810.5\n790\n",
        "800\r\n810.5\r\n790",
        "0.8\n0.81\n0.79\n",
        "# comment\n800\n\n810\n",
        "  800  \n810\n",
        "1_000\n900\n",
    ],
)
def test_the_numpy_path_reads_what_the_line_path_reads(text: str, tmp_path: Path):
    from biofeedback.sessions import formats_rr

    path = tmp_path / "rr.txt"
    fast = formats_rr._bare_numbers(text)
    slow_values, slow_lines = formats_rr._numbers_by_line(path, text)
    if fast is not None:
        assert fast[0].tolist() == slow_values.tolist()
        assert list(fast[1]) == list(slow_lines)
    values, lines, _ = formats_rr.read_rr_text(path, text)
    assert values.tolist() == slow_values.tolist()
    assert list(lines) == list(slow_lines)


def test_a_bad_line_in_a_bare_file_is_still_named(tmp_path: Path):
    path = tmp_path / "rr.txt"
    path.write_text("800\n" * 1000 + "8OO\n" + "800\n" * 10)
    with pytest.raises(InputError, match="line 1001: expected one RR value per line"):
        read_recording(path)
    path.write_text("800\n" * 1000 + "-5\n")
    with pytest.raises(InputError, match="line 1001: negative RR"):
        read_recording(path)


def test_a_store_poisoned_before_the_bounds_still_lists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A session stored with a start of 1e291 s (possible before imports were bounded) no
    longer breaks ``sessions`` for the whole store."""
    from biofeedback.sessions.bundle import SessionBundle
    from biofeedback.sessions.store import SessionStore

    db = tmp_path / "old.db"
    n = 20
    bundle = SessionBundle(
        session={"source": "import:csv", "status": "complete", "started_wall_s": 1e291},
        device={},
        beats={"t_s": [0.8 * (i + 1) for i in range(n)], "rr_ms": [800.0] * n,
               "rr_raw": [None] * n, "segment": [0] * n, "flags": [0] * n},
    )  # fmt: skip
    with SessionStore(db) as store:
        store.import_bundle(bundle, "old")
    status, out, err = run(capsys, "sessions", "--db", str(db))
    assert status == 0, err
    assert "    1  ?" in out
