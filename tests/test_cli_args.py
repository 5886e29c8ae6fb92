"""Argument values that used to raise (OverflowError, MemoryError) or run without bound.

Each case asserts the exit status, the one-line message on stderr (no traceback, no usage
block) and, where a store is involved, that nothing stored changed. The CLI runs in-process.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

from biofeedback.cli.main import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``main(argv)`` in-process: (exit status, stdout, stderr); argparse exits are caught."""
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("biofeedback "), err
    assert ": error: " in lines[0], err
    return lines[0]


@pytest.fixture
def store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A store with one imported session."""
    rr = tmp_path / "rr.txt"
    rr.write_text("".join(f"{800 + 20 * (i % 7)}\n" for i in range(200)))
    db = tmp_path / "s.db"
    code, _, err = _run(capsys, "import", str(rr), "--db", str(db))
    assert code == 0, err
    return db


def _snapshot(db: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    code, out, err = _run(capsys, "sessions", "--json", "--db", str(db))
    assert code == 0, err
    return digest, out


HUGE = "99999999999999999999"  # > 2**63 - 1: SQLite cannot hold it


@pytest.mark.parametrize(
    "argv",
    [
        ("show", HUGE),
        ("export", HUGE, "--format", "csv"),
        ("delete", HUGE, "--yes"),
        ("report", HUGE),
        ("show", "0"),
        ("delete", "-1", "--yes"),
        ("show", "9223372036854775808"),
        ("export", "1_0", "--format", "json"),
        ("show", "1e3"),
        ("show", "9" * 5000),
    ],
)
def test_session_id_out_of_range_is_one_line_exit_2_and_store_unchanged(
    store: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    before = _snapshot(store, capsys)
    code, out, err = _run(capsys, *argv, "--db", str(store))
    assert code == 2
    line = _one_line_error(err)
    assert "session id" in line
    assert len(line) < 300  # a 5000-digit id is not echoed whole
    assert out == ""
    assert _snapshot(store, capsys) == before


def test_largest_session_id_is_accepted_and_reported_missing(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot(store, capsys)
    code, _, err = _run(capsys, "show", str(2**63 - 1), "--db", str(store))
    assert code == 2  # a valid id that names no session: the store's own one-line error
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert _snapshot(store, capsys) == before


@pytest.mark.parametrize(
    "ids",
    ["1-99999999999", "1-100001", "1,2-99999,100000-100002", f"1-{HUGE}", "0-3", "5-2", "a-b"],
)
@pytest.mark.parametrize("command", [("compare",), ("report", "--compare")])
def test_sessions_ranges_are_counted_not_expanded(
    store: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...], ids: str
) -> None:
    before = _snapshot(store, capsys)
    started = time.perf_counter()
    code, out, err = _run(capsys, *command, "--sessions", ids, "--db", str(store))
    assert time.perf_counter() - started < 2.0  # no list of 1e11 ids was built
    assert code == 2
    line = _one_line_error(err)
    assert "--sessions" in line
    assert out == ""
    assert _snapshot(store, capsys) == before


def test_a_valid_sessions_list_still_works(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "compare", "--sessions", "1", "--json", "--db", str(store))
    assert code == 0, err
    json.loads(out)
    code, _, err = _run(capsys, "compare", "--sessions", "1-5", "--db", str(store))
    assert code == 2  # ids 2-5 do not exist: the existing one-line refusal
    assert len(err.strip().splitlines()) == 1
    assert "no session 2-5 in the store" in err
    code, _, err = _run(capsys, "compare", "--sessions", "1-100000", "--db", str(store))
    assert code == 2  # the largest list accepted: the missing ids are named as a range
    assert "no session 2-100000 in the store" in err
    assert len(err) < 200


@pytest.mark.parametrize(
    ("name", "extra", "needle"),
    [
        ("x.csv", (), "not '.csv'"),
        ("x.TSV", (), "not '.tsv'"),
        ("x.txt", ("--format", "json"), "not --format json"),
        ("x.json", ("--format", "rr"), "not --format rr"),
        ("x", (), "no suffix"),
    ],
)
def test_simulate_refuses_an_unknown_or_mismatching_suffix(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    extra: tuple[str, ...],
    needle: str,
) -> None:
    out_file = tmp_path / name
    code, out, err = _run(capsys, "simulate", "--duration", "30", "--out", str(out_file), *extra)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert needle in err
    assert not out_file.exists()
    assert out == ""


@pytest.mark.parametrize(
    ("name", "extra", "first"),
    [
        ("x.txt", (), "#"),
        ("x.rr", ("--format", "rr"), "#"),
        ("x.JSON", (), "{"),
        ("y", ("--format", "rr"), "#"),
    ],
)
def test_simulate_writes_what_the_suffix_says(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    extra: tuple[str, ...],
    first: str,
) -> None:
    out_file = tmp_path / name
    code, _, err = _run(capsys, "simulate", "--duration", "30", "--out", str(out_file), *extra)
    assert code == 0, err
    assert out_file.read_text().lstrip().startswith(first)


@pytest.mark.parametrize(
    "option",
    [
        ("--duration", "1e9"),
        ("--duration", "604801"),
        ("--duration", "nan"),
        ("--duration", "inf"),
        ("--duration", "-5"),
        ("--duration", "0"),
        ("--speed", "nan"),
        ("--speed", "-1"),
        ("--speed", "inf"),
        ("--speed", "1e300"),
        ("--latency", "-1"),
        ("--latency", "nan"),
        ("--latency", "1e9"),
        ("--seed", "-1"),
        ("--seed", HUGE),
        ("--seed", "1.5"),
    ],
)
def test_simulate_numeric_options_are_checked_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: tuple[str, str]
) -> None:
    out_file = tmp_path / "x.json"
    argv = ["simulate", "--out", str(out_file)]
    if option[0] != "--duration":
        argv += ["--duration", "30"]
    started = time.perf_counter()
    code, out, err = _run(capsys, *argv, f"{option[0]}={option[1]}")
    assert time.perf_counter() - started < 2.0
    assert code == 2
    line = _one_line_error(err)
    assert option[0] in line
    assert not out_file.exists()
    assert out == ""


@pytest.mark.parametrize(
    "option", [("--window", "nan"), ("--window", "-60"), ("--step", "inf"), ("--step", "0")]
)
def test_analyze_window_options_are_finite_and_positive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: tuple[str, str]
) -> None:
    rr = tmp_path / "rr.txt"
    rr.write_text("800\n" * 300)
    code, out, err = _run(capsys, "analyze", str(rr), "--window", "60", f"{option[0]}={option[1]}")
    assert code == 2
    _one_line_error(err)
    assert out == ""


def test_analyze_refuses_a_step_that_would_make_too_many_windows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rr = tmp_path / "rr.txt"
    rr.write_text("800\n" * 300)
    started = time.perf_counter()
    code, out, err = _run(capsys, "analyze", str(rr), "--window", "60", "--step", "1e-9")
    assert time.perf_counter() - started < 2.0
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "--step" in err
    assert out == ""
