"""``biofeedback import DIR|GLOB|FILES...``: a folder imported file by file, each atomically.

Every readable recording is stored, each refused file gets one line naming it and the reason,
a copy already stored is said to be a duplicate, a summary line ends the run, and the exit
status is 2 when any file was not imported.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from biofeedback.cli import cmd_import
from biofeedback.sessions.store import SessionStore
from tests.cli_support import run_cli

DATA = Path(__file__).parent / "data" / "formats"
READABLE = 9  # the permissive copies in tests/data/formats that hold RR data
HR_ONLY = "Jeremy_Mann_2020-06-10_15-25-36.CSV"


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "recordings"
    shutil.copytree(DATA, folder)
    (folder / "garbage.txt").write_bytes(b"\x00\x01\x02 not a recording")
    (folder / ".hidden.txt").write_text("800\n810\n")  # hidden: skipped, as analyze skips it
    return folder


def _count(db: Path) -> int:
    with SessionStore(db, create=False) as store:
        return store.count()


def test_a_folder_imports_every_readable_file_and_names_each_refusal(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    folder = _folder(tmp_path)
    ran = run_cli("import", "--db", str(db), str(folder))
    assert ran.returncode == 2
    imported = [ln for ln in ran.stdout.splitlines() if "imported as session" in ln]
    assert len(imported) == READABLE
    assert _count(db) == READABLE
    err = ran.stderr.splitlines()
    refusals = [ln for ln in err if ln.startswith("biofeedback import: ")]
    assert len(refusals) == 2
    (hr_only,) = [ln for ln in refusals if HR_ONLY in ln]
    assert "no RR intervals" in hr_only
    assert "line " in hr_only
    (garbage,) = [ln for ln in refusals if "garbage.txt" in ln]
    assert "binary data" in garbage
    assert err[-1] == f"import: {READABLE + 2} files: {READABLE} imported, 2 refused"
    assert ".hidden" not in ran.stdout + ran.stderr


def test_a_second_import_of_the_folder_reports_duplicates_and_stores_nothing(
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.db"
    folder = _folder(tmp_path)
    run_cli("import", "--db", str(db), str(folder))
    again = run_cli("import", "--db", str(db), str(folder))
    assert again.returncode == 2  # a duplicate is refused, as for a single file
    assert again.stdout == ""
    err = again.stderr.splitlines()
    dups = [ln for ln in err if ln.startswith("biofeedback import: duplicate")]
    assert len(dups) == READABLE
    assert all("already imported as session" in ln for ln in dups)
    summary = again.stderr.splitlines()[-1]
    assert summary == (
        f"import: {READABLE + 2} files: 0 imported, "
        f"{READABLE} duplicates (already stored, not imported again), 2 refused"
    )
    assert _count(db) == READABLE


def test_a_quoted_glob_is_expanded_and_an_empty_pattern_is_reported(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    folder = _folder(tmp_path)
    pattern = str(folder / "*" / "*.fit")
    ran = run_cli("import", "--db", str(db), pattern, str(folder / "none" / "*.txt"))
    assert ran.returncode == 2
    assert ran.stdout.count("imported as session") == 2
    assert "none/*.txt: no file matches this pattern" in ran.stderr
    assert ran.stderr.splitlines()[-1] == "import: 3 files: 2 imported, 1 refused"


def test_all_imported_exits_0_and_one_file_prints_no_summary(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    one = run_cli("import", "--db", str(db), str(DATA / "im-ethz__flirt" / "empatica_IBI.csv"))
    assert (one.returncode, one.stderr) == (0, "")
    assert one.stdout.endswith("imported as session 1 (4999 beats)\n")
    fits = sorted(str(p) for p in (DATA / "dtcooper__python-fitparse").iterdir())
    two = run_cli("import", "--db", str(db), *fits)
    assert two.returncode == 0
    assert two.stderr == "import: 2 files: 2 imported\n"


def test_the_pool_and_one_process_import_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path)
    pooled = run_cli("import", "--db", str(tmp_path / "a.db"), str(folder))
    monkeypatch.setattr(cmd_import, "POOL_FROM", 10**6)
    alone = run_cli("import", "--db", str(tmp_path / "b.db"), str(folder))
    assert (pooled.stdout, pooled.stderr) == (
        alone.stdout.replace("b.db", "a.db"),
        alone.stderr.replace("b.db", "a.db"),
    )


def test_an_empty_folder_is_a_refusal(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    ran = run_cli("import", "--db", str(tmp_path / "s.db"), str(tmp_path / "empty"))
    assert ran.returncode == 2
    assert "empty: no files in this folder" in ran.stderr
